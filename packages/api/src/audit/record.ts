/**
 * The audit log of admin actions (`audit_log`, append-only): who, when, what, before and
 * after. Written in the transaction of the change it describes, so neither exists without
 * the other. Never a key or a secret: anything shaped like a Stripe secret key, restricted key
 * or webhook signing secret (a careless caller, or a user typing one into a description) is
 * replaced by `[redacted]` before it is stored.
 */
import { and, desc, eq, lt, run, type Database, type Tables, type TxBody, type TxBuilder } from '@tally/db';
import { newId } from '../ids';

/** Who acted: a signed-in admin, or the operator CLI. */
export type AuditActor = { userId: string; email: string } | 'cli';

export interface AuditEntry {
  workspaceId: string;
  actor: AuditActor;
  /** `<noun>.<verb>`, e.g. `billing_record.create`, `billing_record.mark_paid`, `stripe_settings.save`. */
  action: string;
  /** e.g. `billing_record`, `customer`, `stripe_settings`, `ledger_entry`. */
  targetType: string;
  targetId?: string | null;
  /** State before the change (JSON-serializable; no secrets), or null for a creation. */
  before?: unknown;
  /** State after the change (JSON-serializable; no secrets), or null for a deletion. */
  after?: unknown;
  requestId?: string | null;
}

/** Stripe secret keys, restricted keys and webhook signing secrets (stripe.com/docs/keys). */
const SECRET_SHAPE = /\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9_]*|\bwhsec_[A-Za-z0-9_]*/g;

function serialize(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value).replace(SECRET_SHAPE, '[redacted]');
}

/** Transaction step: append one audit entry (secret-shaped substrings redacted). */
export function* recordAuditInTx(tx: TxBuilder, t: Tables, entry: AuditEntry): TxBody<void> {
  const before = serialize(entry.before);
  const after = serialize(entry.after);
  yield* run(
    tx.insert(t.auditLog).values({
      id: newId(),
      workspaceId: entry.workspaceId,
      actorUserId: entry.actor === 'cli' ? null : entry.actor.userId,
      actorLabel: entry.actor === 'cli' ? 'cli' : entry.actor.email,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      before,
      after,
      requestId: entry.requestId ?? null,
      createdAt: new Date(),
    }),
  );
}

/** Append one audit entry in its own transaction (for changes made outside Tally's database, e.g. a Stripe call). */
export async function recordAudit(db: Database, entry: AuditEntry): Promise<void> {
  await db.transaction((tx) => recordAuditInTx(tx, db.t, entry));
}

/**
 * The workspace's audit log, newest first, `before`/`after` parsed back. Cursor: the last
 * entry's id (UUIDv7, time-ordered).
 */
export async function listAuditLog({
  db,
  workspaceId,
  limit,
  cursor,
  action,
}: {
  db: Database;
  workspaceId: string;
  limit: number;
  cursor?: string | null | undefined;
  action?: string | undefined;
}) {
  const { auditLog: a } = db.t;
  const rows = await db.q
    .select()
    .from(a)
    .where(and(eq(a.workspaceId, workspaceId), action ? eq(a.action, action) : undefined, cursor ? lt(a.id, cursor) : undefined))
    .orderBy(desc(a.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit).map((r) => ({
    id: r.id,
    createdAt: r.createdAt,
    actorUserId: r.actorUserId,
    actorLabel: r.actorLabel,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    before: r.before === null ? null : (JSON.parse(r.before) as unknown),
    after: r.after === null ? null : (JSON.parse(r.after) as unknown),
    requestId: r.requestId,
  }));
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
