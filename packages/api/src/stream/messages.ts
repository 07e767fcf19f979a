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
