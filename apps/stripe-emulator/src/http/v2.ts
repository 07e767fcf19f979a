import type { Request, RequestHandler } from 'express';
import { StripeApiError, invalidRequest } from './errors';

/**
 * API v2 (https://docs.stripe.com/api-v2-overview) as far as the emulator serves it: JSON bodies
 * (the SDK and the CLI send `Content-Type: application/json`; an empty body is `{}`), the
 * `Stripe-Version` header each request carries, and errors as `{"error": {type, code, message}}`
 * (plus `param` when one parameter is at fault). The SDK (`generateV2Error`) picks the error class
 * from `type` (e.g. `temporary_session_expired` → `TemporarySessionExpiredError`), then from the
 * HTTP status like v1 (401 → `StripeAuthenticationError`, 400/404 → `StripeInvalidRequestError`).
 */

/** Whether a request is for the v2 API. */
export const isV2Request = (req: Request) => req.originalUrl.startsWith('/v2/') || req.originalUrl === '/v2';

/** The v2 error body for a v1-shaped error: `type`, `code` (a default by HTTP status when it had none), `message`, `param`. */
export function v2ErrorBody(error: StripeApiError): { type: string; code: string; message: string; param?: string } {
  const { type, message, param } = error.body;
  const code = error.body.code ?? DEFAULT_CODES[error.status] ?? 'api_error';
  return { type, code, message, ...(param ? { param } : {}) };
}

/** `code` of v2 errors whose v1 form had none (Stripe does not document these for v2; the emulator's choice). */
const DEFAULT_CODES: Record<number, string> = {
  400: 'invalid_fields',
  401: 'invalid_api_key',
  404: 'not_found',
  500: 'internal_error',
};

const API_VERSION = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

/**
 * Accepts the `Stripe-Version` header of v2 requests (the SDK sends its pinned version, the CLI's
 * fixtures `2024-09-30.acacia`): any well-formed version, or none; a malformed one is a 400.
 * Objects are rendered the same whatever the version.
 */
export const checkStripeVersion: RequestHandler = (req, _res, next) => {
  const version = req.get('stripe-version');
  if (version !== undefined && !API_VERSION.test(version.trim())) {
    throw invalidRequest(`Invalid Stripe API version: ${version}`, { param: 'Stripe-Version', code: 'invalid_fields' });
  }
  next();
};

/** The error answered for a request to a v2 URL the emulator does not serve. */
export function unrecognizedV2Url(req: Request): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'not_found',
    message: `Unrecognized request URL (${req.method}: ${req.baseUrl}${req.path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });
}
