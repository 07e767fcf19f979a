/**
 * Usage ingestion (issue 9 item 3): `recordUsage` validates a batch of usage events and
 * commits every accepted event together with all of its effects in ONE transaction per batch:
 * the event row, its daily rollup (per customer, meter and UTC day), the prepaid ledger debit
 * and cached balance, the Stripe meter outbox row, and a low-balance notice. Nothing is
 * claimed first and written later, so a crash leaves either all of an event or none of it.
 *
 * Exactly once: the idempotency key is UNIQUE per workspace (`usage_events`); events are
 * inserted with ON CONFLICT DO NOTHING RETURNING, and only the rows this transaction inserted
 * get effects. A key already stored answers `duplicate` (same payload: the first event's id)
 * or `conflict` (another payload, 409). On Postgres a concurrent copy of the same key waits on
 * the unique index until the first commits, then finds it; SQLite writers run one at a time.
 * Locks are taken in one order (period lock, event keys sorted, balance rows sorted, rollup
 * rows sorted) so concurrent batches do not deadlock.
 *
 * Prepaid meters: each event debits `cost(period quantity after it) - charged so far this
 * period` (see pricing.ts), in event order within the batch; a debit the balance cannot
 * cover is refused with `payment_required` (402) unless the workspace allows negative
 * balances. The customer's balance row is locked (a no-op UPDATE ... RETURNING) before the
 * period totals are read, so concurrent batches for one customer are charged in turn.
 *
 * Periods: see periods.ts. A period being closed holds an exclusive `transactionLock` on
 * `usage-period:<workspace>:<period>` while it flips to `closing`; every batch holds the
 * shared lock for the periods it writes, so an event either lands before the close reads the
 * rollups or is refused after.
 */
import { createHash } from 'node:crypto';
import { all, and, eq, inArray, isNull, run, sql, transactionLock, type Database, type Meter, type UsageCustomer } from '@tally/db';
import { enqueueEmailInTx, notifyEmailEnqueued } from '../email/enqueue';
import { billingContactsOf } from '../dunning/recipients';
import { newId } from '../ids';
import { formatMinor } from '../schemas';
import { publishBillingChange } from '../stream/publish';
import { UsageEventInput, type RecordUsageResult, type UsageEventResult, type UsageRejectionCode, USAGE_PROPERTIES_MAX_BYTES } from '../schemas/usage';
import { aggregateQuantity, costMinor, type UsageTotals } from './pricing';
import { dayOf, MAX_FUTURE_SKEW_MS, periodBounds, periodOf, previousPeriod } from './periods';

export interface RecordUsageOptions {
  db: Database;
  workspaceId: string;
  /** Raw events as received (validated here, each on its own). */
  events: readonly unknown[];
  /** The server's clock (tests pass one). */
  now?: Date;
}

/** An event that passed validation and resolution, waiting for the transaction. */
interface Candidate {
  index: number;
  id: string;
  key: string;
  customerId: string;
  meter: Meter;
  quantity: number;
  occurredAt: Date;
  day: string;
  period: string;
  properties: string | null;
  payloadHash: string;
  stripeCustomerId: string | null;
  lowBalanceThresholdMinor: number | null;
}

/** Largest number of rows per multi-row statement (SQLite allows 32,766 bound values; 12 columns x 1,000 stays under). */
const CHUNK = 1000;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Canonical JSON (object keys sorted) so `{a,b}` and `{b,a}` are the same payload. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

function firstIssue(error: { issues: { message: string; path: PropertyKey[] }[] }): string {
  const issue = error.issues[0];
  if (!issue) return 'Invalid usage event';
  const field = issue.path.length > 0 ? String(issue.path[0]) : null;
  // Unknown keys: name them.
  if (/unrecognized key/i.test(issue.message)) return `Unknown field in usage event: ${issue.message.replace(/^.*?:\s*/, '')}`;
  return field && !issue.message.includes(field) ? `${field}: ${issue.message}` : issue.message;
}

/**
 * Record a batch of usage events for one workspace.
 * @returns `{ results, accepted, duplicates, rejected }`: one result per event in the order
 *   given (`UsageEventResult`: `accepted` with the new event id and the prepaid debit in minor
 *   units, `duplicate` with the first event's id, or `rejected` with a code and a message).
 * @throws only for database failures (the whole batch is rolled back and nothing is stored);
 *   bad events are answered as `rejected`, never thrown.
 */
export async function recordUsage({ db, workspaceId, events, now = new Date() }: RecordUsageOptions): Promise<RecordUsageResult> {
  const t = db.t;
  const results: (UsageEventResult | undefined)[] = new Array(events.length);
  const reject = (index: number, key: string | null, code: UsageRejectionCode, error: string) => {
    results[index] = { index, idempotencyKey: key, status: 'rejected', code, error };
  };

  const currentPeriod = periodOf(now);
  const oldestPeriod = previousPeriod(currentPeriod);
  const oldestAllowed = periodBounds(oldestPeriod).start.getTime();
  const latestAllowed = now.getTime() + MAX_FUTURE_SKEW_MS;

  // 1. Shape of each event, on its own.
  const parsed: { index: number; e: UsageEventInput; occurredAt: Date; properties: string | null }[] = [];
  for (let index = 0; index < events.length; index++) {
    const raw = events[index];
    const rawKey = raw && typeof raw === 'object' && typeof (raw as { idempotencyKey?: unknown }).idempotencyKey === 'string' ? ((raw as { idempotencyKey: string }).idempotencyKey as string) : null;
    const keyForAnswer = rawKey !== null && rawKey.length <= 255 ? rawKey : null;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      reject(index, null, 'invalid', 'A usage event must be a JSON object');
      continue;
    }
    const p = UsageEventInput.safeParse(raw);
    if (!p.success) {
      reject(index, keyForAnswer, 'invalid', firstIssue(p.error));
      continue;
    }
    const e = p.data;
    const occurredAt = e.occurredAt === undefined ? now : new Date(e.occurredAt);
    const at = occurredAt.getTime();
    if (!Number.isFinite(at)) {
      reject(index, e.idempotencyKey, 'invalid', 'occurredAt is not a real date-time');
      continue;
    }
    if (at > latestAllowed) {
      reject(index, e.idempotencyKey, 'invalid', 'occurredAt is more than 5 minutes in the future');
      continue;
    }
    if (at < oldestAllowed) {
      reject(index, e.idempotencyKey, 'period_closed', `occurredAt ${occurredAt.toISOString()} is before the open usage periods (${oldestPeriod} and ${currentPeriod}); late events for a closed period are refused`);
      continue;
    }
    let properties: string | null = null;
    if (e.properties !== undefined) {
      properties = canonicalJson(e.properties);
      if (Buffer.byteLength(properties) > USAGE_PROPERTIES_MAX_BYTES) {
        reject(index, e.idempotencyKey, 'invalid', `properties must be at most ${USAGE_PROPERTIES_MAX_BYTES} bytes of JSON`);
        continue;
      }
    }
    parsed.push({ index, e, occurredAt, properties });
  }

  // 2. Meters and customers of this workspace, in two queries for the whole batch.
  const meterKeys = [...new Set(parsed.map((p) => p.e.meter))];
  const meters = new Map<string, Meter>();
  if (meterKeys.length > 0) {
    for (const m of await db.q
      .select()
      .from(t.meters)
      .where(and(eq(t.meters.workspaceId, workspaceId), inArray(t.meters.key, meterKeys), isNull(t.meters.archivedAt))))
      meters.set(m.key, m);
  }
  const ids = [...new Set(parsed.flatMap((p) => (p.e.customerId ? [p.e.customerId.toLowerCase()] : [])))];
  const externalIds = [...new Set(parsed.flatMap((p) => (p.e.customerExternalId !== undefined ? [p.e.customerExternalId] : [])))];
  const byId = new Map<string, UsageCustomer>();
  const byExternalId = new Map<string, UsageCustomer>();
  const idSet = new Set(ids);
  const externalSet = new Set(externalIds);
  for (const c of await db.usage.findCustomers(workspaceId, ids, externalIds)) {
    if (idSet.has(c.id)) byId.set(c.id, c);
    if (c.externalId !== null && externalSet.has(c.externalId)) byExternalId.set(c.externalId, c);
  }

  // 3. Resolve and fingerprint; a key repeated inside the batch is answered like a stored one.
  const candidates: Candidate[] = [];
  const firstInBatch = new Map<string, Candidate>();
  const sameKeyLater: { index: number; key: string; hash: string }[] = [];
  for (const { index, e, occurredAt, properties } of parsed) {
    const meter = meters.get(e.meter);
    if (!meter) {
      reject(index, e.idempotencyKey, 'unknown_meter', `Unknown meter "${e.meter}" in this workspace`);
      continue;
    }
    const customer = e.customerId ? byId.get(e.customerId.toLowerCase()) : byExternalId.get(e.customerExternalId!);
    if (!customer) {
      reject(index, e.idempotencyKey, 'unknown_customer', e.customerId ? `Unknown customer ${e.customerId} in this workspace` : `No customer with externalId "${e.customerExternalId}" in this workspace`);
      continue;
    }
    if (meter.billingMode === 'stripe_meter' && (!customer.stripeCustomerId || !meter.stripeMeterEventName)) {
      reject(
        index,
        e.idempotencyKey,
        'no_stripe_customer',
        !meter.stripeMeterEventName ? `Meter "${meter.key}" has no Stripe meter event name` : `Meter "${meter.key}" is billed by Stripe, and this customer has no Stripe customer yet`,
      );
      continue;
    }
    const payloadHash = createHash('sha256')
      .update(JSON.stringify([customer.id, meter.id, e.quantity, e.occurredAt === undefined ? null : occurredAt.getTime(), properties]))
      .digest('hex');
    const earlier = firstInBatch.get(e.idempotencyKey);
    if (earlier) {
      sameKeyLater.push({ index, key: e.idempotencyKey, hash: payloadHash });
      continue;
    }
    const c: Candidate = {
      index,
      id: newId(),
      key: e.idempotencyKey,
      customerId: customer.id,
      meter,
      quantity: e.quantity,
      occurredAt,
      day: dayOf(occurredAt),
      period: periodOf(occurredAt),
      properties,
      payloadHash,
      stripeCustomerId: customer.stripeCustomerId,
      lowBalanceThresholdMinor: customer.lowBalanceThresholdMinor === null ? null : Number(customer.lowBalanceThresholdMinor),
    };
    firstInBatch.set(e.idempotencyKey, c);
    candidates.push(c);
  }

  // Workspace settings and low-balance contacts (read before the transaction: no await inside it).
  let allowNegative = false;
  let currency = 'usd';
  const contacts = new Map<string, string[]>();
  if (candidates.length > 0) {
    const [ws] = await db.q.select({ currency: t.workspaces.currency, allowNegativeBalance: t.workspaces.allowNegativeBalance }).from(t.workspaces).where(eq(t.workspaces.id, workspaceId));
    if (!ws) throw new Error(`workspace ${workspaceId} not found`);
    allowNegative = ws.allowNegativeBalance;
    currency = ws.currency;
    const watched = new Set<string>();
    for (const c of candidates) if (c.meter.billingMode === 'prepaid' && c.lowBalanceThresholdMinor !== null) watched.add(c.customerId);
    for (const customerId of watched) contacts.set(customerId, await billingContactsOf(db, { workspaceId, customerId }));
  }
  const thresholds = new Map<string, number>();
  for (const c of candidates) if (c.lowBalanceThresholdMinor !== null) thresholds.set(c.customerId, c.lowBalanceThresholdMinor);

  const dialect = db.dialect;
  const receivedAt = now;
  const receivedAtMs = now.getTime();
  const outcome = await db.transaction(function* (tx) {
    const out = new Map<number, UsageEventResult>();
    let pending = candidates.slice().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

    // a. Periods: hold the shared lock, refuse events for a period that is closing or closed,
    //    and late events of a customer whose invoice for that period already exists.
    const periods = [...new Set(pending.map((c) => c.period))].sort();
    for (const period of periods) yield* transactionLock(tx, dialect, `usage-period:${workspaceId}:${period}`, 'shared');
    if (periods.length > 0) {
      const shut = new Set(
        (yield* all(tx.select({ period: t.usagePeriods.period }).from(t.usagePeriods).where(and(eq(t.usagePeriods.workspaceId, workspaceId), inArray(t.usagePeriods.period, periods))))).map(
          (r) => r.period,
        ),
      );
      const late = pending.filter((c) => c.period !== currentPeriod && !shut.has(c.period));
      const invoiced = new Set<string>();
      if (late.length > 0) {
        const lateCustomers = [...new Set(late.map((c) => c.customerId))];
        for (const part of chunks(lateCustomers)) {
          for (const r of yield* all(
            tx
              .select({ customerId: t.usageInvoices.customerId, period: t.usageInvoices.period })
              .from(t.usageInvoices)
              .where(and(eq(t.usageInvoices.workspaceId, workspaceId), inArray(t.usageInvoices.customerId, part), inArray(t.usageInvoices.period, periods))),
          ))
            invoiced.add(`${r.customerId}|${r.period}`);
        }
      }
      pending = pending.filter((c) => {
        if (shut.has(c.period)) {
          out.set(c.index, { index: c.index, idempotencyKey: c.key, status: 'rejected', code: 'period_closed', error: `The usage period ${c.period} is closed; late events for it are refused` });
          return false;
        }
        if (invoiced.has(`${c.customerId}|${c.period}`)) {
          out.set(c.index, { index: c.index, idempotencyKey: c.key, status: 'rejected', code: 'period_closed', error: `This customer's usage for ${c.period} is already invoiced; late events for it are refused` });
          return false;
        }
        return true;
      });
    }

    // b. Insert; what was not inserted is already stored.
    const inserted = new Set<string>();
    for (const part of chunks(pending)) {
      const keys = yield* db.usage.insertEvents(
        tx,
        workspaceId,
        receivedAtMs,
        part.map((c) => ({
          id: c.id,
          customerId: c.customerId,
          meterId: c.meter.id,
          idempotencyKey: c.key,
          quantity: c.quantity,
          occurredAtMs: c.occurredAt.getTime(),
          properties: c.properties,
          payloadHash: c.payloadHash,
          chargedMinor: 0,
        })),
      );
      for (const k of keys) inserted.add(k);
    }
    const stored = pending.filter((c) => !inserted.has(c.key));
    if (stored.length > 0) {
      const existing = new Map<string, { id: string; payloadHash: string }>();
      for (const part of chunks(stored)) {
        for (const r of yield* db.usage.findEvents(
          tx,
          workspaceId,
          part.map((c) => c.key),
        ))
          existing.set(r.idempotencyKey, r);
      }
      for (const c of stored) {
        const prior = existing.get(c.key);
        if (!prior) throw new Error(`usage event ${c.key} neither inserted nor found`);
        out.set(
          c.index,
          prior.payloadHash === c.payloadHash
            ? { index: c.index, idempotencyKey: c.key, status: 'duplicate', eventId: prior.id }
            : { index: c.index, idempotencyKey: c.key, status: 'rejected', code: 'conflict', error: 'This idempotencyKey was already used for a different usage event' },
        );
      }
    }
    let fresh = pending.filter((c) => inserted.has(c.key));

    // c. Prepaid debits, in the order the events were sent.
    const charged = new Map<string, number>(); // candidate id -> debit
    const prepaid = fresh.filter((c) => c.meter.billingMode === 'prepaid' && c.meter.priceMinor > 0);
    const balanceBefore = new Map<string, number>();
    const balanceAfter = new Map<string, number>();
    const refused: Candidate[] = [];
    const crossing = new Map<string, Candidate>();
    if (prepaid.length > 0) {
      const customerIds = [...new Set(prepaid.map((c) => c.customerId))].sort();
      for (const part of chunks(customerIds)) {
        yield* run(
          tx
            .insert(t.customerBalances)
            .values(part.map((customerId) => ({ customerId, currency, amountMinor: 0, updatedAt: receivedAt })))
            .onConflictDoNothing(),
        );
        // A no-op UPDATE locks the rows on Postgres (in id order) and returns the balances.
        for (const r of yield* all(
          tx
            .update(t.customerBalances)
            .set({ amountMinor: sql`${t.customerBalances.amountMinor}` })
            .where(and(inArray(t.customerBalances.customerId, part), eq(t.customerBalances.currency, currency)))
            .returning({ customerId: t.customerBalances.customerId, amountMinor: t.customerBalances.amountMinor }),
        ))
          balanceBefore.set(r.customerId, Number(r.amountMinor));
      }
      const meterIds = [...new Set(prepaid.map((c) => c.meter.id))];
      const prepaidPeriods = [...new Set(prepaid.map((c) => c.period))].sort();
      const from = `${prepaidPeriods[0]}-01`;
      const totals = new Map<string, UsageTotals & { charged: number }>();
      const r = t.usageDailyRollups;
      for (const part of chunks(customerIds)) {
        for (const row of yield* all(
          tx
            .select({
              customerId: r.customerId,
              meterId: r.meterId,
              period: sql<string>`substr(${r.day}, 1, 7)`,
              quantity: sql<number>`sum(${r.quantity})`,
              eventCount: sql<number>`sum(${r.eventCount})`,
              maxQuantity: sql<number>`max(${r.maxQuantity})`,
              charged: sql<number>`sum(${r.chargedMinor})`,
            })
            .from(r)
            .where(and(inArray(r.customerId, part), inArray(r.meterId, meterIds), sql`${r.day} >= ${from}`))
            .groupBy(r.customerId, r.meterId, sql`substr(${r.day}, 1, 7)`),
        ))
          totals.set(`${row.customerId}|${row.meterId}|${row.period}`, {
            quantity: Number(row.quantity),
            eventCount: Number(row.eventCount),
            maxQuantity: Number(row.maxQuantity),
            charged: Number(row.charged),
          });
      }
      for (const [id, amount] of balanceBefore) balanceAfter.set(id, amount);
      for (const c of prepaid.slice().sort((a, b) => a.index - b.index)) {
        const k = `${c.customerId}|${c.meter.id}|${c.period}`;
        const cur = totals.get(k) ?? { quantity: 0, eventCount: 0, maxQuantity: 0, charged: 0 };
        const next = { quantity: cur.quantity + c.quantity, eventCount: cur.eventCount + 1, maxQuantity: Math.max(cur.maxQuantity, c.quantity), charged: cur.charged };
        const debit = Math.max(0, costMinor(aggregateQuantity(c.meter.aggregation, next), c.meter) - cur.charged);
        const balance = balanceAfter.get(c.customerId) ?? 0;
        if (debit > 0 && !allowNegative && balance - debit < 0) {
          refused.push(c);
          out.set(c.index, {
            index: c.index,
            idempotencyKey: c.key,
            status: 'rejected',
            code: 'payment_required',
            error: `The prepaid balance (${balance} ${currency} minor units) cannot cover this event's charge of ${debit}; top up first`,
          });
          continue;
        }
        next.charged += debit;
        totals.set(k, next);
        if (debit > 0) {
          charged.set(c.id, debit);
          balanceAfter.set(c.customerId, balance - debit);
          const threshold = thresholds.get(c.customerId);
          if (threshold !== undefined && balance >= threshold && balance - debit < threshold && !crossing.has(c.customerId)) crossing.set(c.customerId, c);
        }
      }
    }
    if (refused.length > 0) {
      for (const part of chunks(refused)) yield* run(tx.delete(t.usageEvents).where(inArray(t.usageEvents.id, part.map((c) => c.id))));
      const gone = new Set(refused.map((c) => c.id));
      fresh = fresh.filter((c) => !gone.has(c.id));
    }

    // d. Daily rollups (one upsert row per customer, meter and day, in key order).
    const daily = new Map<string, { customerId: string; meterId: string; day: string; quantity: number; eventCount: number; maxQuantity: number; chargedMinor: number }>();
    for (const c of fresh) {
      const k = `${c.customerId}|${c.meter.id}|${c.day}`;
      const row = daily.get(k);
      const debit = charged.get(c.id) ?? 0;
      if (row) {
        row.quantity += c.quantity;
        row.eventCount += 1;
        row.maxQuantity = Math.max(row.maxQuantity, c.quantity);
        row.chargedMinor += debit;
      } else daily.set(k, { customerId: c.customerId, meterId: c.meter.id, day: c.day, quantity: c.quantity, eventCount: 1, maxQuantity: c.quantity, chargedMinor: debit });
    }
    const dailyRows = [...daily.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    for (const part of chunks(dailyRows)) yield* db.usage.addToDailyRollups(tx, workspaceId, part);

    // e. Ledger debits and balances.
    const debited = fresh.filter((c) => charged.has(c.id));
    if (debited.length > 0) {
      for (const part of chunks(debited)) {
        yield* run(
          tx.insert(t.ledgerEntries).values(
            part.map((c) => ({
              id: newId(),
              workspaceId,
              customerId: c.customerId,
              currency,
              amountMinor: -charged.get(c.id)!,
              kind: 'usage_charge' as const,
              reference: `usage:${c.id}`,
              description: `Usage: ${c.meter.displayName}`,
              createdAt: receivedAt,
            })),
          ),
        );
        const charge = new Map<string, number>();
        for (const c of part) charge.set(c.id, charged.get(c.id)!);
        for (const [eventId, amount] of charge) yield* run(tx.update(t.usageEvents).set({ chargedMinor: amount }).where(eq(t.usageEvents.id, eventId)));
      }
      const perCustomer = new Map<string, number>();
      for (const c of debited) perCustomer.set(c.customerId, (perCustomer.get(c.customerId) ?? 0) + charged.get(c.id)!);
      for (const [customerId, amount] of [...perCustomer.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        yield* run(
          tx
            .update(t.customerBalances)
            .set({ amountMinor: sql`${t.customerBalances.amountMinor} - ${amount}`, updatedAt: receivedAt })
            .where(and(eq(t.customerBalances.customerId, customerId), eq(t.customerBalances.currency, currency))),
        );
      }
    }

    // f. Stripe meter outbox.
    const forwarded = fresh.filter((c) => c.meter.billingMode === 'stripe_meter');
    for (const part of chunks(forwarded)) {
      yield* run(
        tx
          .insert(t.stripeMeterOutbox)
          .values(
            part.map((c) => ({
              id: newId(),
              workspaceId,
              usageEventId: c.id,
              eventName: c.meter.stripeMeterEventName!,
              stripeCustomerId: c.stripeCustomerId!,
              value: c.quantity,
              identifier: c.key,
              occurredAt: c.occurredAt,
              status: 'pending',
              attempts: 0,
              nextAttemptAt: receivedAt,
              createdAt: receivedAt,
            })),
          )
          .onConflictDoNothing(),
      );
    }

    // g. One low-balance notice per crossing (reference: the event that crossed).
    for (const [customerId, c] of crossing) {
      const threshold = thresholds.get(customerId)!;
      const after = balanceAfter.get(customerId)!;
      for (const to of contacts.get(customerId) ?? []) {
        yield* enqueueEmailInTx(tx, t, {
          kind: 'usage_low_balance',
          to,
          workspaceId,
          reference: `usage-low-balance:${c.id}:${to}`,
          subject: 'Your prepaid balance is running low',
          text: `Your prepaid balance is now ${formatMinor(after, currency)}, below the ${formatMinor(threshold, currency)} you asked to be warned at. Top up to keep using the service without interruption.`,
        });
      }
    }

    for (const c of fresh) out.set(c.index, { index: c.index, idempotencyKey: c.key, status: 'accepted', eventId: c.id, chargedMinor: charged.get(c.id) ?? 0 });
    // For the live stream after commit: each debited customer's balance once, and each crossing.
    const debitedCustomers = [...new Set(debited.map((c) => c.customerId))];
    const balances = debitedCustomers.map((customerId) => ({ customerId, balanceMinor: balanceAfter.get(customerId)! }));
    const crossings = [...crossing.keys()].map((customerId) => ({ customerId, balanceMinor: balanceAfter.get(customerId)!, thresholdMinor: thresholds.get(customerId)! }));
    return { out, crossed: crossing.size > 0, balances, crossings };
  });
  // Committed: tell the live stream (issue 10): at most one balance.changed per customer per batch.
  for (const b of outcome.balances) publishBillingChange({ kind: 'balance.changed', workspaceId, customerId: b.customerId, balanceMinor: b.balanceMinor, currency });
  for (const c of outcome.crossings) publishBillingChange({ kind: 'usage.threshold_crossed', workspaceId, customerId: c.customerId, balanceMinor: c.balanceMinor, thresholdMinor: c.thresholdMinor, currency });

  for (const [index, result] of outcome.out) results[index] = result;
  // Repeats inside the batch answer like the first copy's outcome.
  for (const { index, key, hash } of sameKeyLater) {
    const first = firstInBatch.get(key)!;
    const firstResult = results[first.index]!;
    if (first.payloadHash !== hash) reject(index, key, 'conflict', 'This idempotencyKey was already used for a different usage event');
    else if (firstResult.status === 'rejected') results[index] = { ...firstResult, index };
    else results[index] = { index, idempotencyKey: key, status: 'duplicate', eventId: firstResult.eventId };
  }
  const final = results as UsageEventResult[];
  let accepted = 0;
  let duplicates = 0;
  let rejected = 0;
  for (const r of final) {
    if (r.status === 'accepted') accepted++;
    else if (r.status === 'duplicate') duplicates++;
    else rejected++;
  }
  if (outcome.crossed) notifyEmailEnqueued(db);
  return { results: final, accepted, duplicates, rejected };
}
