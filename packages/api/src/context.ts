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
  /**
   * The workspace an admin selected in the SPA (`X-Tally-Workspace`), unverified: admin
   * procedures act on it only if the actor is its admin (trpc.ts), else FORBIDDEN. Null:
   * their first workspace.
   */
  selectedWorkspaceId: string | null;
}

export function createInnerContext(
  opts: Services & { actor?: Actor | null; origin?: string | null; ip?: string | null; requestId?: string; selectedWorkspaceId?: string | null },
): Context {
  return {
    ...opts,
    actor: opts.actor ?? null,
    origin: opts.origin ?? null,
    ip: opts.ip ?? null,
    requestId: opts.requestId ?? 'internal',
    selectedWorkspaceId: opts.selectedWorkspaceId ?? null,
  };
}
