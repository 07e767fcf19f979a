/**
 * Zod inputs of the admin's Stripe event detail page (`event.get`, `event.replay`), shared
 * with the SPA (no server imports; nothing from `../schemas`, which re-exports schema files).
 * An event is keyed by its endpoint scope and Stripe's id (`stripe_events` primary key).
 */
import { z } from 'zod';

/** Stripe's event id shape (`evt_` + letters, digits, `_`; at most 259 characters). */
export const EVENT_ID_PATTERN = /^evt_[A-Za-z0-9_]{1,255}$/;
/** The endpoint scope of events received at `/api/stripe/webhook` (webhooks/types.ts `DEPLOYMENT_SCOPE`). */
export const EVENT_DEPLOYMENT_SCOPE = 'deployment';

const eventId = z
  .string({ error: 'eventId must be a Stripe event id (evt_...)' })
  .max(259, 'eventId must be a Stripe event id (evt_...)')
  .regex(EVENT_ID_PATTERN, 'eventId must be a Stripe event id (evt_...)');

/** `deployment` or a workspace id (a UUID). Omitted: found by id among the workspace's events. */
const scopeMessage = `scope must be "${EVENT_DEPLOYMENT_SCOPE}" or a workspace id (a UUID)`;
const scope = z
  .string({ error: scopeMessage })
  .max(64, scopeMessage)
  .refine((s) => s === EVENT_DEPLOYMENT_SCOPE || z.uuid().safeParse(s).success, scopeMessage);

export const EventGetInput = z.object({ eventId, scope: scope.optional() });
export type EventGetInput = z.infer<typeof EventGetInput>;

export const EventReplayInput = z.object({
  eventId,
  scope: scope.optional(),
  /** Show what the handler would do; change nothing. */
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).optional(),
});
export type EventReplayInput = z.infer<typeof EventReplayInput>;

/** Statuses an admin may replay (the others are settled, or waiting for their first run). */
export const EVENT_REPLAYABLE_STATUSES = ['failed', 'dead'] as const;
