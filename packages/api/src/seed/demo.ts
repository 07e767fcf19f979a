import { eq, run, type Database } from '@tally/db';
import { hashPassword } from 'better-auth/crypto';
import { newId } from '../ids';
import { ensurePrimaryWorkspace } from '../workspaces/ensure-primary';

/** Demo sign-ins printed by `pnpm dev`. Development data only: never used in production. */
export const DEMO_SIGN_INS = {
  admin: { email: 'admin@demo.tally.test', password: 'demo-admin-password', name: 'Demo Admin' },
  customer: { email: 'customer@demo.tally.test', password: 'demo-customer-password', name: 'Demo Customer' },
} as const;

/**
 * Seed (idempotently) a demo workspace with one admin and one customer user. Users are
 * written directly, with better-auth's own password hash, so sign-up hooks do not run.
 */
export async function seedDemo({ db, currency = 'usd' }: { db: Database; currency?: string }) {
  const workspace = await ensurePrimaryWorkspace({ db, name: 'Demo workspace', currency });
  const t = db.t;
  const existing = await db.q.select({ id: t.users.id }).from(t.users).where(eq(t.users.email, DEMO_SIGN_INS.admin.email));
  if (existing.length > 0) return { workspaceId: workspace.id, created: false };

  const adminHash = await hashPassword(DEMO_SIGN_INS.admin.password);
  const customerHash = await hashPassword(DEMO_SIGN_INS.customer.password);
  const adminId = newId();
  const customerUserId = newId();
  const customerId = newId();
  await db.transaction(function* (tx) {
    for (const [user, id, hash] of [
      [DEMO_SIGN_INS.admin, adminId, adminHash],
      [DEMO_SIGN_INS.customer, customerUserId, customerHash],
    ] as const) {
      yield* run(tx.insert(t.users).values({ id, name: user.name, email: user.email, emailVerified: true }));
      yield* run(tx.insert(t.accounts).values({ id: newId(), accountId: id, providerId: 'credential', userId: id, password: hash }));
    }
    yield* run(tx.insert(t.workspaceMembers).values({ id: newId(), workspaceId: workspace.id, userId: adminId, role: 'admin' }));
    yield* run(tx.insert(t.customers).values({ id: customerId, workspaceId: workspace.id, name: 'Demo Customer Inc.', email: DEMO_SIGN_INS.customer.email }));
    yield* run(tx.insert(t.customerMemberships).values({ id: newId(), customerId, userId: customerUserId, role: 'owner' }));
  });
  return { workspaceId: workspace.id, created: true };
}
