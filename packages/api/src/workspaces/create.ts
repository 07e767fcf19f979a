import { all, asc, eq, get, isNull, and, run, type Database } from '@tally/db';
import { z } from 'zod';
import { recordAuditInTx, type AuditActor } from '../audit/record';
import { AppError } from '../errors';
import { newId } from '../ids';
import { createInvitation } from '../invitations/create';
import { ensurePrimaryWorkspace } from './ensure-primary';

/** Longest workspace name, characters (after trimming). */
export const WORKSPACE_NAME_MAX = 200;
/** Longest slug derived from a name, before a `-2`, `-3`... suffix. */
const SLUG_MAX = 48;
/** Slugs never given to a created workspace: `primary` is the deployment's first workspace (`ensurePrimaryWorkspace`, `admin create --workspace primary`). */
const RESERVED_SLUGS = new Set(['primary']);

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const emailSchema = z.email().max(254);
/** ISO 4217 codes this runtime knows (Intl), lowercase as Stripe writes them. */
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency').map((c) => c.toLowerCase()));

export interface CreateWorkspaceResult {
  workspaceId: string;
  name: string;
  slug: string;
  /** ISO 4217 lowercase. */
  currency: string;
  admin: {
    email: string;
    /**
     * `member`: a verified user with this email exists and is its admin now; `invited`: an
     * `admin` invitation waits for the email to sign up (or verify) and is accepted then
     * (`ensureUserProvisioned`).
     */
    status: 'member' | 'invited';
    userId: string | null;
    invitationId: string | null;
  };
}

/**
 * `workspace-name` from a name: lowercase ASCII letters and digits, other runs as one `-`
 * (accents dropped: "Café Ops" -> `cafe-ops`), at most 48 characters; `workspace` when
 * nothing is left.
 */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/, '');
  return slug || 'workspace';
}

/**
 * Create a workspace for an operator (`pnpm tally workspace create`) and make `adminEmail`
 * its admin: now, when a verified user with that email exists (a `workspace_members` row), or
 * when that email signs up and verifies (an `admin` invitation through `createInvitation`;
 * an unverified account is invited too, as roles follow verification only).
 *
 * - `name`: trimmed, 1 to 200 characters, no control characters.
 * - slug: `slugFromName(name)`, made unique with `-2`, `-3`, ... (`primary` is reserved).
 * - `currency`: an ISO 4217 code (any case), stored lowercase; default `usd`.
 * - The deployment's primary workspace is created first if there is none, so this one never
 *   becomes the primary (where sign-ups without an invitation land).
 * - Workspace, admin membership and the audit entry (`workspace.create`) are written in one
 *   transaction; the invitation right after it (every input is checked before either).
 * @throws AppError BAD_REQUEST naming the invalid input.
 */
export async function createWorkspace({
  db,
  name: rawName,
  adminEmail: rawEmail,
  currency: rawCurrency = 'usd',
  actor = 'cli',
  primaryCurrency = 'usd',
}: {
  db: Database;
  name: string;
  adminEmail: string;
  currency?: string;
  actor?: AuditActor;
  /** Currency of the primary workspace if this call has to create it (the deployment's TALLY_CURRENCY). */
  primaryCurrency?: string;
}): Promise<CreateWorkspaceResult> {
  const name = typeof rawName === 'string' ? rawName.trim() : '';
  if (name === '') throw new AppError('BAD_REQUEST', 'Workspace name must not be empty');
  if (name.length > WORKSPACE_NAME_MAX) throw new AppError('BAD_REQUEST', `Workspace name must be at most ${WORKSPACE_NAME_MAX} characters`);
  if (CONTROL_CHARACTERS.test(name)) throw new AppError('BAD_REQUEST', 'Workspace name must not contain control characters');
  const email = typeof rawEmail === 'string' ? rawEmail.trim().toLowerCase() : '';
  if (!emailSchema.safeParse(email).success) throw new AppError('BAD_REQUEST', `Invalid email address: ${JSON.stringify(String(rawEmail).slice(0, 254))}`);
  const currency = typeof rawCurrency === 'string' ? rawCurrency.trim().toLowerCase() : '';
  if (!/^[a-z]{3}$/.test(currency) || !KNOWN_CURRENCIES.has(currency)) {
    throw new AppError('BAD_REQUEST', `Currency must be an ISO 4217 code like usd or eur, not ${JSON.stringify(String(rawCurrency).slice(0, 20))}`);
  }

  await ensurePrimaryWorkspace({ db, currency: primaryCurrency });
  const base = slugFromName(name);
  const workspaceId = newId();
  const now = new Date();

  const created = await db.transaction(function* (tx) {
    const t = db.t;
    // Insert under the first free slug: a taken one conflicts and the next suffix is tried
    // (ON CONFLICT DO NOTHING keeps the transaction usable on Postgres).
    let slug = '';
    for (let n = 1; slug === ''; n++) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if (RESERVED_SLUGS.has(candidate)) continue;
      const inserted = yield* all(
        tx.insert(t.workspaces).values({ id: workspaceId, name, slug: candidate, currency, createdAt: now }).onConflictDoNothing({ target: t.workspaces.slug }).returning({ slug: t.workspaces.slug }),
      );
      if (inserted.length > 0) slug = candidate;
    }
    const user = yield* get(tx.select({ id: t.users.id, emailVerified: t.users.emailVerified }).from(t.users).where(eq(t.users.email, email)).limit(1));
    const adminNow = user?.emailVerified === true;
    if (adminNow) {
      yield* run(tx.insert(t.workspaceMembers).values({ id: newId(), workspaceId, userId: user.id, role: 'admin', createdAt: now }).onConflictDoNothing());
    }
    yield* recordAuditInTx(tx, t, {
      workspaceId,
      actor,
      action: 'workspace.create',
      targetType: 'workspace',
      targetId: workspaceId,
      before: null,
      after: { name, slug, currency, adminEmail: email, admin: adminNow ? 'member' : 'invited' },
    });
    return { slug, userId: adminNow ? user.id : null };
  });

  let invitationId: string | null = null;
  if (created.userId === null) {
    const { invitation } = await createInvitation({ db, workspaceId, email, role: 'admin' });
    invitationId = invitation.id;
  }
  return {
    workspaceId,
    name,
    slug: created.slug,
    currency,
    admin: { email, status: created.userId ? 'member' : 'invited', userId: created.userId, invitationId },
  };
}

/** One workspace as `pnpm tally workspace list` shows it. */
export interface WorkspaceListing {
  id: string;
  name: string;
  slug: string;
  currency: string;
  createdAt: Date;
  /** Emails of its admins, oldest membership first. */
  admins: string[];
  /** Emails with a pending `admin` invitation. */
  invitedAdmins: string[];
}

/**
 * Every workspace, oldest (the primary) first, with its admins and pending admin invitations.
 * (Listing lives beside creation: both serve the operator's `workspace` command.)
 */
export async function listWorkspaces({ db }: { db: Database }): Promise<WorkspaceListing[]> {
  const { workspaces, workspaceMembers, users, invitations } = db.t;
  const [rows, members, invited] = await Promise.all([
    db.q.select().from(workspaces).orderBy(asc(workspaces.createdAt), asc(workspaces.id)),
    db.q
      .select({ workspaceId: workspaceMembers.workspaceId, email: users.email })
      .from(workspaceMembers)
      .innerJoin(users, eq(users.id, workspaceMembers.userId))
      .orderBy(asc(workspaceMembers.createdAt), asc(workspaceMembers.id)),
    db.q
      .select({ workspaceId: invitations.workspaceId, email: invitations.email })
      .from(invitations)
      .where(and(eq(invitations.role, 'admin'), isNull(invitations.acceptedAt)))
      .orderBy(asc(invitations.createdAt), asc(invitations.id)),
  ]);
  const byWorkspace = (list: { workspaceId: string; email: string }[], id: string) => [...new Set(list.filter((m) => m.workspaceId === id).map((m) => m.email))];
  return rows.map((w) => ({ id: w.id, name: w.name, slug: w.slug, currency: w.currency, createdAt: w.createdAt, admins: byWorkspace(members, w.id), invitedAdmins: byWorkspace(invited, w.id) }));
}
