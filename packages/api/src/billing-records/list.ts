import { and, desc, eq, gte, inArray, lt, ne, or, type Database } from '@tally/db';
import type { SQL } from 'drizzle-orm';
import type { Actor } from '../context';
import { AppError } from '../errors';
import { utcDate, type BillingRecordListInput } from '../schemas/billing-records';
import type { ApiConfig } from '../services';
import { findWorkspaceForAdmin } from '../workspaces/find-for-admin';
import { viewsOf, type BillingRecordView } from './view';

/**
 * Billing records, newest first, `limit` per page; `nextCursor` (the last id, UUIDv7) or null.
 * - `audience: 'admin'`: every record of the selected workspace (`selectedWorkspaceId`, else the
 *   caller's first); `customerId` must be one of its customers.
 * - `audience: 'customer'`: records of the customers the caller is a member of; `customerId`
 *   narrows to one of them.
 * `status` filters exactly; `overdue: true` keeps DUE records whose due date has passed (UTC),
 * `overdue: false` the others.
 * @throws AppError FORBIDDEN (admin audience, not an admin of the selected workspace),
 * NOT_FOUND (`customerId` not in the workspace, or not one of the caller's customers).
 */
export async function listBillingRecords({
  ctx,
  input,
  now = new Date(),
}: {
  ctx: { db: Database; config: ApiConfig; actor: Actor; selectedWorkspaceId: string | null };
  input: BillingRecordListInput;
  now?: Date;
}): Promise<{ items: BillingRecordView[]; nextCursor: string | null }> {
  const { db } = ctx;
  const { billingRecords: r, customers: c, customerMemberships: m } = db.t;
  const today = utcDate(now);

  let scope: SQL | undefined;
  if (input.audience === 'admin') {
    const workspace = await findWorkspaceForAdmin({ db, userId: ctx.actor.userId, workspaceId: ctx.selectedWorkspaceId });
    if (!workspace) throw new AppError('FORBIDDEN', ctx.selectedWorkspaceId ? 'You are not an admin of the selected workspace' : 'Workspace admins only');
    if (input.customerId) {
      const [customer] = await db.q
        .select({ id: c.id })
        .from(c)
        .where(and(eq(c.id, input.customerId), eq(c.workspaceId, workspace.id)))
        .limit(1);
      if (!customer) throw new AppError('NOT_FOUND', 'Customer not found');
    }
    scope = and(eq(r.workspaceId, workspace.id), input.customerId ? eq(r.customerId, input.customerId) : undefined);
  } else {
    const memberships = await db.q.select({ customerId: m.customerId }).from(m).where(eq(m.userId, ctx.actor.userId));
    const mine = memberships.map((x) => x.customerId);
    if (input.customerId && !mine.includes(input.customerId)) throw new AppError('NOT_FOUND', 'Customer not found');
    const customerIds = input.customerId ? [input.customerId] : mine;
    if (customerIds.length === 0) return { items: [], nextCursor: null };
    scope = inArray(r.customerId, customerIds);
  }

  const overdue = and(eq(r.status, 'DUE'), lt(r.dueDate, today));
  const rows = await db.q
    .select({ record: r, customerName: c.name })
    .from(r)
    .innerJoin(c, eq(c.id, r.customerId))
    .where(
      and(
        scope,
        input.status ? eq(r.status, input.status) : undefined,
        input.overdue === true ? overdue : input.overdue === false ? or(ne(r.status, 'DUE'), gte(r.dueDate, today)) : undefined,
        input.cursor ? lt(r.id, input.cursor) : undefined,
      ),
    )
    .orderBy(desc(r.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const items = await viewsOf(db, page, { audience: input.audience, webUrl: ctx.config.webUrl, today });
  return { items, nextCursor: rows.length > input.limit ? (page.at(-1)?.record.id ?? null) : null };
}
