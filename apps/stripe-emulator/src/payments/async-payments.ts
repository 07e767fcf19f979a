import type { EmulatorContext } from '../core/context';
import { NO_REQUEST } from '../core/events';
import { settleProcessingPayment } from './pay';

/**
 * Settles every `processing` PaymentIntent (SEPA debits) as its test IBAN says (see
 * `settleProcessingPayment`) and tells their Checkout Sessions: a paid session becomes
 * `payment_status: paid` with `checkout.session.async_payment_succeeded`; a failed one stays
 * `unpaid` with `checkout.session.async_payment_failed`
 * (https://docs.stripe.com/checkout/fulfillment#delayed-notification). Run by the emulator's
 * sweep timer, so results arrive shortly after the confirmation, never inside it.
 */
export function settleProcessingPayments(ctx: EmulatorContext): void {
  for (const intent of ctx.store.paymentIntents.all()) {
    if (intent.status !== 'processing') continue;
    const settled = settleProcessingPayment(ctx, intent, NO_REQUEST);
    const session = ctx.store.checkoutSessions.all().find((candidate) => candidate.payment_intent === intent.id);
    if (!session) continue;
    if (settled.status === 'succeeded') {
      const paid = ctx.store.checkoutSessions.put({ ...session, payment_status: 'paid' });
      ctx.events.publish({ type: 'checkout.session.async_payment_succeeded', object: paid, request: NO_REQUEST });
    } else {
      ctx.events.publish({ type: 'checkout.session.async_payment_failed', object: session, request: NO_REQUEST });
    }
  }
}
