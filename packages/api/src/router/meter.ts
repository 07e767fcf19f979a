import { archiveMeter, getCustomerUsageSettings, getUsageSettings, listMeters, saveCustomerUsageSettings, saveMeter, saveUsageSettings } from '../meters/index';
import { CustomerUsageSettingsInput, CustomerUsageSettingsQuery, MeterArchiveInput, MeterListInput, MeterSaveInput, UsageSettingsInput } from '../schemas/meters';
import { adminProcedure, createTRPCRouter } from '../trpc';

/**
 * Meters and usage settings (issue 9 item 1), the admin's *Meters* page. Every procedure acts
 * on the selected workspace (`ctx.workspaceId`): another workspace's meter or customer is
 * NOT_FOUND; a non-admin is FORBIDDEN; invalid input is BAD_REQUEST. Changes are audited.
 * Prices are minor units of the workspace currency per block.
 */
export const meterRouter = createTRPCRouter({
  /** `{ includeArchived? }` -> the workspace's meters (`Meter[]`, by key). */
  list: adminProcedure.input(MeterListInput).query(({ ctx, input }) => listMeters(ctx.db, { workspaceId: ctx.workspaceId, includeArchived: input?.includeArchived ?? false })),
  /** Create (no `meterId`) or update a meter -> the row; `stripe_meter` checks the Stripe Billing Meter (see `saveMeter`). Audit `meter.create` / `meter.update`. */
  save: adminProcedure.input(MeterSaveInput).mutation(({ ctx, input }) => saveMeter({ ctx, input })),
  /** `{ meterId, archived }` -> the row; archived meters refuse new events. Audit `meter.archive` / `meter.unarchive`. */
  archive: adminProcedure
    .input(MeterArchiveInput)
    .mutation(({ ctx, input }) => archiveMeter(ctx.db, { workspaceId: ctx.workspaceId, meterId: input.meterId, archived: input.archived, actor: ctx.actor, requestId: ctx.requestId })),
  /** -> `{ allowNegativeBalance, currency }` of the workspace. */
  usageSettings: adminProcedure.query(({ ctx }) => getUsageSettings(ctx.db, { workspaceId: ctx.workspaceId })),
  /** `{ allowNegativeBalance }` -> the settings. Audit `workspace.usage_settings`. */
  saveUsageSettings: adminProcedure
    .input(UsageSettingsInput)
    .mutation(({ ctx, input }) => saveUsageSettings(ctx.db, { workspaceId: ctx.workspaceId, actor: ctx.actor, requestId: ctx.requestId, input })),
  /** `{ customerId }` -> `{ customerId, externalId, lowBalanceThresholdMinor, currency }`. */
  customerUsageSettings: adminProcedure
    .input(CustomerUsageSettingsQuery)
    .query(({ ctx, input }) => getCustomerUsageSettings(ctx.db, { workspaceId: ctx.workspaceId, customerId: input.customerId })),
  /** `{ customerId, externalId, lowBalanceThresholdMinor }` -> the settings; CONFLICT for an external id another customer has. Audit `customer.usage_settings`. */
  saveCustomerUsageSettings: adminProcedure
    .input(CustomerUsageSettingsInput)
    .mutation(({ ctx, input }) => saveCustomerUsageSettings(ctx.db, { workspaceId: ctx.workspaceId, actor: ctx.actor, requestId: ctx.requestId, input })),
});
