import { TRPCError, tracked } from '@trpc/server';
import { z } from 'zod';
import { AppError } from '../errors';
import { BillingStreamInterrupted, runningBus } from '../stream/bus';
import { resolveStreamAudience } from '../stream/audience';
import { STREAM_ID_PATTERN, type BillingStreamMessage } from '../stream/messages';
import { createTRPCRouter, publicProcedure } from '../trpc';

/**
 * `stream.billing` input. EventSource sends no custom headers, so the admin's selected
 * workspace comes here instead of `X-Tally-Workspace`; `lastEventId` is set by
 * httpSubscriptionLink itself on reconnect (the last `tracked` id it saw).
 */
export const BillingStreamInput = z
  .object({
    workspaceId: z.string().max(64).nullish(),
    /** A customer member's customer (when they have several); omitted: as `resolveStreamAudience` decides. */
    customerId: z.string().max(64).nullish(),
    lastEventId: z.string().regex(STREAM_ID_PATTERN, 'lastEventId must be a billing stream id (<ms>-<seq>)').nullish(),
  })
  .nullish();

/** AppError -> TRPCError inside the generator (the error-mapping middleware only sees errors thrown before it starts). */
function asTrpcError(err: unknown): unknown {
  return err instanceof AppError ? new TRPCError({ code: err.code, message: err.message, cause: err }) : err;
}

/** The live billing stream (issue 10 item 1). */
export const streamRouter = createTRPCRouter({
  /**
   * Billing changes for the caller, live, over SSE (httpSubscriptionLink): each message is
   * `tracked(message.id, BillingStreamMessage)`, so a reconnect resumes after the last one seen.
   * Audience per subscriber (`resolveStreamAudience`): an admin the workspace they administer
   * (`workspaceId`, else their first), a customer member their customer.
   * Errors: UNAUTHORIZED (signed out), FORBIDDEN / NOT_FOUND (see `resolveStreamAudience`),
   * PRECONDITION_FAILED when the deployment has no stream (the message names
   * ENABLE_BILLING_STREAM, BILLING_EVENTS_REDIS_URL and REDIS_URL), all final; and
   * SERVICE_UNAVAILABLE while the bus is reconnecting to Redis or this subscriber fell behind,
   * which httpSubscriptionLink retries (state `connecting`), resuming from its last id.
   */
  billing: publicProcedure.input(BillingStreamInput).subscription(async function* ({ ctx, input, signal }) {
    const running = runningBus(ctx.billingStream);
    if ('message' in running) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: running.message });
    if (!ctx.actor) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first' });
    let audience;
    try {
      audience = await resolveStreamAudience({ db: ctx.db, userId: ctx.actor.userId, workspaceId: input?.workspaceId, customerId: input?.customerId });
    } catch (err) {
      throw asTrpcError(err);
    }
    const items = running.bus.subscribe({ audience, lastEventId: input?.lastEventId ?? null, ...(signal ? { signal } : {}) });
    try {
      for await (const item of items) {
        if (item.type === 'state') {
          if (item.state === 'reconnecting') throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The live billing stream lost its connection to Redis; reconnecting' });
          continue;
        }
        yield tracked(item.message.id, item.message as BillingStreamMessage);
      }
    } catch (err) {
      if (err instanceof BillingStreamInterrupted) throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: `The live billing stream was interrupted (${err.message})`, cause: err });
      throw err;
    } finally {
      await items.return?.();
    }
  }),
});
