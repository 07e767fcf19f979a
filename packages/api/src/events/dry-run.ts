/**
 * What a replay would do, for `--dry-run` (issue 10 item 2): the handler an event's type goes
 * to and, where it is cheap to tell (Checkout Sessions), the row it would act on and the
 * change it would attempt. Reads only: nothing is written and Stripe is never called.
 */
import { and, eq, type Database } from '@tally/db';
import type Stripe from 'stripe';
import { billingRecordReferenceOf, CheckoutSessionPayload, claimsBillingRecord, claimsTopup, topupReferenceOf } from '../webhooks/checkout-session';
import { stripeEventHandlers } from '../webhooks/handlers/index';
import { receiptAccepts, type EventReceipt } from '../webhooks/types';

/** Which handler an event type goes to, in words (the names of handlers/index.ts). */
export function handlerNameOf(type: string): string | null {
  if (!stripeEventHandlers[type]) return null;
  if (type === 'checkout.session.completed') return 'handler for top-ups, billing record payments and subscription checkouts';
  if (type === 'checkout.session.async_payment_succeeded') return 'handler for top-ups and billing record payments';
  if (type === 'checkout.session.expired' || type === 'checkout.session.async_payment_failed') return 'handler closing top-up and billing record Checkout Sessions';
  if (type.startsWith('customer.subscription.')) return 'subscription mirror handler';
  if (type.startsWith('invoice.')) return 'invoice mirror handler';
  if (type.startsWith('test_helpers.test_clock.')) return 'test clock handler';
  return 'handler';
}

const units = (amountMinor: number, currency: string) => `${amountMinor.toLocaleString('en-US')} ${currency} minor units`;

/**
 * One line saying what replaying `event` (now `status`) would do, e.g.
 * "checkout.session.completed -> handler for top-ups, ...; top-up <id> pending, would be
 * credited 2,000 usd minor units; failed -> processed, ignored or anomaly, as the handler decides".
 */
export async function describeReplay(db: Database, event: Stripe.Event, receipt: EventReceipt, status: string): Promise<string> {
  const handler = handlerNameOf(event.type);
  if (!handler) return `${event.type} -> no handler; would be marked ${status} -> ignored`;
  const parts = [`${event.type} -> ${handler}`];
  if (event.type.startsWith('checkout.session.')) {
    const effect = await checkoutEffect(db, event, receipt).catch(() => null);
    if (effect) parts.push(effect);
  }
  parts.push(`would move ${status} -> processed, ignored or anomaly, as the handler decides`);
  return parts.join('; ');
}

async function checkoutEffect(db: Database, event: Stripe.Event, receipt: EventReceipt): Promise<string | null> {
  const parsed = CheckoutSessionPayload.safeParse(event.data?.object);
  if (!parsed.success) return 'not a Checkout Session payload Tally understands: would be ignored';
  const session = parsed.data;
  const paying = event.type === 'checkout.session.completed' || event.type === 'checkout.session.async_payment_succeeded';
  const paid = session.payment_status === 'paid' || session.payment_status === 'no_payment_required';
  const { topups, billingRecords, billingRecordCheckouts } = db.t;
  let recordId: string | null = null;
  if (!claimsTopup(session)) {
    const ref = billingRecordReferenceOf(session);
    if (claimsBillingRecord(session) && 'recordId' in ref) recordId = ref.recordId;
    else {
      const [checkout] = await db.q.select({ recordId: billingRecordCheckouts.billingRecordId }).from(billingRecordCheckouts).where(eq(billingRecordCheckouts.stripeCheckoutSessionId, session.id)).limit(1);
      recordId = checkout?.recordId ?? null;
    }
  }
  if (recordId) {
    const [record] = await db.q.select().from(billingRecords).where(eq(billingRecords.id, recordId)).limit(1);
    if (!record || !receiptAccepts(receipt, record.workspaceId)) return `no billing record ${recordId} for this endpoint: would be ignored`;
    if (!paying) return `billing record ${record.id} ${record.status}: its Checkout Session would be closed`;
    return record.status === 'DUE' && paid
      ? `billing record ${record.id} DUE, would be marked PAID for ${units(record.amountMinor, record.currency)}`
      : `billing record ${record.id} ${record.status}: the payment would be recorded as the handler decides (PAID or VOID records get an overpayment credit)`;
  }
  const ref = topupReferenceOf(session);
  if (!('topupId' in ref)) return session.mode === 'subscription' ? 'subscription checkout: the subscription mirror would be updated' : 'no Tally top-up reference: would be ignored';
  const [topup] = await db.q.select().from(topups).where(and(eq(topups.id, ref.topupId), eq(topups.stripeCheckoutSessionId, session.id))).limit(1);
  if (!topup || !receiptAccepts(receipt, topup.workspaceId)) return `no top-up ${ref.topupId} for Checkout Session ${session.id}: would be ignored`;
  if (!paying) return topup.status === 'pending' ? `top-up ${topup.id} pending, would be marked ${event.type.endsWith('expired') ? 'expired' : 'failed'}` : `top-up ${topup.id} ${topup.status}: would be left as it is`;
  if (topup.status !== 'pending') return `top-up ${topup.id} ${topup.status}: nothing more to credit`;
  if (!paid) return `top-up ${topup.id} pending: payment status ${session.payment_status ?? 'unknown'}, nothing would be credited yet`;
  return `top-up ${topup.id} pending, would be credited ${units(topup.amountMinor, topup.currency)} (if the session's amount, currency and mode match; else anomaly)`;
}
