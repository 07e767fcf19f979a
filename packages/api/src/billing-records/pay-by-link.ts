import type { Actor } from '../context';
import { findRecordByPayToken } from './find-by-pay-token';
import { startBillingRecordCheckout, type StartCheckoutContext } from './start-checkout';

/**
 * `payLink.pay` (public): whoever holds the pay link starts a Checkout Session for its record
 * (see `startBillingRecordCheckout`), signed in or not. Stripe redirects back to
 * `<origin>/pay/<token>?paid=1` (or `?cancelled=1`). Returns `{ url }`.
 * @throws AppError NOT_FOUND (malformed or unknown token), and every error of
 * `startBillingRecordCheckout` (PRECONDITION_FAILED, FORBIDDEN, CONFLICT, TOO_MANY_REQUESTS, BAD_GATEWAY).
 */
export async function payByLink({ ctx, token }: { ctx: StartCheckoutContext & { actor: Actor | null }; token: string }): Promise<{ url: string }> {
  const { record } = await findRecordByPayToken({ db: ctx.db, token });
  const { url } = await startBillingRecordCheckout({
    ctx,
    record,
    startedByUserId: ctx.actor?.userId ?? null,
    redirect: (origin) => ({ successUrl: `${origin}/pay/${token}?paid=1`, cancelUrl: `${origin}/pay/${token}?cancelled=1` }),
  });
  return { url };
}
