import { all, and, eq, inArray, isNull, ne, or, type Database, type Plan, type Subscription, type TxBuilder } from '@tally/db';
import { newId } from '../ids';
import { encryptSecret, type SecretKeyring } from '../secrets/encryption';
import { deriveAccess, type Access } from '../subscriptions/access';
import { stripeNowFor } from '../subscriptions/customer-access';
import { generateLicenseKey, hashLicenseKey, licenseKeyLast4 } from './key';
import { licenseTarget, type LicenseTarget } from './target';

/** Most licenses one subscription holds, whatever its quantity (a guard against a runaway quantity). */
export const MAX_LICENSES_PER_SUBSCRIPTION = 1000;
/** Rows per INSERT when issuing. */
const ISSUE_CHUNK = 100;

/** What one reconcile found and did. */
export interface LicenseReconcileOutcome {
  subscription: Subscription;
  plan: Plan | null;
  /** The subscription's access at Stripe's "now" for it (`stripeNowFor`). */
  access: Access;
  target: LicenseTarget;
  /** Licenses inserted, revoked, and moved between active and suspended (or to another plan) by this call. */
  issued: number;
  revoked: number;
  changed: number;
  /** Licenses still to issue because no keyring was given (issued by a later call with one). */
  pending: number;
}

interface Row {
  id: string;
  sequence: number;
  status: string;
  planId: string | null;
}

interface Actions {
  revokeIds: string[];
  statusChange: boolean;
  planChange: boolean;
  issueCount: number;
  nextSequence: number;
}

/** The writes that bring `rows` to `target` (pure). Seats reduced: the newest (highest sequence) go first. */
function actionsFor(rows: readonly Row[], subscription: Subscription, target: LicenseTarget): Actions {
  const nextSequence = rows.reduce((max, r) => Math.max(max, r.sequence), 0) + 1;
  const live = rows.filter((r) => r.status !== 'revoked').sort((a, b) => a.sequence - b.sequence);
  if (target.kind === 'revokeAll') return { revokeIds: live.map((r) => r.id), statusChange: false, planChange: false, issueCount: 0, nextSequence };
  const seats = Math.min(Math.max(0, subscription.seats), MAX_LICENSES_PER_SUBSCRIPTION);
  const excess = target.issue ? Math.max(0, live.length - seats) : 0;
  const kept = live.slice(0, live.length - excess);
  return {
    revokeIds: live.slice(live.length - excess).map((r) => r.id),
    statusChange: kept.some((r) => r.status !== target.status),
    planChange: kept.some((r) => r.planId !== subscription.planId),
    issueCount: target.issue ? Math.max(0, seats - kept.length) : 0,
    nextSequence,
  };
}

const hasWrites = (a: Actions, keyring: SecretKeyring | null) => a.revokeIds.length > 0 || a.statusChange || a.planChange || (keyring !== null && a.issueCount > 0);

/**
 * Bring a subscription's licenses in line with its mirror, and say what it found
 * (`reconcileLicensesForSubscription` without the result). See `licenseTarget` for the rules.
 *
 * Idempotent and safe to run concurrently (webhooks on two processes, a verify, a list): the
 * rows are read, and only when something differs is one transaction run that reads them
 * again and writes with guarded UPDATEs (`status <> 'revoked'`, the status it moves from) and
 * INSERT ... ON CONFLICT DO NOTHING on the unique (subscription_id, sequence), so two runs
 * issuing the same missing sequences issue them once. A stale run (an older mirror read) can
 * only be corrected by the next one, which every mirror write triggers.
 *
 * Revoking erases the key's ciphertext (a revoked key is never shown). New keys are sealed
 * with `keyring` (workspace id as associated data) until their customer sees them once; with
 * no keyring nothing is issued (`pending` counts them) and nothing secret is logged.
 * Returns null for an unknown subscription id.
 */
export async function reconcileSubscriptionLicenses(
  db: Database,
  { subscriptionId, keyring, graceDays, now = new Date() }: { subscriptionId: string; keyring: SecretKeyring | null; graceDays: number; now?: Date },
): Promise<LicenseReconcileOutcome | null> {
  const { subscriptions: s, plans: p, licenses: l } = db.t;
  const [subscription] = await db.q.select().from(s).where(eq(s.id, subscriptionId));
  if (!subscription) return null;
  const [plan] = subscription.planId ? await db.q.select().from(p).where(and(eq(p.id, subscription.planId), eq(p.workspaceId, subscription.workspaceId))) : [];
  const access = deriveAccess(subscription, { now: await stripeNowFor(db, subscription, now), graceDays });
  const target = licenseTarget(subscription, plan ?? null, access);

  const columns = { id: l.id, sequence: l.sequence, status: l.status, planId: l.planId };
  const before = actionsFor(await db.q.select(columns).from(l).where(eq(l.subscriptionId, subscription.id)), subscription, target);
  const outcome: LicenseReconcileOutcome = { subscription, plan: plan ?? null, access, target, issued: 0, revoked: 0, changed: 0, pending: keyring ? 0 : before.issueCount };
  if (!hasWrites(before, keyring)) return outcome;

  const done = await db.transaction(function* (tx: TxBuilder) {
    const t = db.t;
    const L = t.licenses;
    const rows = yield* all(tx.select(columns).from(L).where(eq(L.subscriptionId, subscription.id)));
    const a = actionsFor(rows, subscription, target);
    const stamp = new Date();
    let revoked = 0;
    let changed = 0;
    let issued = 0;
    if (a.revokeIds.length > 0) {
      const r = yield* all(
        tx
          .update(L)
          .set({ status: 'revoked', revokedAt: stamp, keyCiphertext: null, updatedAt: stamp })
          .where(and(inArray(L.id, a.revokeIds), ne(L.status, 'revoked')))
          .returning({ id: L.id }),
      );
      revoked = r.length;
    }
    if (target.kind === 'keep' && a.statusChange) {
      const r = yield* all(
        tx
          .update(L)
          .set({ status: target.status, suspendedAt: target.status === 'suspended' ? stamp : null, updatedAt: stamp })
          .where(and(eq(L.subscriptionId, subscription.id), eq(L.status, target.status === 'active' ? 'suspended' : 'active')))
          .returning({ id: L.id }),
      );
      changed += r.length;
    }
    if (target.kind === 'keep' && a.planChange && subscription.planId) {
      const r = yield* all(
        tx
          .update(L)
          .set({ planId: subscription.planId, updatedAt: stamp })
          .where(and(eq(L.subscriptionId, subscription.id), ne(L.status, 'revoked'), or(isNull(L.planId), ne(L.planId, subscription.planId))))
          .returning({ id: L.id }),
      );
      changed += r.length;
    }
    if (target.kind === 'keep' && keyring && a.issueCount > 0) {
      const values = Array.from({ length: a.issueCount }, (_, i) => {
        const key = generateLicenseKey();
        return {
          id: newId(),
          workspaceId: subscription.workspaceId,
          customerId: subscription.customerId,
          subscriptionId: subscription.id,
          planId: subscription.planId,
          sequence: a.nextSequence + i,
          keyHash: hashLicenseKey(key),
          keyLast4: licenseKeyLast4(key),
          keyCiphertext: encryptSecret({ keyring, workspaceId: subscription.workspaceId, plaintext: key }),
          status: target.status,
          suspendedAt: target.status === 'suspended' ? stamp : null,
          createdAt: stamp,
          updatedAt: stamp,
        };
      });
      for (let i = 0; i < values.length; i += ISSUE_CHUNK) {
        const r = yield* all(tx.insert(L).values(values.slice(i, i + ISSUE_CHUNK)).onConflictDoNothing().returning({ id: L.id }));
        issued += r.length;
      }
    }
    return { issued, revoked, changed };
  });
  return { ...outcome, ...done };
}

/**
 * Bring a subscription's licenses in line with its mirror: for a plan that issues licenses,
 * one per seat while the subscription holds seats (active, trialing, past due, unpaid, paused),
 * active while access is active or trialing and suspended otherwise, the newest revoked when
 * seats drop, all revoked when it ends or moves to a plan without licenses (see
 * `licenseTarget`). Call it after every subscription mirror write and on license reads.
 * Idempotent; safe concurrently (see `reconcileSubscriptionLicenses`). `keyring` null: nothing
 * is issued now (a later call with a keyring issues them). An unknown id does nothing.
 * @throws database errors only.
 */
export async function reconcileLicensesForSubscription(db: Database, opts: { subscriptionId: string; keyring: SecretKeyring | null; graceDays: number }): Promise<void> {
  await reconcileSubscriptionLicenses(db, opts);
}
