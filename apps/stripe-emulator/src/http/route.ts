import type Stripe from 'stripe';
import type { Collection, Identified } from '../core/collection';
import type { EmulatorContext } from '../core/context';
import type { Store } from '../core/store';

/** What an API handler gets: validated-later raw parameters, path parameters and request identity. */
export interface ApiRequest {
  /** Body (POST, form- or JSON-encoded) or query (GET/DELETE) parameters, `expand` removed. */
  params: Record<string, unknown>;
  /** Path parameters, e.g. `{ id: 'cus_123' }`. */
  path: Record<string, string>;
  /** The request's identity, as recorded in the `request` field of the events it causes. */
  request: Stripe.Event.Request;
  /** The API key of the request, masked as Stripe shows keys in messages (`sk_test_****abcd`); absent for other credentials. */
  maskedKey?: string;
}

/** Returns the response object (status 200) or throws a `StripeApiError`. Must not change state before validating. */
export type ApiHandler = (req: ApiRequest, ctx: EmulatorContext) => object;

/** One endpoint of the emulated API. */
export interface ApiRoute {
  method: 'get' | 'post' | 'delete';
  /** Express path, e.g. `/v1/customers/:id`. */
  path: string;
  /** `object` type of the response (`customer`, ...), used to validate `expand[]` before the handler runs. */
  returns: string;
  /** Whether the response is a list object of `returns` (then expansions start with `data.`). */
  list?: boolean;
  /**
   * `/v2` routes only: replaces the API key check with another credential check (the meter event
   * stream takes a meter event session's token), given every account's context. Returns the
   * context of the account the credential belongs to; throws a `StripeApiError` (401) to refuse.
   */
  authenticate?: (authorization: string | undefined, accounts: readonly EmulatorContext[]) => EmulatorContext;
  handler: ApiHandler;
}

/** A field that `expand[]` can replace by the object it references. */
export interface ExpandableField {
  /** `object` type of the expanded value (`list` for embedded lists). */
  object: string;
  /** The expanded value, from the field's current `value` (usually an id); `undefined` keeps it. */
  resolve: (value: unknown, parent: Record<string, unknown>, ctx: EmulatorContext) => unknown;
}

/** Expandable fields per `object` type, e.g. `{ 'checkout.session': { customer: ... } }`. */
export type ExpandableFields = Record<string, Record<string, ExpandableField>>;

/** A resource's endpoints and expandable fields; `resources/index.ts` lists them all. */
export interface ResourceModule {
  routes: ApiRoute[];
  expandable?: ExpandableFields;
}

/** An expandable field holding the id of an object of type `object`, stored in `table`. */
export function reference(object: string, table: (store: Store) => Collection<Identified>): ExpandableField {
  return { object, resolve: (value, _parent, ctx) => (typeof value === 'string' ? table(ctx.store).get(value) : undefined) };
}
