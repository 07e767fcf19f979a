/**
 * The part of a Checkout Session object Tally relies on, parsed defensively: payloads of
 * any API version, or foreign sessions, must never crash processing. Every value that
 * reaches a query or a text column is shape-checked here (ids by pattern, so a NUL byte or
 * an oversized string never reaches the database).
 * Source: stripe.com/docs/api/checkout/sessions/object
 */
import { z } from 'zod';
import { CHECKOUT_SESSION_ID_PATTERN } from '../schemas';

/** Stripe PaymentIntent ids (`pi_...`). */
const PAYMENT_INTENT_ID_PATTERN = /^pi_[A-Za-z0-9_]{1,255}$/;
const tallyId = z.uuid();

export const CheckoutSessionPayload = z.object({
  id: z.string().regex(CHECKOUT_SESSION_ID_PATTERN),
  object: z.literal('checkout.session'),
  mode: z.unknown(),
  status: z.string().nullish(),
  payment_status: z.string().nullish(),
  /** Compared with what Tally asked for (payment-mismatches.ts): any type is kept, never trusted. */
  amount_total: z.unknown(),
  currency: z.unknown(),
  client_reference_id: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  payment_intent: z.union([z.string(), z.object({ id: z.string() })]).nullish(),
});
export type CheckoutSessionPayload = z.infer<typeof CheckoutSessionPayload>;

const parsedSessions = new WeakMap<object, ReturnType<typeof CheckoutSessionPayload.safeParse>>();

/**
 * `CheckoutSessionPayload.safeParse(event.data.object)`, parsed once per event object (the
 * router and then the handler both read it).
 */
export function parseCheckoutSession(event: { data?: { object?: unknown } }): ReturnType<typeof CheckoutSessionPayload.safeParse> {
  const object = event.data?.object;
  if (typeof object !== 'object' || object === null) return CheckoutSessionPayload.safeParse(object);
  let parsed = parsedSessions.get(object);
  if (!parsed) {
    parsed = CheckoutSessionPayload.safeParse(object);
    parsedSessions.set(object, parsed);
  }
  return parsed;
}

/**
 * The top-up a session refers to (`client_reference_id`, else `metadata.tally_topup_id`):
 * `{ topupId }` when it is a Tally id (a UUID), `{ none }` when the session carries no
 * reference, `{ foreign }` when it carries one that cannot be ours (never queried).
 */
export function topupReferenceOf(session: CheckoutSessionPayload): { topupId: string } | { none: true } | { foreign: true } {
  const ref = session.client_reference_id ?? session.metadata?.tally_topup_id ?? null;
  if (ref === null || ref === '') return { none: true };
  return tallyId.safeParse(ref).success ? { topupId: ref } : { foreign: true };
}

/** The session's PaymentIntent id when it has the `pi_...` shape, else null (stored on the top-up). */
export function paymentIntentIdOf(session: CheckoutSessionPayload): string | null {
  const pi = session.payment_intent;
  if (!pi) return null;
  const id = typeof pi === 'string' ? pi : pi.id;
  return PAYMENT_INTENT_ID_PATTERN.test(id) ? id : null;
}

/**
 * The billing record a session claims (`metadata.tally_billing_record_id`, else
 * `client_reference_id`), with the checkout attempt (`metadata.tally_attempt`, a positive
 * integer) when present: `{ recordId, attempt }` when it is a Tally id, `{ none }` without a
 * reference, `{ foreign }` when the reference cannot be ours (never queried). A top-up
 * session's `client_reference_id` is a Tally id too: callers check the session id against
 * `billing_record_checkouts` before treating it as a billing record's.
 */
export function billingRecordReferenceOf(session: CheckoutSessionPayload): { recordId: string; attempt: number | null } | { none: true } | { foreign: true } {
  const ref = session.metadata?.tally_billing_record_id ?? session.client_reference_id ?? null;
  if (ref === null || ref === '') return { none: true };
  if (!tallyId.safeParse(ref).success) return { foreign: true };
  const raw = session.metadata?.tally_attempt;
  const attempt = raw !== undefined && /^[1-9]\d{0,8}$/.test(raw) ? Number(raw) : null;
  return { recordId: ref, attempt };
}

/** Whether the session's metadata says it is a billing record's (set by Tally on every billing record session). */
export function claimsBillingRecord(session: CheckoutSessionPayload): boolean {
  return typeof session.metadata?.tally_billing_record_id === 'string';
}

/** Whether the session's metadata says it is a top-up's. */
export function claimsTopup(session: CheckoutSessionPayload): boolean {
  return typeof session.metadata?.tally_topup_id === 'string';
}

/** The session's `payment_status` when it has Stripe's shape (`paid`, `unpaid`, `no_payment_required`), else null: safe to store. */
export function paymentStatusOf(session: CheckoutSessionPayload): string | null {
  const s = session.payment_status;
  return typeof s === 'string' && /^[a-z_]{1,40}$/.test(s) ? s : null;
}
