/**
 * An admin's "Generate usage invoice" for one customer and period (issue 9 item 5).
 * OWNED BY THE PERIOD-CLOSE HELPER: replace this stub.
 */
import type { Database } from '@tally/db';
import type { Actor } from '../context';
import { AppError } from '../errors';
import type { StripeAccounts } from '../stripe/accounts';

export async function generateUsageInvoice(_args: { db: Database; stripeAccounts: StripeAccounts; workspaceId: string; customerId: string; period: string; actor: Actor; requestId?: string | null }): Promise<unknown> {
  throw new AppError('PRECONDITION_FAILED', 'usage.generateInvoice is not built yet');
}
