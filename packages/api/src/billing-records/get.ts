import type { Database } from '@tally/db';
import type { Actor } from '../context';
import { AppError } from '../errors';
import type { BillingRecordGetInput } from '../schemas/billing-records';
import type { ApiConfig } from '../services';
import { findWorkspaceForAdmin } from '../workspaces/find-for-admin';
import { findRecordForAdmin, findRecordForMember } from './find-accessible';
import { viewsOf, type BillingRecordView } from './view';

/**
 * One billing record as a `BillingRecordView`: for `audience: 'admin'` a record of the
 * selected workspace (with `payUrl`), for `customer` a record of one of the caller's customers.
 * @throws AppError FORBIDDEN (admin audience, not an admin of the selected workspace),
 * NOT_FOUND (unknown id, another workspace's or another customer's record).
 */
export async function getBillingRecord({
  ctx,
  input,
}: {
  ctx: { db: Database; config: ApiConfig; actor: Actor; selectedWorkspaceId: string | null };
  input: BillingRecordGetInput;
}): Promise<BillingRecordView> {
  const { db } = ctx;
  let found;
  if (input.audience === 'admin') {
    const workspace = await findWorkspaceForAdmin({ db, userId: ctx.actor.userId, workspaceId: ctx.selectedWorkspaceId });
    if (!workspace) throw new AppError('FORBIDDEN', ctx.selectedWorkspaceId ? 'You are not an admin of the selected workspace' : 'Workspace admins only');
    found = await findRecordForAdmin({ db, workspaceId: workspace.id, recordId: input.recordId });
  } else {
    found = await findRecordForMember({ db, userId: ctx.actor.userId, recordId: input.recordId });
  }
  const [view] = await viewsOf(db, [found], { audience: input.audience, webUrl: ctx.config.webUrl });
  return view!;
}
