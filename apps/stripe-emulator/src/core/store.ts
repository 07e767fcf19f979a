import type Stripe from 'stripe';
import type { MeterEventRecord, MeterEventSessionRecord } from '../billing/meter-usage';
import type { InvoiceState, PortalSessionRecord, SubscriptionState } from '../billing/records';
import { Collection, type Identified } from './collection';
import type { V2EventRecord } from './events';

/** What a Checkout Session keeps off its public object (`id` is the session id). */
export interface CheckoutSessionDetails extends Identified {
  /** Served by `GET /v1/checkout/sessions/:id/line_items` and `expand[]=line_items`. */
  lineItems: Stripe.LineItem[];
  /** `payment_intent_data` given at creation, applied to the PaymentIntent made at the first payment attempt. */
  paymentIntentData: {
    description: string | null;
    metadata: Stripe.Metadata;
    shipping: Stripe.PaymentIntent.Shipping | null;
    /** `payment_intent_data[setup_future_usage]`; absent in state saved before it existed. */
    setupFutureUsage?: Stripe.PaymentIntent.SetupFutureUsage | null;
  };
  /** `mode=subscription`: `subscription_data`, and the subscription made at the first payment attempt (see `billing/checkout.ts`). */
  subscriptionData?: { trialPeriodDays: number | null; metadata: Stripe.Metadata; description: string | null; subscription: string | null };
}

/** A stored response for an `Idempotency-Key` (`id` is the key). */
export interface IdempotencyRecord extends Identified {
  /** Hash of method, path and parameters of the first request. */
  fingerprint: string;
  status: number;
  body: unknown;
  requestId: string;
  /** Unix seconds; records older than 24 h are pruned, as Stripe does. */
  created: number;
}

/** Every table of the emulator's state and the type of its rows. */
export interface Tables {
  customers: Stripe.Customer;
  products: Stripe.Product;
  prices: Stripe.Price;
  paymentMethods: Stripe.PaymentMethod;
  checkoutSessions: Stripe.Checkout.Session;
  checkoutSessionDetails: CheckoutSessionDetails;
  paymentIntents: Stripe.PaymentIntent;
  charges: Stripe.Charge;
  events: Stripe.Event;
  idempotencyKeys: IdempotencyRecord;
  refunds: Stripe.Refund;
  disputes: Stripe.Dispute;
  billingMeters: Stripe.Billing.Meter;
  meterEvents: MeterEventRecord;
  /** v2 meter event sessions (`POST /v2/billing/meter_event_session`), token included. */
  meterEventSessions: MeterEventSessionRecord;
  /** v2 thin events (`v2.core.event`), full form (`GET /v2/core/events/{id}`). */
  v2Events: V2EventRecord;
  /** API-created webhook endpoints, `secret` included (only the create response shows it). */
  webhookEndpoints: Stripe.WebhookEndpoint;
  testClocks: Stripe.TestHelpers.TestClock;
  subscriptions: Stripe.Subscription;
  subscriptionStates: SubscriptionState;
  invoices: Stripe.Invoice;
  invoiceStates: InvoiceState;
  invoiceItems: Stripe.InvoiceItem;
  invoicePayments: Stripe.InvoicePayment;
  billingPortalConfigurations: Stripe.BillingPortal.Configuration;
  billingPortalSessions: PortalSessionRecord;
  setupIntents: Stripe.SetupIntent;
  creditNotes: Stripe.CreditNote;
  customerBalanceTransactions: Stripe.CustomerBalanceTransaction;
}

const TABLE_NAMES = [
  'customers',
  'products',
  'prices',
  'paymentMethods',
  'checkoutSessions',
  'checkoutSessionDetails',
  'paymentIntents',
  'charges',
  'events',
  'idempotencyKeys',
  'refunds',
  'disputes',
  'billingMeters',
  'meterEvents',
  'meterEventSessions',
  'v2Events',
  'webhookEndpoints',
  'testClocks',
  'subscriptions',
  'subscriptionStates',
  'invoices',
  'invoiceStates',
  'invoiceItems',
  'invoicePayments',
  'billingPortalConfigurations',
  'billingPortalSessions',
  'setupIntents',
  'creditNotes',
  'customerBalanceTransactions',
] as const satisfies readonly (keyof Tables)[];

/** One account's rows, table by table. */
export type PersistedTables = { [K in keyof Tables]?: Tables[K][] };

/** An account in the state file (see `accounts.ts`); `keys` are masked. */
export interface PersistedAccount {
  id: string;
  created: number;
  displayName: string;
  email: string;
  keys: string[];
  tables: PersistedTables;
}

/**
 * The JSON document the state is persisted as (see `persistence.ts`): `tables` are the default
 * account's (files written before accounts existed have only these); `account` describes the
 * default account and `accounts` holds the others.
 */
export interface PersistedState {
  version: 1;
  tables: PersistedTables;
  account?: Omit<PersistedAccount, 'tables'>;
  accounts?: PersistedAccount[];
}

/** The emulator's whole in-memory state: one {@link Collection} per resource. */
export class Store {
  /** Called after every mutation (persistence hooks in here). */
  onChange: () => void = () => {};

  readonly customers = this.#table<Stripe.Customer>();
  readonly products = this.#table<Stripe.Product>();
  readonly prices = this.#table<Stripe.Price>();
  readonly paymentMethods = this.#table<Stripe.PaymentMethod>();
  readonly checkoutSessions = this.#table<Stripe.Checkout.Session>();
  readonly checkoutSessionDetails = this.#table<CheckoutSessionDetails>();
  readonly paymentIntents = this.#table<Stripe.PaymentIntent>();
  readonly charges = this.#table<Stripe.Charge>();
  readonly events = this.#table<Stripe.Event>();
  readonly idempotencyKeys = this.#table<IdempotencyRecord>();
  readonly refunds = this.#table<Stripe.Refund>();
  readonly disputes = this.#table<Stripe.Dispute>();
  readonly billingMeters = this.#table<Stripe.Billing.Meter>();
  readonly meterEvents = this.#table<MeterEventRecord>();
  readonly meterEventSessions = this.#table<MeterEventSessionRecord>();
  readonly v2Events = this.#table<V2EventRecord>();
  readonly webhookEndpoints = this.#table<Stripe.WebhookEndpoint>();
  readonly testClocks = this.#table<Stripe.TestHelpers.TestClock>();
  readonly subscriptions = this.#table<Stripe.Subscription>();
  readonly subscriptionStates = this.#table<SubscriptionState>();
  readonly invoices = this.#table<Stripe.Invoice>();
  readonly invoiceStates = this.#table<InvoiceState>();
  readonly invoiceItems = this.#table<Stripe.InvoiceItem>();
  readonly invoicePayments = this.#table<Stripe.InvoicePayment>();
  readonly billingPortalConfigurations = this.#table<Stripe.BillingPortal.Configuration>();
  readonly billingPortalSessions = this.#table<PortalSessionRecord>();
  readonly setupIntents = this.#table<Stripe.SetupIntent>();
  readonly creditNotes = this.#table<Stripe.CreditNote>();
  readonly customerBalanceTransactions = this.#table<Stripe.CustomerBalanceTransaction>();

  #table<T extends Identified>(): Collection<T> {
    return new Collection<T>(() => this.onChange());
  }

  snapshot(): PersistedState {
    const tables: PersistedState['tables'] = {};
    for (const name of TABLE_NAMES) Object.assign(tables, { [name]: this[name].all() });
    return { version: 1, tables };
  }

  restore(state: PersistedState): void {
    for (const name of TABLE_NAMES) {
      const rows: Identified[] = state.tables[name] ?? [];
      (this[name] as Collection<Identified>).load(rows);
    }
  }
}
