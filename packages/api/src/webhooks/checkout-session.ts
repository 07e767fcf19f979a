/**
 * The part of a Checkout Session object Tally relies on, parsed defensively: payloads of
 * any API version, or foreign sessions, must never crash processing.
 * Source: stripe.com/docs/api/checkout/sessions/object
 */
import { z } from 'zod';

export const CheckoutSessionPayload = z.object({
  id: z.string().startsWith('cs_'),
  object: z.literal('checkout.session'),
  mode: z.string().nullish(),
  status: z.string().nullish(),
  payment_status: z.string().nullish(),
  amount_total: z.number().int().nonnegative().nullish(),
  currency: z.string().regex(/^[a-zA-Z]{3}$/).nullish(),
  client_reference_id: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  payment_intent: z.union([z.string(), z.object({ id: z.string() })]).nullish(),
});
export type CheckoutSessionPayload = z.infer<typeof CheckoutSessionPayload>;

/** The top-up id a session carries (`client_reference_id`, else `metadata.tally_topup_id`). */
export function topupIdOf(session: CheckoutSessionPayload): string | null {
  return session.client_reference_id ?? session.metadata?.tally_topup_id ?? null;
}

export function paymentIntentIdOf(session: CheckoutSessionPayload): string | null {
  const pi = session.payment_intent;
  if (!pi) return null;
  return typeof pi === 'string' ? pi : pi.id;
}
