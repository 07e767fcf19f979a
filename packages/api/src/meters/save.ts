import { and, eq, get, ne, run, type Database, type Meter } from '@tally/db';
import type Stripe from 'stripe';
import { recordAuditInTx, type AuditActor } from '../audit/record';
import { AppError } from '../errors';
import { newId } from '../ids';
import type { Logger } from '../logger';
import { MeterSaveInput } from '../schemas/meters';
import type { StripeAccounts } from '../stripe/accounts';
import { requireStripeFor } from '../stripe/require-configured';
import { describeError } from '../webhooks/text';

/** What saving a meter needs: the workspace (already authorized), who acts, and its Stripe for `stripe_meter`. */
export interface MeterCtx {
  db: Database;
  stripeAccounts: StripeAccounts;
  logger: Logger;
  actor: AuditActor;
  requestId?: string | null;
  workspaceId: string;
}

/** The payload keys of the meter events Tally forwards (`{ stripe_customer_id, value }`, Stripe's defaults; usage/stripe-meter-outbox.ts). */
export const STRIPE_METER_CUSTOMER_KEY = 'stripe_customer_id';
export const STRIPE_METER_VALUE_KEY = 'value';
/** Most Stripe Billing Meters read when looking for an event name (Stripe lists 100 per page). */
const STRIPE_METER_SCAN_LIMIT = 1000;

/** A meter's fields as the audit log keeps them (no ids, no timestamps but `archivedAt`). */
export function meterAuditView(m: Meter) {
  return {
    key: m.key,
    displayName: m.displayName,
    unit: m.unit,
    aggregation: m.aggregation,
    priceMinor: m.priceMinor,
    blockSize: m.blockSize,
    billingMode: m.billingMode,
    stripeMeterEventName: m.stripeMeterEventName,
    archivedAt: m.archivedAt ? m.archivedAt.toISOString() : null,
  };
}

/** BAD_REQUEST with zod's first message per issue, joined (as trpc.ts does for procedure inputs). */
function parseInput(input: unknown): MeterSaveInput {
  const parsed = MeterSaveInput.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/**
 * Check that the workspace's Stripe account has an active Billing Meter listening to
 * `eventName` (docs.stripe.com/api/billing/meter/list) that aggregates like the Tally meter
 * (`sum` -> `sum`, `count` -> `count`) and reads the payload keys Tally sends
 * (`stripe_customer_id`, and `value` for `sum`), so Stripe bills what Tally counts.
 * @throws AppError CONFLICT when the workspace has no usable Stripe (the reason, as plans);
 * BAD_REQUEST naming the event name when no such meter exists, it is inactive, or it
 * aggregates or maps the payload differently; BAD_GATEWAY when Stripe cannot be reached (logged,
 * Stripe's text never shown).
 */
async function checkStripeMeter(ctx: MeterCtx, eventName: string, aggregation: 'sum' | 'count' | 'max'): Promise<void> {
  const ws = await requireStripeFor(ctx, ctx.workspaceId);
  const found: Stripe.Billing.Meter[] = [];
  try {
    let scanned = 0;
    for await (const meter of ws.client.billing.meters.list({ limit: 100 })) {
      if (meter.event_name === eventName) found.push(meter);
      if (++scanned >= STRIPE_METER_SCAN_LIMIT) break;
    }
  } catch (err) {
    ctx.logger.error({ requestId: ctx.requestId ?? null, workspaceId: ctx.workspaceId, err: describeError(err) }, 'Could not list Stripe Billing Meters');
    throw new AppError('BAD_GATEWAY', 'Stripe could not be reached to check the Billing Meter; try again');
  }
  const meter = found.find((m) => m.status === 'active');
  if (!meter) {
    if (found.length > 0) {
      throw new AppError('BAD_REQUEST', `stripeMeterEventName: the Stripe Billing Meter for event name "${eventName}" (${found[0]!.id}) is inactive; reactivate it in Stripe first`);
    }
    throw new AppError('BAD_REQUEST', `stripeMeterEventName: this workspace's Stripe account has no Billing Meter with event name "${eventName}"`);
  }
  const formula = meter.default_aggregation.formula;
  if (formula !== aggregation) {
    throw new AppError('BAD_REQUEST', `stripeMeterEventName: the Stripe Billing Meter "${eventName}" (${meter.id}) aggregates by ${formula}, this meter by ${aggregation}; they must agree so Stripe bills what Tally counts`);
  }
  if (meter.customer_mapping.event_payload_key !== STRIPE_METER_CUSTOMER_KEY || (aggregation === 'sum' && meter.value_settings.event_payload_key !== STRIPE_METER_VALUE_KEY)) {
    throw new AppError(
      'BAD_REQUEST',
      `stripeMeterEventName: the Stripe Billing Meter "${eventName}" (${meter.id}) must read the customer from "${STRIPE_METER_CUSTOMER_KEY}" and the value from "${STRIPE_METER_VALUE_KEY}" (Stripe's defaults), which Tally sends`,
    );
  }
}

/**
 * Create a meter (no `meterId`) or update one of the workspace. `input` is validated with
 * `MeterSaveInput` (key `[a-z0-9_]{1,64}`, display name 1..100, unit 1..32, aggregation, price
 * 0..99,999,999 minor units per block of 1..1,000,000,000 units, billing mode, Stripe event
 * name iff `stripe_meter`). For `stripe_meter`, the Stripe Billing Meter is checked whenever the
 * meter becomes `stripe_meter` or its event name or aggregation changes (see
 * `checkStripeMeter`); nothing is written when a check fails. Writes `meter.create` /
 * `meter.update` to the audit log (before/after) in the same transaction.
 * A price, block or mode change applies to the whole open period when it is billed (costs are
 * computed from the period's rollups at close; prepaid debits already taken stay).
 * @returns the saved row.
 * @throws AppError BAD_REQUEST for invalid input or a changed `key`; NOT_FOUND for a `meterId`
 * not in the workspace; CONFLICT for a key another meter of the workspace has, or an event name
 * another of its meters already forwards to; and the errors of `checkStripeMeter`.
 */
export async function saveMeter({ ctx, input: raw }: { ctx: MeterCtx; input: unknown }): Promise<Meter> {
  const input = parseInput(raw);
  const { db } = ctx;
  const { meters: m } = db.t;
  const [existing] = input.meterId ? await db.q.select().from(m).where(and(eq(m.id, input.meterId), eq(m.workspaceId, ctx.workspaceId))) : [];
  if (input.meterId && !existing) throw new AppError('NOT_FOUND', 'Meter not found');
  if (existing && existing.key !== input.key) {
    throw new AppError('BAD_REQUEST', `key cannot change after a meter is created (usage events name it "${existing.key}"); create a new meter instead`);
  }
  if (!existing) {
    const [clash] = await db.q.select({ id: m.id }).from(m).where(and(eq(m.workspaceId, ctx.workspaceId), eq(m.key, input.key)));
    if (clash) throw new AppError('CONFLICT', `Another meter already has the key ${input.key}`);
  }
  const eventName = input.billingMode === 'stripe_meter' ? (input.stripeMeterEventName ?? null) : null;
  if (eventName !== null) {
    const [twin] = await db.q
      .select({ key: m.key })
      .from(m)
      .where(and(eq(m.workspaceId, ctx.workspaceId), eq(m.stripeMeterEventName, eventName), ...(existing ? [ne(m.id, existing.id)] : [])));
    if (twin) throw new AppError('CONFLICT', `Meter ${twin.key} already forwards to the Stripe meter event name "${eventName}"; one Tally meter per Stripe meter`);
    const stripeChanged = !existing || existing.billingMode !== 'stripe_meter' || existing.stripeMeterEventName !== eventName || existing.aggregation !== input.aggregation;
    if (stripeChanged) await checkStripeMeter(ctx, eventName, input.aggregation);
  }

  const now = new Date();
  const values = {
    displayName: input.displayName,
    unit: input.unit,
    aggregation: input.aggregation,
    priceMinor: input.priceMinor,
    blockSize: input.blockSize,
    billingMode: input.billingMode,
    stripeMeterEventName: eventName,
    updatedAt: now,
  };
  const id = existing?.id ?? newId();
  try {
    await db.transaction(function* (tx) {
      let before: Meter | undefined;
      if (existing) {
        before = yield* get(tx.select().from(m).where(and(eq(m.id, existing.id), eq(m.workspaceId, ctx.workspaceId))));
        if (!before) throw new AppError('NOT_FOUND', 'Meter not found');
        yield* run(tx.update(m).set(values).where(eq(m.id, existing.id)));
      } else {
        yield* run(tx.insert(m).values({ id, workspaceId: ctx.workspaceId, key: input.key, archivedAt: null, createdAt: now, ...values }));
      }
      const after = yield* get(tx.select().from(m).where(eq(m.id, id)));
      yield* recordAuditInTx(tx, db.t, {
        workspaceId: ctx.workspaceId,
        actor: ctx.actor,
        action: existing ? 'meter.update' : 'meter.create',
        targetType: 'meter',
        targetId: id,
        before: before ? meterAuditView(before) : null,
        after: after ? meterAuditView(after) : null,
        requestId: ctx.requestId ?? null,
      });
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    // Two admins creating the same key at once: the unique (workspace, key) index decides.
    if (/unique|duplicate/i.test(describeError(err))) throw new AppError('CONFLICT', `Another meter already has the key ${input.key}`);
    throw err;
  }
  const [row] = await db.q.select().from(m).where(eq(m.id, id));
  return row!;
}
