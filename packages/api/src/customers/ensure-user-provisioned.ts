import { all, and, eq, isNull, run, type Database } from '@tally/db';
import { v5 as uuidv5 } from 'uuid';
import { newId } from '../ids';
import { ensurePrimaryWorkspace } from '../workspaces/ensure-primary';

/** Namespace of the deterministic id of a self sign-up's customer (RFC 9562 UUIDv5). */
const SELF_SIGN_UP_CUSTOMER_NAMESPACE = '5b0f3c7e-8a41-4c52-9d6e-2f1a7c9b4e80';

/**
 * The id of the customer a self sign-up owns in a workspace: derived from the user and
 * workspace, so concurrent provisioning of one user inserts the same row (ON CONFLICT DO
 * NOTHING) instead of two customers.
 */
export function selfSignUpCustomerId(workspaceId: string, userId: string): string {
  return uuidv5(`self-sign-up:${workspaceId}:${userId}`, SELF_SIGN_UP_CUSTOMER_NAMESPACE);
}

export type ProvisionOutcome =
  | { status: 'unknown_user' | 'unverified' }
  | {
      status: 'provisioned';
      /** The primary workspace. */
      workspaceId: string;
      /** The email is a bootstrap admin (`TALLY_ADMIN_EMAILS`) and is now (or already was) an admin. */
      bootstrapAdmin: boolean;
      /** Invitations this call accepted (empty when none were pending). */
      acceptedInvitationIds: string[];
      /** The self sign-up customer, when this call found the user with no role and made them its owner. */
      selfSignUpCustomerId: string | null;
    };

/**
 * Give a verified user what their email entitles them to; run whenever they get a session
 * (and on verification). Nothing is granted to an unverified email, so registering someone
 * else's address first gains nothing (issue 6). In order:
 * 1. email in `adminEmails` -> admin of the primary workspace;
 * 2. each pending invitation for the email is accepted: `admin` -> workspace admin,
 *    `owner`/`member` of a customer -> that membership, `owner` without a customer -> a new
 *    customer (named after the user, with their verified email) that they own;
 * 3. otherwise, with `signUp: 'open'`, a user with no role at all and no invitation ever ->
 *    owner of a new customer in the primary workspace (what a sign-up becomes).
 * Idempotent and safe under concurrent sessions: grants insert with ON CONFLICT DO NOTHING on
 * unique indexes, an invitation is accepted by a conditional update that only one caller
 * wins, and the self sign-up customer has a deterministic id.
 * @param adminEmails lowercased bootstrap admin emails.
 */
export async function ensureUserProvisioned({
  db,
  userId,
  adminEmails,
  signUp = 'open',
  now = new Date(),
}: {
  db: Database;
  userId: string;
  adminEmails: readonly string[];
  signUp?: 'open' | 'invite';
  now?: Date;
}): Promise<ProvisionOutcome> {
  const { users, workspaceMembers, customers, customerMemberships, invitations } = db.t;
  const [user] = await db.q
    .select({ id: users.id, email: users.email, name: users.name, emailVerified: users.emailVerified })
    .from(users)
    .where(eq(users.id, userId));
  if (!user) return { status: 'unknown_user' };
  if (!user.emailVerified) return { status: 'unverified' };

  const workspace = await ensurePrimaryWorkspace({ db });
  const email = user.email.trim().toLowerCase();
  const customerName = user.name.trim() || user.email;

  const bootstrapAdmin = adminEmails.includes(email);
  if (bootstrapAdmin) {
    await db.q
      .insert(workspaceMembers)
      .values({ id: newId(), workspaceId: workspace.id, userId: user.id, role: 'admin', createdAt: now })
      .onConflictDoNothing();
  }

  const invited = await db.q.select().from(invitations).where(eq(invitations.email, email)).orderBy(invitations.createdAt, invitations.id);
  const acceptedInvitationIds: string[] = [];
  for (const invitation of invited.filter((i) => i.acceptedAt === null)) {
    const accepted = await db.transaction(function* (tx) {
      const won = yield* all(
        tx
          .update(invitations)
          .set({ acceptedAt: now, acceptedByUserId: user.id })
          .where(and(eq(invitations.id, invitation.id), isNull(invitations.acceptedAt)))
          .returning({ id: invitations.id }),
      );
      if (won.length === 0) return false;
      if (invitation.role === 'admin') {
        yield* run(
          tx
            .insert(workspaceMembers)
            .values({ id: newId(), workspaceId: invitation.workspaceId, userId: user.id, role: 'admin', createdAt: now })
            .onConflictDoNothing(),
        );
      } else if (invitation.customerId) {
        const membership = tx
          .insert(customerMemberships)
          .values({ id: newId(), customerId: invitation.customerId, userId: user.id, role: invitation.role, createdAt: now });
        // An owner invitation promotes an existing member; a member invitation never demotes.
        yield* run(
          invitation.role === 'owner'
            ? membership.onConflictDoUpdate({ target: [customerMemberships.customerId, customerMemberships.userId], set: { role: 'owner' } })
            : membership.onConflictDoNothing(),
        );
      } else if (invitation.role === 'owner') {
        const customerId = newId();
        yield* run(tx.insert(customers).values({ id: customerId, workspaceId: invitation.workspaceId, name: customerName, email: user.email, createdAt: now }));
        yield* run(tx.insert(customerMemberships).values({ id: newId(), customerId, userId: user.id, role: 'owner', createdAt: now }));
      }
      return true;
    });
    if (accepted) acceptedInvitationIds.push(invitation.id);
  }

  let selfSignUp: string | null = null;
  if (signUp === 'open' && !bootstrapAdmin && invited.length === 0) {
    const [admin] = await db.q.select({ id: workspaceMembers.id }).from(workspaceMembers).where(eq(workspaceMembers.userId, user.id)).limit(1);
    const [membership] = await db.q.select({ id: customerMemberships.id }).from(customerMemberships).where(eq(customerMemberships.userId, user.id)).limit(1);
    if (!admin && !membership) {
      const customerId = selfSignUpCustomerId(workspace.id, user.id);
      await db.transaction(function* (tx) {
        yield* run(tx.insert(customers).values({ id: customerId, workspaceId: workspace.id, name: customerName, email: user.email, createdAt: now }).onConflictDoNothing());
        yield* run(tx.insert(customerMemberships).values({ id: newId(), customerId, userId: user.id, role: 'owner', createdAt: now }).onConflictDoNothing());
      });
      selfSignUp = customerId;
    }
  }
  return { status: 'provisioned', workspaceId: workspace.id, bootstrapAdmin, acceptedInvitationIds, selfSignUpCustomerId: selfSignUp };
}
