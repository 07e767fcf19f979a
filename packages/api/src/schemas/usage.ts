/**
 * Usage events (issue 9 item 3): the shape other backends send to `POST /api/v1/usage` and
 * admins to tRPC `usage.record`. Shared by the server, the CLI and the SPA (no server imports;
 * nothing from `../schemas`, which re-exports this file).
 *
 * One event: `{ customerId | customerExternalId, meter, quantity, occurredAt?, idempotencyKey,
 * properties? }`:
 * - exactly one of `customerId` (a Tally customer id, a UUID) or `customerExternalId` (the id
 *   the workspace's own system uses, 1..255 characters);
 * - `meter`: a meter key of the workspace, `[a-z0-9_]{1,64}`;
 * - `quantity`: a JSON integer, 0..1,000,000,000 units (strings, fractions, negatives refused);
 * - `occurredAt`: ISO 8601 with a time zone (`2026-12-01T10:00:00Z`), default the time it is
 *   received; at most 5 minutes ahead of the server's clock, and inside an open period;
 * - `idempotencyKey`: 1..255 characters, unique per workspace;
 * - `properties`: an optional flat-or-nested JSON object, at most 4,096 bytes serialized.
 */
import { z } from 'zod';

/** Most events in one batch. */
export const USAGE_BATCH_MAX_EVENTS = 1000;
/** Largest request body of `POST /api/v1/usage`, bytes (1 MB). */
export const USAGE_BODY_MAX_BYTES = 1_048_576;
/** Largest quantity of one event, units. */
export const USAGE_QUANTITY_MAX = 1_000_000_000;
/** Longest idempotency key, characters. */
export const USAGE_IDEMPOTENCY_KEY_MAX = 255;
/** Largest `properties` object, bytes of JSON. */
export const USAGE_PROPERTIES_MAX_BYTES = 4096;
/** A meter key. */
export const METER_KEY_PATTERN = /^[a-z0-9_]{1,64}$/;

export const UsageEventInput = z
  .object({
    customerId: z.uuid({ error: 'customerId must be a Tally customer id (a UUID)' }).optional(),
    customerExternalId: z
      .string({ error: 'customerExternalId must be a string' })
      .min(1, { error: 'customerExternalId must not be empty' })
      .max(255, { error: 'customerExternalId must be at most 255 characters' })
      .optional(),
    meter: z.string({ error: 'meter is required (a meter key such as "stt_words")' }).regex(METER_KEY_PATTERN, { error: 'meter must be a meter key: 1..64 of a-z, 0-9 and _' }),
    quantity: z
      .number({ error: 'quantity must be a number (an integer >= 0), not a string' })
      .int({ error: 'quantity must be a whole number of units' })
      .min(0, { error: 'quantity must not be negative' })
      .max(USAGE_QUANTITY_MAX, { error: `quantity must be at most ${USAGE_QUANTITY_MAX}` }),
    occurredAt: z.iso.datetime({ offset: true, error: 'occurredAt must be an ISO 8601 date-time with a time zone, e.g. 2026-12-01T10:00:00Z' }).optional(),
    idempotencyKey: z
      .string({ error: 'idempotencyKey is required (a string)' })
      .min(1, { error: 'idempotencyKey must not be empty' })
      .max(USAGE_IDEMPOTENCY_KEY_MAX, { error: `idempotencyKey must be at most ${USAGE_IDEMPOTENCY_KEY_MAX} characters` }),
    properties: z.record(z.string(), z.json(), { error: 'properties must be a JSON object' }).optional(),
  })
  .strict()
  .refine((e) => (e.customerId === undefined) !== (e.customerExternalId === undefined), { error: 'Give exactly one of customerId or customerExternalId' });
export type UsageEventInput = z.infer<typeof UsageEventInput>;

/** tRPC `usage.record`: a batch of 1..1,000 events (each validated on its own, so one bad event does not reject the rest). */
export const RecordUsageInput = z.object({
  events: z
    .array(z.unknown())
    .min(1, { error: 'events must hold at least one event' })
    .max(USAGE_BATCH_MAX_EVENTS, { error: `A batch holds at most ${USAGE_BATCH_MAX_EVENTS} events` }),
});
export type RecordUsageInput = z.infer<typeof RecordUsageInput>;

/** Why an event was rejected. `conflict`: the key was used with another payload (409); `payment_required`: the prepaid balance cannot cover it (402). */
export const USAGE_REJECTION_CODES = ['invalid', 'unknown_meter', 'unknown_customer', 'conflict', 'payment_required', 'period_closed', 'no_stripe_customer'] as const;
export type UsageRejectionCode = (typeof USAGE_REJECTION_CODES)[number];

/** One event's answer, in the order sent. */
export type UsageEventResult =
  | { index: number; idempotencyKey: string; status: 'accepted'; eventId: string; chargedMinor: number }
  | { index: number; idempotencyKey: string; status: 'duplicate'; eventId: string }
  | { index: number; idempotencyKey: string | null; status: 'rejected'; code: UsageRejectionCode; error: string };

export interface RecordUsageResult {
  results: UsageEventResult[];
  accepted: number;
  duplicates: number;
  rejected: number;
}
