import type { Actor } from '../context';
import type { BillingRecordPayInput } from '../schemas/billing-records';
import { findRecordForPayer } from './find-accessible';
import { startBillingRecordCheckout, type StartCheckoutContext } from './start-checkout';

/**
 * `billingRecord.pay`: a signed-in member of the record's customer, or an admin of its
 * workspace, starts a Checkout Session for it (see `startBillingRecordCheckout`). Stripe
 * redirects back to `<origin>/billing?paid=<recordId>` (or `?cancelled=<recordId>`).
 * Returns `{ url }`.
 * @throws AppError NOT_FOUND (unknown id, or the caller is neither a member nor an admin), and
 * every error of `startBillingRecordCheckout` (PRECONDITION_FAILED, FORBIDDEN, CONFLICT,
 * TOO_MANY_REQUESTS, BAD_GATEWAY).
 */
export async function payBillingRecord({ ctx, input }: { ctx: StartCheckoutContext & { actor: Actor }; input: BillingRecordPayInput }): Promise<{ url: string }> {
  const { record } = await findRecordForPayer({ db: ctx.db, userId: ctx.actor.userId, recordId: input.recordId });
  const { url } = await startBillingRecordCheckout({
    ctx,
    record,
    startedByUserId: ctx.actor.userId,
    redirect: (origin) => ({ successUrl: `${origin}/billing?paid=${record.id}`, cancelUrl: `${origin}/billing?cancelled=${record.id}` }),
  });
  return { url };
}
