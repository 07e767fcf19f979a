import { all, and, eq, or, run, type Database } from '@tally/db';
import { hashPassword } from 'better-auth/crypto';
import { z } from 'zod';
import { checkPasswordPolicy, passwordUserInputs } from '../auth/password-policy';
import { AppError } from '../errors';
import { newId } from '../ids';
import { ensurePrimaryWorkspace } from '../workspaces/ensure-primary';

export interface CreateAdminResult {
  userId: string;
  workspaceId: string;
  /** The user did not exist and was created. */
  created: boolean;
  /** A password was set (`password` given). */
  passwordSet: boolean;
  /**
   * The user existed unverified: whoever registered the address never proved it, so their
   * password and sessions were discarded (only the new password or a reset link signs in).
   */
  discardedUnverified: boolean;
}

const emailSchema = z.email();

/**
 * Make `email` an admin of a workspace, for an operator at the server (`pnpm tally admin
 * create`), bypassing email verification: the operator vouches for the address.
 * - The user is created if absent, verified (`emailVerified: true`), without a customer.
 * - An existing unverified user loses its password and sessions (someone may have
 *   registered the address to squat it: issue 6); an existing verified user keeps both.
 * - With `password`, it is checked by the sign-up policy (`auth/password-policy.ts`) and set
 *   with better-auth's own hash (`better-auth/crypto`), as `seedDemo` does.
 * - The admin grant is idempotent (`workspace_members` unique on workspace and user).
 * Every input is checked before anything is written.
 * @param workspace id or slug; default the primary workspace (created if none, in `currency`).
 * @throws AppError BAD_REQUEST (invalid email, weak password), NOT_FOUND (unknown workspace).
 */
export async function createAdmin({
  db,
  email: rawEmail,
  workspace: workspaceRef,
  password,
  currency = 'usd',
}: {
  db: Database;
  email: string;
  workspace?: string | null;
  password?: string | null;
  /** ISO 4217 lowercase, for a primary workspace created by this call. */
  currency?: string;
}): Promise<CreateAdminResult> {
  const email = rawEmail.trim().toLowerCase();
  if (!emailSchema.safeParse(email).success) throw new AppError('BAD_REQUEST', `Invalid email address: ${JSON.stringify(rawEmail)}`);
  const name = email.split('@')[0]!;
  if (password != null) {
    const verdict = checkPasswordPolicy(password, { userInputs: passwordUserInputs({ email, name }) });
    if (!verdict.ok) throw new AppError('BAD_REQUEST', verdict.message);
  }

  const t = db.t;
  let workspaceId: string;
  if (workspaceRef) {
    const [found] = await db.q
      .select({ id: t.workspaces.id })
      .from(t.workspaces)
      .where(or(eq(t.workspaces.id, workspaceRef), eq(t.workspaces.slug, workspaceRef)))
      .limit(1);
    if (!found) throw new AppError('NOT_FOUND', `No workspace with id or slug ${JSON.stringify(workspaceRef)}`);
    workspaceId = found.id;
  } else {
    workspaceId = (await ensurePrimaryWorkspace({ db, currency })).id;
  }

  const hash = password != null ? await hashPassword(password) : null;
  const now = new Date();
  const newUserId = newId();
  return db.transaction(function* (tx) {
    const inserted = yield* all(
      tx.insert(t.users).values({ id: newUserId, name, email, emailVerified: true, createdAt: now, updatedAt: now }).onConflictDoNothing().returning({ id: t.users.id }),
    );
    const created = inserted.length > 0;
    const [user] = yield* all(tx.select({ id: t.users.id, emailVerified: t.users.emailVerified }).from(t.users).where(eq(t.users.email, email)));
    if (!user) throw new Error('user vanished while being made admin');
    const discardedUnverified = !created && !user.emailVerified;
    if (!created) yield* run(tx.update(t.users).set({ emailVerified: true, updatedAt: now }).where(eq(t.users.id, user.id)));
    if (discardedUnverified) {
      yield* run(tx.delete(t.sessions).where(eq(t.sessions.userId, user.id)));
      if (hash === null) {
        yield* run(tx.update(t.accounts).set({ password: null, updatedAt: now }).where(and(eq(t.accounts.userId, user.id), eq(t.accounts.providerId, 'credential'))));
      }
    }
    if (hash !== null) {
      const updated = yield* all(
        tx
          .update(t.accounts)
          .set({ password: hash, updatedAt: now })
          .where(and(eq(t.accounts.userId, user.id), eq(t.accounts.providerId, 'credential')))
          .returning({ id: t.accounts.id }),
      );
      if (updated.length === 0) {
        yield* run(tx.insert(t.accounts).values({ id: newId(), accountId: user.id, providerId: 'credential', userId: user.id, password: hash, createdAt: now, updatedAt: now }));
      }
    }
    yield* run(tx.insert(t.workspaceMembers).values({ id: newId(), workspaceId, userId: user.id, role: 'admin', createdAt: now }).onConflictDoNothing());
    return { userId: user.id, workspaceId, created, passwordSet: hash !== null, discardedUnverified };
  });
}
