import type { Database } from '@tally/db';
import { resolveCustomerForActor } from '../customers/resolve-for-actor';
import { AppError } from '../errors';
import { findWorkspaceForAdmin } from '../workspaces/find-for-admin';
import type { BillingStreamAudience } from './messages';

/**
 * Which billing stream messages a signed-in user may receive (issue 10 item 1: "an admin gets
 * only their workspace, a customer member only their customer"):
 * - `customerId` given: that customer, if the user is its member (`resolveCustomerForActor`).
 * - `workspaceId` given: that whole workspace, if the user is its admin (`findWorkspaceForAdmin`,
 *   as `adminProcedure` resolves `X-Tally-Workspace`; EventSource cannot send headers, so the
 *   SPA passes it here).
 * - Neither: the user's first administered workspace (as `adminProcedure` does without a
 *   selection), else their oldest customer membership.
 * Returns `{ workspaceId }` (admin) or `{ workspaceId, customerId }` (customer member).
 * @throws AppError FORBIDDEN (not an admin of `workspaceId`, or neither admin nor member of
 * anything), NOT_FOUND (not a member of `customerId`: another tenant's id reads as missing).
 */
export async function resolveStreamAudience({
  db,
  userId,
  workspaceId,
  customerId,
}: {
  db: Database;
  userId: string;
  workspaceId?: string | null;
  customerId?: string | null;
}): Promise<BillingStreamAudience> {
  if (customerId) {
    const customer = await resolveCustomerForActor({ db, userId, customerId });
    return { workspaceId: customer.workspaceId, customerId: customer.id };
  }
  if (workspaceId) {
    const workspace = await findWorkspaceForAdmin({ db, userId, workspaceId });
    if (!workspace) throw new AppError('FORBIDDEN', 'You are not an admin of the selected workspace');
    return { workspaceId: workspace.id };
  }
  const workspace = await findWorkspaceForAdmin({ db, userId });
  if (workspace) return { workspaceId: workspace.id };
  try {
    const customer = await resolveCustomerForActor({ db, userId });
    return { workspaceId: customer.workspaceId, customerId: customer.id };
  } catch (err) {
    if (err instanceof AppError && err.code === 'NOT_FOUND') throw new AppError('FORBIDDEN', 'Live billing updates are for workspace admins and customer members');
    throw err;
  }
}
