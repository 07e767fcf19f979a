import { and, eq, type Database } from '@tally/db';
import { AppError } from '../errors';
import type { BillingRecordRow } from './view';

/** A record with its customer's name, once the caller may see it. */
export interface AccessibleRecord {
  record: BillingRecordRow;
  customerName: string;
}

const notFound = () => new AppError('NOT_FOUND', 'Billing record not found');

/**
 * A record of `workspaceId` (the admin's selected workspace).
 * @throws AppError NOT_FOUND for an unknown id or another workspace's record.
 */
export async function findRecordForAdmin({ db, workspaceId, recordId }: { db: Database; workspaceId: string; recordId: string }): Promise<AccessibleRecord> {
  const { billingRecords: r, customers: c } = db.t;
  const [row] = await db.q
    .select({ record: r, customerName: c.name })
    .from(r)
    .innerJoin(c, eq(c.id, r.customerId))
    .where(and(eq(r.id, recordId), eq(r.workspaceId, workspaceId)))
    .limit(1);
  if (!row) throw notFound();
  return row;
}

/**
 * A record of a customer `userId` is a member of (`customer_memberships`).
 * @throws AppError NOT_FOUND otherwise (another customer's record reads as unknown).
 */
export async function findRecordForMember({ db, userId, recordId }: { db: Database; userId: string; recordId: string }): Promise<AccessibleRecord> {
  const { billingRecords: r, customers: c, customerMemberships: m } = db.t;
  const [row] = await db.q
    .select({ record: r, customerName: c.name })
    .from(r)
    .innerJoin(c, eq(c.id, r.customerId))
    .innerJoin(m, and(eq(m.customerId, r.customerId), eq(m.userId, userId)))
    .where(eq(r.id, recordId))
    .limit(1);
  if (!row) throw notFound();
  return row;
}

/**
 * A record `userId` may pay: a member of its customer, or an admin of its workspace.
 * @throws AppError NOT_FOUND otherwise.
 */
export async function findRecordForPayer({ db, userId, recordId }: { db: Database; userId: string; recordId: string }): Promise<AccessibleRecord> {
  const { billingRecords: r, customers: c, customerMemberships: m, workspaceMembers: w } = db.t;
  const [row] = await db.q
    .select({ record: r, customerName: c.name, memberId: m.id, adminId: w.id })
    .from(r)
    .innerJoin(c, eq(c.id, r.customerId))
    .leftJoin(m, and(eq(m.customerId, r.customerId), eq(m.userId, userId)))
    .leftJoin(w, and(eq(w.workspaceId, r.workspaceId), eq(w.userId, userId), eq(w.role, 'admin')))
    .where(eq(r.id, recordId))
    .limit(1);
  if (!row || (row.memberId === null && row.adminId === null)) throw notFound();
  return { record: row.record, customerName: row.customerName };
}
