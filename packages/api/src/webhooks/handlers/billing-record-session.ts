import { and, eq, isNull, type BillingRecordCheckout, type Database } from '@tally/db';
import type Stripe from 'stripe';
import type { BillingRecordRow } from '../../billing-records/view';
import type { Logger } from '../../logger';
import type { StripeAccounts } from '../../stripe/accounts';
import { billingRecordReferenceOf, CheckoutSessionPayload } from '../checkout-session';
import { receiptAccepts, type EventReceipt, type HandlerOutcome, type StripeEventHandlerArgs } from '../types';

/**
 * What billing record handlers get: the handler arguments, plus (when the caller passes them)
 * the Stripe accounts and a logger, used after a record becomes PAID to expire its other open
 * Checkout Sessions. Without them that clean-up is skipped (nothing else changes).
 */
export type BillingRecordHandlerArgs = StripeEventHandlerArgs & { stripeAccounts?: StripeAccounts; logger?: Logger };

/** A verified Checkout Session event matched to a record and one of its checkout rows. */
export type BillingRecordSessionMatch =
  | { ok: true; session: CheckoutSessionPayload; record: BillingRecordRow; checkout: BillingRecordCheckout }
  | { ok: false; outcome: HandlerOutcome };

/**
 * The billing record and checkout row of a Checkout Session event, or why it is `ignored`:
 * - the payload must parse and name a Tally record id (`metadata.tally_billing_record_id`, else
 *   `client_reference_id`);
 * - the record must exist and the receipt accept its workspace (`receiptAccepts`: an event at
 *   workspace B's URL never touches A's record; it reads as unknown);
 * - the session id must be one of the record's `billing_record_checkouts` rows. One exception:
 *   when the row of the session's `metadata.tally_attempt` has no session id yet (the server
 *   stopped between creating the session and storing its id), the signed event supplies it, so
 *   such a payment is not lost.
 */
export async function findBillingRecordSession({ db, event, receipt }: { db: Database; event: Stripe.Event; receipt: EventReceipt }): Promise<BillingRecordSessionMatch> {
  const parsed = CheckoutSessionPayload.safeParse(event.data?.object);
  if (!parsed.success) return { ok: false, outcome: { status: 'ignored', outcome: 'Not a Checkout Session payload Tally understands' } };
  const session = parsed.data;
  const ref = billingRecordReferenceOf(session);
  if ('none' in ref) return { ok: false, outcome: { status: 'ignored', outcome: 'Checkout Session has no Tally billing record reference' } };
  if ('foreign' in ref) return { ok: false, outcome: { status: 'ignored', outcome: `No billing record for Checkout Session ${session.id}: its reference is not a Tally id` } };

  const { billingRecords: r, billingRecordCheckouts: k } = db.t;
  const unknown = { ok: false as const, outcome: { status: 'ignored' as const, outcome: `No billing record ${ref.recordId} for Checkout Session ${session.id}` } };
  const [record] = await db.q.select().from(r).where(eq(r.id, ref.recordId)).limit(1);
  if (!record || !receiptAccepts(receipt, record.workspaceId)) return unknown;

  let [checkout] = await db.q
    .select()
    .from(k)
    .where(and(eq(k.billingRecordId, record.id), eq(k.stripeCheckoutSessionId, session.id)))
    .limit(1);
  if (!checkout && ref.attempt !== null) {
    [checkout] = await db.q
      .update(k)
      .set({ stripeCheckoutSessionId: session.id, updatedAt: new Date() })
      .where(and(eq(k.billingRecordId, record.id), eq(k.attempt, ref.attempt), isNull(k.stripeCheckoutSessionId)))
      .returning();
  }
  if (!checkout) return unknown;
  return { ok: true, session, record, checkout };
}
