import { and, eq, get, ne, run, type Database } from '@tally/db';
import { recordAuditInTx, type AuditActor } from '../audit/record';
import { AppError, notFound } from '../errors';
import { CustomerUsageSettingsInput, UsageSettingsInput } from '../schemas/meters';
import { describeError } from '../webhooks/text';
import type { z } from 'zod';

/** A workspace's usage settings. */
export interface UsageSettingsView {
  /** Whether a prepaid usage debit may take a customer's balance below zero (otherwise the event is refused with 402). */
  allowNegativeBalance: boolean;
  /** The workspace currency (ISO 4217, lowercase): meters' prices and balances are in its minor units. */
  currency: string;
}

/** One customer's usage settings. */
export interface CustomerUsageSettingsView {
  customerId: string;
  /** The id the workspace's own system knows the customer by (usage events' `customerExternalId`), or null. */
  externalId: string | null;
  /** Balance in minor units below which one low-balance notice is sent when a usage debit crosses it; null = no notice. */
  lowBalanceThresholdMinor: number | null;
  /** The workspace currency of the threshold. */
  currency: string;
}

/** Parse `input` or throw BAD_REQUEST with zod's messages joined (as trpc.ts does for procedure inputs). */
function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/**
 * The workspace's usage settings (`{ allowNegativeBalance, currency }`). Source: `workspaces`.
 * @throws AppError NOT_FOUND when the workspace does not exist.
 */
export async function getUsageSettings(db: Database, { workspaceId }: { workspaceId: string }): Promise<UsageSettingsView> {
  const { workspaces: w } = db.t;
  const [row] = await db.q.select({ allowNegativeBalance: w.allowNegativeBalance, currency: w.currency }).from(w).where(eq(w.id, workspaceId));
  if (!row) throw notFound('Workspace');
  return row;
}

/**
 * Save the workspace's usage settings (`UsageSettingsInput`: `allowNegativeBalance`). Takes
 * effect for the next ingested batch. Audited as `workspace.usage_settings` (before/after) in
 * the same transaction, only when the value changes.
 * @returns the settings after the call.
 * @throws AppError BAD_REQUEST for invalid input; NOT_FOUND when the workspace does not exist.
 */
export async function saveUsageSettings(
  db: Database,
  { workspaceId, actor, requestId = null, input: raw }: { workspaceId: string; actor: AuditActor; requestId?: string | null; input: unknown },
): Promise<UsageSettingsView> {
  const input = parse(UsageSettingsInput, raw);
  const { workspaces: w } = db.t;
  return db.transaction(function* (tx) {
    const before = yield* get(tx.select({ allowNegativeBalance: w.allowNegativeBalance, currency: w.currency }).from(w).where(eq(w.id, workspaceId)));
    if (!before) throw notFound('Workspace');
    if (before.allowNegativeBalance === input.allowNegativeBalance) return before;
    yield* run(tx.update(w).set({ allowNegativeBalance: input.allowNegativeBalance }).where(eq(w.id, workspaceId)));
    yield* recordAuditInTx(tx, db.t, {
      workspaceId,
      actor,
      action: 'workspace.usage_settings',
      targetType: 'workspace',
      targetId: workspaceId,
      before: { allowNegativeBalance: before.allowNegativeBalance },
      after: { allowNegativeBalance: input.allowNegativeBalance },
      requestId,
    });
    return { allowNegativeBalance: input.allowNegativeBalance, currency: before.currency };
  });
}

/**
 * One customer's usage settings (`CustomerUsageSettingsView`). Source: `customers` joined to
 * its workspace for the currency.
 * @throws AppError BAD_REQUEST for a malformed id; NOT_FOUND for a customer of another workspace or none.
 */
export async function getCustomerUsageSettings(db: Database, { workspaceId, customerId }: { workspaceId: string; customerId: string }): Promise<CustomerUsageSettingsView> {
  parse(CustomerUsageSettingsInput.pick({ customerId: true }), { customerId });
  const { customers: c, workspaces: w } = db.t;
  const [row] = await db.q
    .select({ customerId: c.id, externalId: c.externalId, lowBalanceThresholdMinor: c.lowBalanceThresholdMinor, currency: w.currency })
    .from(c)
    .innerJoin(w, eq(w.id, c.workspaceId))
    .where(and(eq(c.id, customerId), eq(c.workspaceId, workspaceId)));
  if (!row) throw notFound('Customer');
  return row;
}

/**
 * Save a customer's usage settings (`CustomerUsageSettingsInput`): `externalId` (trimmed,
 * 1..255 characters, unique per workspace; null clears it) and `lowBalanceThresholdMinor`
 * (an integer >= 0 in minor units; null: no notice). Audited as `customer.usage_settings`
 * (before/after) in the same transaction, only when something changes.
 * @returns the settings after the call.
 * @throws AppError BAD_REQUEST for invalid input; NOT_FOUND for a customer of another
 * workspace or none; CONFLICT when another customer of the workspace has the external id
 * (also when two saves race: the unique (workspace, external id) index decides).
 */
export async function saveCustomerUsageSettings(
  db: Database,
  { workspaceId, actor, requestId = null, input: raw }: { workspaceId: string; actor: AuditActor; requestId?: string | null; input: unknown },
): Promise<CustomerUsageSettingsView> {
  const input = parse(CustomerUsageSettingsInput, raw);
  const { customers: c, workspaces: w } = db.t;
  const taken = () => new AppError('CONFLICT', `Another customer of this workspace already has the external id ${JSON.stringify(input.externalId)}`);
  try {
    return await db.transaction(function* (tx) {
      const before = yield* get(
        tx
          .select({ externalId: c.externalId, lowBalanceThresholdMinor: c.lowBalanceThresholdMinor, currency: w.currency })
          .from(c)
          .innerJoin(w, eq(w.id, c.workspaceId))
          .where(and(eq(c.id, input.customerId), eq(c.workspaceId, workspaceId))),
      );
      if (!before) throw notFound('Customer');
      const view = { customerId: input.customerId, externalId: input.externalId, lowBalanceThresholdMinor: input.lowBalanceThresholdMinor, currency: before.currency };
      if (before.externalId === input.externalId && before.lowBalanceThresholdMinor === input.lowBalanceThresholdMinor) return view;
      if (input.externalId !== null && input.externalId !== before.externalId) {
        const clash = yield* get(tx.select({ id: c.id }).from(c).where(and(eq(c.workspaceId, workspaceId), eq(c.externalId, input.externalId), ne(c.id, input.customerId))));
        if (clash) throw taken();
      }
      yield* run(tx.update(c).set({ externalId: input.externalId, lowBalanceThresholdMinor: input.lowBalanceThresholdMinor }).where(eq(c.id, input.customerId)));
      yield* recordAuditInTx(tx, db.t, {
        workspaceId,
        actor,
        action: 'customer.usage_settings',
        targetType: 'customer',
        targetId: input.customerId,
        before: { externalId: before.externalId, lowBalanceThresholdMinor: before.lowBalanceThresholdMinor },
        after: { externalId: input.externalId, lowBalanceThresholdMinor: input.lowBalanceThresholdMinor },
        requestId,
      });
      return view;
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (/unique|duplicate/i.test(describeError(err))) throw taken();
    throw err;
  }
}
