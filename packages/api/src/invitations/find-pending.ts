import { and, eq, isNull, type Database } from '@tally/db';

/**
 * The pending (not yet accepted) invitations for an email, in any workspace, oldest first.
 * The email is matched case-insensitively (invitations store it lowercased).
 */
export async function findPendingInvitations({ db, email }: { db: Database; email: string }) {
  const { invitations } = db.t;
  return db.q
    .select()
    .from(invitations)
    .where(and(eq(invitations.email, email.trim().toLowerCase()), isNull(invitations.acceptedAt)))
    .orderBy(invitations.createdAt, invitations.id);
}
