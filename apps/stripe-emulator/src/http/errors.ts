import type Stripe from 'stripe';

/** The `type` of a Stripe API error (https://docs.stripe.com/api/errors; `temporary_session_expired` is v2 only). */
export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error' | 'temporary_session_expired';

/** The object under `error` in a Stripe error response. */
export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  advice_code?: string;
  param?: string;
  doc_url?: string;
  charge?: string;
  payment_intent?: Stripe.PaymentIntent;
  payment_method?: Stripe.PaymentMethod;
  setup_intent?: Stripe.SetupIntent;
}

/** An error answered as `{ "error": body }` with HTTP `status`, as Stripe does. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
  }
}

/** Stripe's documentation page for an error code, e.g. `card_declined` → `.../error-codes/card-declined`. */
export function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`;
}

/** A 400 `invalid_request_error`, optionally naming the offending `param` (bracket notation) and `code`. */
export function invalidRequest(message: string, options: { param?: string; code?: string } = {}): StripeApiError {
  const { param, code } = options;
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code, doc_url: docUrl(code) } : {}),
    ...(param ? { param } : {}),
  });
}

/**
 * `resource_missing`, worded as Stripe does (`No such customer: 'cus_x'`): 404 for the object
 * in the URL (`param` `id`), 400 for an id passed in a parameter (e.g. `customer`).
 */
export function resourceMissing(label: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(param === 'id' ? 404 : 400, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    doc_url: docUrl('resource_missing'),
    message: `No such ${label}: '${id}'`,
    param,
  });
}

/** A 401 for a missing or unusable API key (Stripe answers these with type `invalid_request_error`). */
export function authenticationError(message: string): StripeApiError {
  return new StripeApiError(401, { type: 'invalid_request_error', message });
}
