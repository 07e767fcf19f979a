/**
 * The live billing stream's messages (issue 10 item 1): one small typed message per billing
 * change, published after the change's transaction commits. Money is integer minor units with
 * its currency; ids are Tally ids, except `eventId` (Stripe's `evt_...`).
 *
 * Audience: every message goes to the admins of its `workspaceId`; a message with a
 * `customerId` also goes to that customer's members. Stripe event messages (`event.*`) have
 * no customer: admins only. A deployment-scope event not yet tied to a workspace has
 * `workspaceId: null` and reaches no one.
 */
export type BillingChange =
  | { kind: 'topup.created'; workspaceId: string; customerId: string; topupId: string; amountMinor: number; currency: string }
  | { kind: 'topup.credited'; workspaceId: string; customerId: string; topupId: string; amountMinor: number; currency: string }
  | { kind: 'balance.changed'; workspaceId: string; customerId: string; balanceMinor: number; currency: string }
  | {
      kind: 'event.received' | 'event.processed' | 'event.failed' | 'event.ignored' | 'event.dead';
      workspaceId: string | null;
      customerId?: undefined;
      /** Stripe's event id (`evt_...`) and type. */
      eventId: string;
      type: string;
    }
  | { kind: 'billing_record.paid'; workspaceId: string; customerId: string; billingRecordId: string; amountMinor: number; currency: string }
  | { kind: 'subscription.changed'; workspaceId: string; customerId: string; subscriptionId: string; status: string }
  | { kind: 'invoice.changed'; workspaceId: string; customerId: string; invoiceId: string; status: string }
  | { kind: 'usage.threshold_crossed'; workspaceId: string; customerId: string; balanceMinor: number; thresholdMinor: number; currency: string };

export type BillingChangeKind = BillingChange['kind'];

/** A change as subscribers receive it: the bus's id (ordered per bus; the resume point) and when it was published (ISO 8601). */
export type BillingStreamMessage = BillingChange & { id: string; at: string };

/**
 * Who one subscriber is: the admins of `workspaceId` (no `customerId`: every message of the
 * workspace), or the members of one customer (`customerId`: only that customer's messages).
 * Resolved on the server per subscriber (`resolveStreamAudience`), never taken from a client.
 */
export interface BillingStreamAudience {
  workspaceId: string;
  customerId?: string | null;
}

/** Whether `audience` may see `message` (the audience rules at the top of this file). */
export function audienceAccepts(audience: BillingStreamAudience, message: BillingChange): boolean {
  if (message.workspaceId === null || message.workspaceId !== audience.workspaceId) return false;
  if (!audience.customerId) return true;
  return message.customerId !== undefined && message.customerId === audience.customerId;
}

/**
 * A bus id: `<milliseconds>-<sequence>`, the shape of Redis stream entry ids (redis.io/docs/latest/develop/data-types/streams/#entry-ids),
 * which the in-process bus copies so both order and resume alike.
 */
export const STREAM_ID_PATTERN = /^\d{1,16}-\d{1,16}$/;

/** Whether `value` has the shape of a bus id (checked before any use as a resume point). */
export function isStreamId(value: string): boolean {
  return STREAM_ID_PATTERN.test(value);
}

/** Order of two bus ids (negative: `a` first). Both must be `isStreamId`. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  const ms = BigInt(am!) - BigInt(bm!);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as!) - BigInt(bs!);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
