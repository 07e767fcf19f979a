import { and, eq, isNull, lt, type Database } from '@tally/db';
import { z } from 'zod';
import { STRIPE_TEST_CLOCK_ID_PATTERN } from '../../subscriptions/payload';
import type { HandlerOutcome, StripeEventHandler } from '../types';

const TestClockPayload = z.object({
  id: z.string().regex(STRIPE_TEST_CLOCK_ID_PATTERN),
  object: z.literal('test_helpers.test_clock'),
  frozen_time: z.number().int().min(0).max(100_000_000_000),
  livemode: z.boolean().nullish(),
});

/**
 * The workspaces a test clock event may describe: the receiving workspace for a workspace URL;
 * for the deployment endpoint (the deployment's Stripe account), every workspace that uses the
 * deployment's Stripe (no keys of its own). A clock row is kept per workspace, as its
 * subscriptions are (`stripeNowFor` reads it), so the time is known before the first
 * subscription on the clock is mirrored, whatever the order.
 */
async function workspacesFor(db: Database, receiptWorkspaceId: string | null): Promise<string[]> {
  if (receiptWorkspaceId) return [receiptWorkspaceId];
  const { workspaces: w, workspaceStripeAccounts: a } = db.t;
  const rows = await db.q.select({ id: w.id }).from(w).leftJoin(a, eq(a.workspaceId, w.id)).where(isNull(a.workspaceId));
  return rows.map((r) => r.id);
}

/**
 * `test_helpers.test_clock.ready` and `.advancing`: record the clock's `frozen_time` (the "now"
 * of the subscriptions of customers on it, stripe.com/docs/billing/testing/test-clocks) in
 * `stripe_test_clocks`, forward only: an upsert whose update lands only when the stored time is
 * earlier, so a stale or duplicate event never moves a clock back. Live-mode or unparsable
 * payloads are `ignored`.
 * Source: stripe.com/docs/api/test_clocks/object
 */
export const handleTestClock: StripeEventHandler = async ({ db, event, receipt }): Promise<HandlerOutcome> => {
  const parsed = TestClockPayload.safeParse(event.data?.object);
  if (!parsed.success) return { status: 'ignored', outcome: 'Not a Stripe test clock payload Tally understands' };
  const clock = parsed.data;
  if (clock.livemode === true || event.livemode === true) return { status: 'ignored', outcome: `Test clock ${clock.id} in a live-mode event` };
  const frozenTime = new Date(clock.frozen_time * 1000);
  const targets = await workspacesFor(db, receipt.workspaceId);
  const { stripeTestClocks: c } = db.t;
  for (const workspaceId of targets) {
    await db.q
      .insert(c)
      .values({ workspaceId, stripeTestClockId: clock.id, frozenTime, updatedAt: new Date() })
      .onConflictDoUpdate({
        target: [c.workspaceId, c.stripeTestClockId],
        set: { frozenTime, updatedAt: new Date() },
        setWhere: and(eq(c.workspaceId, workspaceId), eq(c.stripeTestClockId, clock.id), lt(c.frozenTime, frozenTime)),
      });
  }
  if (targets.length === 0) return { status: 'ignored', outcome: `Test clock ${clock.id}: no workspace uses this Stripe account` };
  return {
    status: 'processed',
    outcome: `Test clock ${clock.id} at ${frozenTime.toISOString()} or later (${targets.length} workspace${targets.length === 1 ? '' : 's'})`,
    workspaceId: receipt.workspaceId ?? (targets.length === 1 ? targets[0] : null),
  };
};
