import Stripe from 'stripe';
import { AppError } from '../errors';
import type { Logger } from '../logger';

/** What customers are told when Stripe refuses or cannot be reached (issue 6: Stripe's own text never reaches them). */
export const PAYMENTS_UNAVAILABLE = 'Payments are unavailable right now';

/**
 * Log a failed Stripe call for operators and return the customer-facing error.
 *
 * The log line carries our request id (`requestId`, also in the response's `X-Request-Id`),
 * the step, ids passed in `ids`, and Stripe's own `type` (and the SDK's error class), `code`, `statusCode`, `requestId`
 * (`req_...`, what Stripe support asks for) and message (Stripe redacts keys in it, e.g.
 * `sk_live_****9876`). The returned error is BAD_GATEWAY with `PAYMENTS_UNAVAILABLE` only.
 * Source: stripe.com/docs/error-handling (error object fields), stripe.com/docs/api/request_ids.
 */
export function stripeUnavailable({
  logger,
  requestId,
  step,
  err,
  ids = {},
}: {
  logger: Logger;
  requestId: string;
  /** The Stripe call that failed, e.g. `checkout.sessions.create`. */
  step: string;
  err: unknown;
  ids?: Record<string, string>;
}): AppError {
  const fields: Record<string, unknown> = { requestId, step, ...ids };
  if (err instanceof Stripe.errors.StripeError) {
    Object.assign(fields, {
      stripeErrorClass: err.type,
      stripeErrorType: err.rawType ?? null,
      stripeCode: err.code ?? null,
      stripeStatusCode: err.statusCode ?? null,
      stripeRequestId: err.requestId ?? null,
      err: err.message.slice(0, 500),
    });
  } else {
    fields.err = err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500);
  }
  logger.error(fields, `Stripe call ${step} failed`);
  return new AppError('BAD_GATEWAY', PAYMENTS_UNAVAILABLE, { cause: err });
}
