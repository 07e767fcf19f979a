import type { Services } from './services';

/** Who is calling: a signed-in user (from the session cookie) or nobody. */
export interface Actor {
  userId: string;
  email: string;
}

/**
 * The inner tRPC context: everything a procedure may use, no transport objects. Tests
 * build it directly with `createInnerContext` and call `appRouter.createCaller(ctx)`.
 */
export interface Context extends Services {
  actor: Actor | null;
  /** The request's `Origin` header, used to build Checkout redirect URLs. */
  origin: string | null;
  /** The client IP Express resolved (TALLY_TRUST_PROXY), never a raw header; null in tests. */
  ip: string | null;
  /** Server-generated id of this request (`X-Request-Id`), for logs and error messages. */
  requestId: string;
}

export function createInnerContext(
  opts: Services & { actor?: Actor | null; origin?: string | null; ip?: string | null; requestId?: string },
): Context {
  return { ...opts, actor: opts.actor ?? null, origin: opts.origin ?? null, ip: opts.ip ?? null, requestId: opts.requestId ?? 'internal' };
}
