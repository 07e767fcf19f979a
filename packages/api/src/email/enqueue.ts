/**
 * The one way Tally sends mail: write it to the `email_outbox` table; the outbox worker
 * sends it (nodemailer) after the commit. Inside a transaction body use `enqueueEmailInTx`
 * so the change and its notice commit together.
 */
import { all, type Database, type Tables, type TxBody, type TxBuilder } from '@tally/db';
import { newId } from '../ids';

export interface OutgoingEmail {
  /** What it is, e.g. `verify_email`, `reset_password`. */
  kind: string;
  /** One recipient address. */
  to: string;
  subject: string;
  /** Plain-text body (always present). */
  text: string;
  html?: string | null;
  /** The workspace it concerns; null for account emails. */
  workspaceId?: string | null;
  /** Idempotency reference: a second email with the same reference is not stored. */
  reference?: string | null;
}

/** Transaction step: store an email to send. Returns its id, or null when `reference` was already used. */
export function* enqueueEmailInTx(tx: TxBuilder, t: Tables, email: OutgoingEmail): TxBody<{ id: string | null }> {
  const now = new Date();
  const rows = yield* all(
    tx
      .insert(t.emailOutbox)
      .values({
        id: newId(),
        workspaceId: email.workspaceId ?? null,
        kind: email.kind,
        toAddress: email.to,
        subject: email.subject,
        textBody: email.text,
        htmlBody: email.html ?? null,
        reference: email.reference ?? null,
        status: 'pending',
        nextAttemptAt: now,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: t.emailOutbox.id }),
  );
  return { id: rows[0]?.id ?? null };
}

/** Store an email to send, on its own, and wake this process's outbox worker (`onEmailEnqueued`). */
export async function enqueueEmail(db: Database, email: OutgoingEmail): Promise<{ id: string | null }> {
  const result = await db.transaction((tx) => enqueueEmailInTx(tx, db.t, email));
  if (result.id) notifyEmailEnqueued(db);
  return result;
}

const listeners = new Set<(db: Database) => void>();

/**
 * Call `listener` whenever an email is stored in this process (the worker's `kick`, so mail
 * leaves at once instead of at the next poll). Returns the unsubscribe function.
 */
export function onEmailEnqueued(listener: (db: Database) => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

/** After committing a transaction that used `enqueueEmailInTx`: wake the worker (optional; it polls anyway). */
export function notifyEmailEnqueued(db: Database): void {
  for (const listener of listeners) {
    try {
      listener(db);
    } catch {
      // a listener's failure must not fail the enqueue, which has committed
    }
  }
}
