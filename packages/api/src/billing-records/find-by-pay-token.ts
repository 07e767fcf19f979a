import { eq, type Database } from '@tally/db';
import { AppError } from '../errors';
import { PAY_TOKEN_PATTERN } from '../schemas/billing-records';
import type { BillingRecordRow } from './view';

/**
 * The record behind a pay link token, with its customer's and workspace's names. The token's
 * shape (43 base64url characters) is checked before the query.
 * @throws AppError NOT_FOUND for a malformed or unknown token.
 */
export async function findRecordByPayToken({ db, token }: { db: Database; token: string }): Promise<{ record: BillingRecordRow; customerName: string; workspaceName: string }> {
  if (!PAY_TOKEN_PATTERN.test(token)) throw new AppError('NOT_FOUND', 'Pay link not found');
  const { billingRecords: r, customers: c, workspaces: w } = db.t;
  const [row] = await db.q
    .select({ record: r, customerName: c.name, workspaceName: w.name })
    .from(r)
    .innerJoin(c, eq(c.id, r.customerId))
    .innerJoin(w, eq(w.id, r.workspaceId))
    .where(eq(r.payToken, token))
    .limit(1);
  if (!row) throw new AppError('NOT_FOUND', 'Pay link not found');
  return row;
}
