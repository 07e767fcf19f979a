import type { Database } from '@tally/db';
import { AppError } from '../errors';
import type { StripeAccounts, WorkspaceStripe } from './accounts';

/**
 * The workspace's Stripe, for a call that must reach Stripe (Checkout, customers).
 * @throws AppError CONFLICT with the reason when the workspace has no usable Stripe (no own
 * keys, no env key, not the emulator; or keys that cannot be decrypted).
 */
export async function requireStripeFor(
  { db, stripeAccounts }: { db: Database; stripeAccounts: StripeAccounts },
  workspaceId: string,
): Promise<Extract<WorkspaceStripe, { configured: true }>> {
  const stripe = await stripeAccounts.forWorkspace(db, workspaceId);
  if (!stripe.configured) throw new AppError('CONFLICT', stripe.reason);
  return stripe;
}
