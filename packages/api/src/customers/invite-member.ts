import { all, and, asc, eq, get, isNull, run, sql, type Database } from '@tally/db';
import { recordAuditInTx } from '../audit/record';
import type { Actor } from '../context';
import { enqueueEmailInTx, notifyEmailEnqueued } from '../email/enqueue';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { createInvitation } from '../invitations/create';
import { InviteCustomerMemberInput } from '../schemas/customers';

/**
 * Invite `email` as a `member` of a customer of the workspace (admin *Customers* page).
 * - The invitation is stored with `createInvitation` (a pending identical one is reused).
 * - If a user with that email exists and is verified, the membership is attached now
 *   (`attachedNow: true`) and the invitation marked accepted by them, in one transaction.
 *   Otherwise it stays pending and `ensureUserProvisioned` attaches it when that email,
 *   verified, signs up or next signs in. An existing membership is kept as it is (a member
 *   invitation never demotes an owner).
 * - The audit entry `customer.invite` and one email (outbox, reference
 *   `customer-invite:<invitationId>`, so inviting again while pending sends no second one) are
 *   written in that same transaction. The email carries no secret: a link to sign up
 *   (`<webUrl>/sign-up`) or, when attached now, to sign in (`<webUrl>/sign-in`).
 * @returns `{ invitationId, attachedNow }`.
 * @throws AppError BAD_REQUEST for a malformed email; NOT_FOUND when the customer does not
 *   exist or belongs to another workspace.
 */
export async function inviteCustomerMember({
  db,
  workspaceId,
  actor,
  requestId,
  webUrl,
  input,
}: {
  db: Database;
  workspaceId: string;
  actor: Actor;
  requestId?: string | null;
  /** Where users open the SPA (`ApiConfig.webUrl`), no trailing slash. */
  webUrl: string;
  input: { customerId: string; email: string };
}): Promise<{ invitationId: string; attachedNow: boolean }> {
  const parsed = InviteCustomerMemberInput.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
  const { customerId, email } = parsed.data;
  const t = db.t;
  const [customer] = await db.q
    .select({ id: t.customers.id, name: t.customers.name, workspaceName: t.workspaces.name })
    .from(t.customers)
    .innerJoin(t.workspaces, eq(t.workspaces.id, t.customers.workspaceId))
    .where(and(eq(t.customers.id, customerId), eq(t.customers.workspaceId, workspaceId)));
  if (!customer) throw notFound('Customer');

  const { invitation, created } = await createInvitation({ db, workspaceId, email, role: 'member', customerId, invitedByUserId: actor.userId });
  const [user] = await db.q
    .select({ id: t.users.id })
    .from(t.users)
    .where(and(sql`lower(${t.users.email}) = ${email}`, eq(t.users.emailVerified, true)))
    .orderBy(asc(t.users.createdAt))
    .limit(1);

  const now = new Date();
  const result = await db.transaction(function* (tx) {
    let attachedNow = false;
    if (user) {
      // Accept it for them, as their next session would (ensureUserProvisioned): one winner.
      const won = yield* all(
        tx
          .update(t.invitations)
          .set({ acceptedAt: now, acceptedByUserId: user.id })
          .where(and(eq(t.invitations.id, invitation.id), isNull(t.invitations.acceptedAt)))
          .returning({ id: t.invitations.id }),
      );
      if (won.length > 0) {
        yield* run(
          tx.insert(t.customerMemberships).values({ id: newId(), customerId, userId: user.id, role: 'member', createdAt: now }).onConflictDoNothing(),
        );
      }
      const membership = yield* get(
        tx
          .select({ id: t.customerMemberships.id })
          .from(t.customerMemberships)
          .where(and(eq(t.customerMemberships.customerId, customerId), eq(t.customerMemberships.userId, user.id))),
      );
      attachedNow = membership !== undefined;
    }
    yield* recordAuditInTx(tx, t, {
      workspaceId,
      actor,
      action: 'customer.invite',
      targetType: 'customer',
      targetId: customerId,
      before: null,
      after: { invitationId: invitation.id, email, role: 'member', attachedNow, newInvitation: created },
      requestId: requestId ?? null,
    });
    const where = `${customer.name} (${customer.workspaceName})`;
    const mail = attachedNow
      ? {
          subject: `You now have access to ${customer.name} on Tally`,
          text: `Hello,\n\nAn administrator of ${customer.workspaceName} added you as a member of ${where} on Tally.\n\nSign in with this email address to see its balance and billing:\n\n${webUrl}/sign-in\n`,
        }
      : {
          subject: `You are invited to ${customer.name} on Tally`,
          text: `Hello,\n\nAn administrator of ${customer.workspaceName} invited you to join ${where} on Tally as a member.\n\nSign up (or sign in, if you already have an account) with this email address:\n\n${webUrl}/sign-up\n\nIf you did not expect this, ignore this email.\n`,
        };
    const queued = yield* enqueueEmailInTx(tx, t, { kind: 'customer_invitation', to: email, workspaceId, reference: `customer-invite:${invitation.id}`, ...mail });
    return { attachedNow, queued: queued.id !== null };
  });
  if (result.queued) notifyEmailEnqueued(db);
  return { invitationId: invitation.id, attachedNow: result.attachedNow };
}
