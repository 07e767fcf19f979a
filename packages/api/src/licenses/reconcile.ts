import type { Database } from '@tally/db';
import type { SecretKeyring } from '../secrets/encryption';

/**
 * STUB (owned by the licenses work): bring a subscription's licenses in line with its mirror
 * (issue one per seat for a licensing plan, suspend, revoke, revoke newest when seats drop).
 * Idempotent; safe to call after every subscription sync and on reads.
 */
export async function reconcileLicensesForSubscription(_db: Database, _opts: { subscriptionId: string; keyring: SecretKeyring | null; graceDays: number }): Promise<void> {}
