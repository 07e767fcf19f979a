import { randomBytes } from 'node:crypto';
import { and, eq, run, type Database } from '@tally/db';
import { hashPassword, verifyPassword } from 'better-auth/crypto';
import { newPayToken } from '../billing-records/pay-token';
import { newId } from '../ids';
import type { ApiConfig } from '../services';
import { ensurePrimaryWorkspace } from '../workspaces/ensure-primary';

/**
 * The published demo sign-ins (README, `pnpm dev`). Development only: in production the demo
 * users get generated passwords, and these never sign in there (see `seedDemo`).
 */
export const DEMO_SIGN_INS = {
  admin: { email: 'admin@demo.tally.test', password: 'demo-admin-password', name: 'Demo Admin' },
  customer: { email: 'customer@demo.tally.test', password: 'demo-customer-password', name: 'Demo Customer' },
} as const;

export type DemoRole = keyof typeof DEMO_SIGN_INS;

/** A demo user's email and the password this process knows for it. */
export interface DemoSignIn {
  email: string;
  password: string;
}

/** What `seedDemo` did, and the sign-ins to print (null: not known to this process). */
export interface SeedDemoResult {
  workspaceId: string;
  /** The demo users were created by this call. */
  created: boolean;
  /**
   * Per demo user, the password to print, or null when this process does not know it
   * (production, generated at an earlier start and printed then).
   */
  signIns: Record<DemoRole, DemoSignIn | null>;
  /** Demo users whose published password was replaced by a generated one in this call (production). */
  rotated: DemoRole[];
}

/**
 * A generated demo password: 18 random bytes (144 bits) as 24 base64url characters, far above
 * any strength estimator's top score and free of spaces and `/`, so it prints on one line.
 */
export function generateDemoPassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Seed (idempotently) a demo workspace with one admin and one customer user, both verified,
 * a second customer without users, and three DUE billing records (one overdue).
 * Users are written directly, with better-auth's own password hash (`better-auth/crypto`), so
 * sign-up hooks do not run.
 *
 * Passwords: outside production the published `DEMO_SIGN_INS`. In production (the default, so
 * a caller that forgets is safe) random ones generated here and returned once, for the caller
 * to print; and a demo user that still has its published password (a database seeded in
 * development, then started in production) gets a generated one, with its sessions ended. So
 * the published passwords never sign in to a production server.
 */
export async function seedDemo({
  db,
  currency = 'usd',
  environment = 'production',
}: {
  db: Database;
  /** ISO 4217 lowercase, of the demo workspace if it is created. */
  currency?: string;
  environment?: ApiConfig['environment'];
}): Promise<SeedDemoResult> {
  const production = environment === 'production';
  const workspace = await ensurePrimaryWorkspace({ db, name: 'Demo workspace', currency });
  const t = db.t;
  const existing = await db.q.select({ id: t.users.id }).from(t.users).where(eq(t.users.email, DEMO_SIGN_INS.admin.email));
  if (existing.length > 0) {
    const { signIns, rotated } = await reconcileDemoPasswords({ db, production });
    return { workspaceId: workspace.id, created: false, signIns, rotated };
  }

  const passwords: Record<DemoRole, string> = production
    ? { admin: generateDemoPassword(), customer: generateDemoPassword() }
    : { admin: DEMO_SIGN_INS.admin.password, customer: DEMO_SIGN_INS.customer.password };
  const adminHash = await hashPassword(passwords.admin);
  const customerHash = await hashPassword(passwords.customer);
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
    // Billing records to look at (one overdue), and a customer who never signs in: billed by pay link.
    const globexId = newId();
    yield* run(tx.insert(t.customers).values({ id: globexId, workspaceId: workspace.id, name: 'Globex Ltd', email: 'billing@globex.example' }));
    for (const [forCustomer, description, amountMinor, dueInDays] of [
      [customerId, 'Monthly support plan', 99_000, 14],
      [customerId, 'Onboarding workshop', 45_000, -14],
      [globexId, 'Implementation deposit', 250_000, 7],
    ] as const) {
      yield* run(
        tx.insert(t.billingRecords).values({
          id: newId(),
          workspaceId: workspace.id,
          customerId: forCustomer,
          description,
          amountMinor,
          currency: workspace.currency,
          dueDate: new Date(Date.now() + dueInDays * 86_400_000).toISOString().slice(0, 10),
          status: 'DUE',
          payToken: newPayToken(),
          createdByUserId: adminId,
        }),
      );
    }
  });
  return {
    workspaceId: workspace.id,
    created: true,
    signIns: {
      admin: { email: DEMO_SIGN_INS.admin.email, password: passwords.admin },
      customer: { email: DEMO_SIGN_INS.customer.email, password: passwords.customer },
    },
    rotated: [],
  };
}

/**
 * For demo users that already exist: which published passwords still verify. In production
 * each one that does is replaced by a generated password (and the user's sessions deleted);
 * elsewhere it is reported as the sign-in to print. A user whose password is something else
 * (generated earlier, or changed by its owner) is left alone and reported as null.
 */
async function reconcileDemoPasswords({ db, production }: { db: Database; production: boolean }) {
  const t = db.t;
  const signIns: Record<DemoRole, DemoSignIn | null> = { admin: null, customer: null };
  const rotated: DemoRole[] = [];
  for (const role of Object.keys(DEMO_SIGN_INS) as DemoRole[]) {
    const published = DEMO_SIGN_INS[role];
    const [account] = await db.q
      .select({ id: t.accounts.id, userId: t.accounts.userId, hash: t.accounts.password })
      .from(t.accounts)
      .innerJoin(t.users, eq(t.users.id, t.accounts.userId))
      .where(and(eq(t.users.email, published.email), eq(t.accounts.providerId, 'credential')));
    if (!account?.hash) continue;
    const stillPublished = await verifyPassword({ hash: account.hash, password: published.password });
    if (!stillPublished) continue;
    if (!production) {
      signIns[role] = { email: published.email, password: published.password };
      continue;
    }
    const password = generateDemoPassword();
    const hash = await hashPassword(password);
    await db.transaction(function* (tx) {
      // Guarded by the old hash: of two processes starting at once, one rotates.
      yield* run(tx.update(t.accounts).set({ password: hash, updatedAt: new Date() }).where(and(eq(t.accounts.id, account.id), eq(t.accounts.password, account.hash!))));
      yield* run(tx.delete(t.sessions).where(eq(t.sessions.userId, account.userId)));
    });
    const [now] = await db.q.select({ hash: t.accounts.password }).from(t.accounts).where(eq(t.accounts.id, account.id));
    if (now?.hash === hash) {
      signIns[role] = { email: published.email, password };
      rotated.push(role);
    }
  }
  return { signIns, rotated };
}
