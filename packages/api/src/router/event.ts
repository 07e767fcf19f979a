import { getStripeEventDetail, replayStripeEventForAdmin } from '../events/detail';
import { EventGetInput, EventReplayInput } from '../schemas/events';
import { adminProcedure, createTRPCRouter } from '../trpc';

/** The admin's Stripe event detail page and its Replay button (issue 10 item 2; events/detail.ts). */
export const eventRouter = createTRPCRouter({
  /**
   * `{ eventId: 'evt_...', scope?: 'deployment' | workspaceId }` -> `{ event: { scope, id, type,
   * status, attempts, receivedAt, processedAt, nextAttemptAt, outcome, lastError,
   * payloadPrunedAt, ... }, payload (parsed JSON, null when pruned), payloadError, errors
   * (newest first), replayable, effect: { objectType, objectId, ledgerEntries, topups,
   * billingRecords, subscriptions, invoices (each with a `link` for the SPA) } }`.
   * The selected workspace's events only: another workspace's -> NOT_FOUND.
   */
  get: adminProcedure.input(EventGetInput).query(({ ctx, input }) => getStripeEventDetail({ db: ctx.db, workspaceId: ctx.workspaceId, eventId: input.eventId, scope: input.scope })),
  /**
   * `{ eventId, scope?, dryRun? }` -> `{ scope, eventId, type, statusBefore, statusAfter, action,
   * detail }` (events/replay.ts). Failed and dead events only (others: BAD_REQUEST "only failed
   * or dead events can be replayed"); another workspace's -> NOT_FOUND. Audited
   * (`stripe_event.replay`) unless `dryRun`, which changes nothing.
   */
  replay: adminProcedure.input(EventReplayInput).mutation(({ ctx, input }) =>
    replayStripeEventForAdmin(
      { db: ctx.db, logger: ctx.logger, stripeAccounts: ctx.stripeAccounts, publicUrl: ctx.config.publicUrl, graceDays: ctx.config.dunningGraceDays, webUrl: ctx.config.webUrl },
      { workspaceId: ctx.workspaceId, actor: ctx.actor, requestId: ctx.requestId, eventId: input.eventId, scope: input.scope, dryRun: input.dryRun },
    ),
  ),
});
