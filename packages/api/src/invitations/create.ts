import { and, eq, isNull, type Database } from '@tally/db';
import { z } from 'zod';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';

export const INVITATION_ROLES = ['admin', 'owner', 'member'] as const;
export type InvitationRole = (typeof INVITATION_ROLES)[number];

export interface CreateInvitationOptions {
  db: Database;
  workspaceId: string;
  /** Any case; stored trimmed and lowercased (emails are matched case-insensitively). */
  email: string;
  /**
   * `admin`: workspace admin. `owner`/`member`: a membership of `customerId`; `owner` without
   * `customerId` creates a new customer, owned by the invitee, on acceptance.
   */
  role: InvitationRole;
  customerId?: string | null;
  invitedByUserId?: string | null;
}

const emailSchema = z.email({ error: 'email must be an email address' }).max(254, 'email must be at most 254 characters');

/**
 * Invite an email into a workspace. The invitation is accepted when that email, verified,
 * next gets a session (`ensureUserProvisioned`); with `TALLY_SIGN_UP=invite` it is also what
 * lets the email sign up. Inviting again while an identical invitation is pending returns that
 * one (`created: false`) instead of adding a second.
 * @returns the pending invitation.
 * @throws AppError BAD_REQUEST for a malformed email, an unknown role, an admin invitation with
 *   a customer, or a member invitation without one; NOT_FOUND when the workspace does not
 *   exist or the customer is not in it.
 */
export async function createInvitation({ db, workspaceId, email, role, customerId = null, invitedByUserId = null }: CreateInvitationOptions) {
  const parsedEmail = emailSchema.safeParse(typeof email === 'string' ? email.trim().toLowerCase() : email);
  if (!parsedEmail.success) throw new AppError('BAD_REQUEST', parsedEmail.error.issues[0]?.message ?? 'email must be an email address');
  if (!(INVITATION_ROLES as readonly string[]).includes(role)) throw new AppError('BAD_REQUEST', `role must be one of ${INVITATION_ROLES.join(', ')}`);
  if (role === 'admin' && customerId) throw new AppError('BAD_REQUEST', 'An admin invitation is to the workspace, not to a customer: leave customerId empty');
  if (role === 'member' && !customerId) throw new AppError('BAD_REQUEST', 'A member invitation needs the customerId they join');
  const normalized = parsedEmail.data;
  const { workspaces, customers, invitations } = db.t;

  const [workspace] = await db.q.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!workspace) throw notFound('Workspace');
  if (customerId) {
    const [customer] = await db.q
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.id, customerId), eq(customers.workspaceId, workspaceId)));
    if (!customer) throw notFound('Customer');
  }

  const same = and(
    eq(invitations.workspaceId, workspaceId),
    eq(invitations.email, normalized),
    eq(invitations.role, role),
    customerId ? eq(invitations.customerId, customerId) : isNull(invitations.customerId),
    isNull(invitations.acceptedAt),
  );
  const [pending] = await db.q.select().from(invitations).where(same);
  if (pending) return { invitation: pending, created: false };
  const [invitation] = await db.q
    .insert(invitations)
    .values({ id: newId(), workspaceId, email: normalized, role, customerId, invitedByUserId, createdAt: new Date() })
    .returning();
  return { invitation: invitation!, created: true };
}
