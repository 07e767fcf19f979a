import { and, eq, type Database, type Subscription } from '@tally/db';
import { deriveAccess, type Access } from './access';

/**
 * "Now" for a subscription: its test clock's frozen time when it lives on a Stripe test clock
 * (stripe.com/docs/billing/testing/test-clocks) and Tally has seen that clock, else `now`.
 */
export async function stripeNowFor(db: Database, subscription: Pick<Subscription, 'workspaceId' | 'stripeTestClockId' | 'livemode'>, now: Date = new Date()): Promise<Date> {
  if (!subscription.stripeTestClockId || subscription.livemode) return now;
  const { stripeTestClocks: c } = db.t;
  const [clock] = await db.q
    .select({ frozenTime: c.frozenTime })
    .from(c)
    .where(and(eq(c.workspaceId, subscription.workspaceId), eq(c.stripeTestClockId, subscription.stripeTestClockId)));
  return clock?.frozenTime ?? now;
}

/** A customer's access and the subscription it comes from (null without one). */
export interface CustomerAccess extends Access {
  subscription: Subscription | null;
  /** The time access was judged at (a test clock's time for test-clock customers), so callers can show it. */
  evaluatedAt: Date;
}

/**
 * The access of a customer of `workspaceId`: `deriveAccess` of the subscription that decides it
 * (best access, then newest), judged at Stripe's "now" for it.
 * A customer id of another workspace reads as no subscription; callers check ownership first.
 */
export async function accessForCustomer(db: Database, { workspaceId, customerId, graceDays, now = new Date() }: { workspaceId: string; customerId: string; graceDays: number; now?: Date }): Promise<CustomerAccess> {
  const { subscriptions: s } = db.t;
  const rows = await db.q.select().from(s).where(and(eq(s.workspaceId, workspaceId), eq(s.customerId, customerId)));
  // Each subscription is judged at its own clock (only test-clock customers differ).
  const judged = await Promise.all(rows.map(async (row) => ({ row, at: await stripeNowFor(db, row, now) })));
  const byId = new Map(judged.map((j) => [j.row.id, j.at]));
  let best: Subscription | null = null;
  if (judged.length > 0) {
    const ranked = judged.map(({ row, at }) => ({ ...row, _access: deriveAccess(row, { now: at, graceDays }) }));
    const rank = { active: 3, trialing: 2, grace: 1, none: 0 } as const;
    ranked.sort((a, b) => rank[b._access.access] - rank[a._access.access] || (b.stripeCreated ?? b.createdAt).getTime() - (a.stripeCreated ?? a.createdAt).getTime());
    best = rows.find((r) => r.id === ranked[0]!.id) ?? null;
  }
  const evaluatedAt = best ? (byId.get(best.id) ?? now) : now;
  return { ...deriveAccess(best, { now: evaluatedAt, graceDays }), subscription: best, evaluatedAt };
}
