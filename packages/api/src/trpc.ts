/**
 * tRPC in three parts: context (./context.ts), init (error mapping), procedures. Only the
 * procedure builders below are exported; authorization is enforced here for every call.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { z } from 'zod';
import type { Context } from './context';
import { AppError } from './errors';
import { findWorkspaceForAdmin } from './workspaces/find-for-admin';

const t = initTRPC.context<Context>().create({
  // Dates and other non-JSON values keep their types on the wire (the client uses it too).
  transformer: superjson,
  // Subscriptions over SSE (stream.billing): a heartbeat every 15 s keeps proxies from closing
  // an idle stream; the client reconnects (with its last id) after 40 s without one.
  sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 40_000 } },
  // Never put stack traces in responses, whatever NODE_ENV says (tRPC's default follows
  // NODE_ENV, which a production start may leave unset); the server logs them instead.
  isDev: false,
  /**
   * The error body clients see. INTERNAL_SERVER_ERROR (anything not an AppError/TRPCError:
   * a failed query, a bug) answers only "Internal error; request id <id>", never the cause's
   * message (SQL, parameters) — the server's onError logs the cause under the same id
   * (OWASP Error Handling Cheat Sheet). Other codes keep their message, written for users.
   */
  errorFormatter({ shape, error, ctx }) {
    const { stack: _stack, ...data } = shape.data;
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    return {
      ...shape,
      message: internal ? `Internal error; request id ${ctx?.requestId ?? 'unknown'}` : shape.message,
      data: {
        ...data,
        zodError: error.code === 'BAD_REQUEST' && error.cause instanceof z.ZodError ? z.flattenError(error.cause) : null,
      },
    };
  },
});

/** Map domain errors (AppError, ZodError) to TRPCError, once. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) throw new TRPCError({ code: cause.code, message: cause.message, cause });
    if (cause instanceof z.ZodError) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: cause.issues.map((i) => i.message).join('; '), cause });
    }
  }
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Anyone. */
export const publicProcedure = t.procedure.use(mapErrors);

/** A signed-in user; customer scoping happens in the domain (membership lookup -> NOT_FOUND). */
export const customerProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.actor) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first' });
  return next({ ctx: { ...ctx, actor: ctx.actor } });
});

/**
 * A workspace admin; `ctx.workspaceId` is the selected workspace (`X-Tally-Workspace`), or
 * their first. Every admin procedure acts on that workspace only: an id of another
 * workspace's row is NOT_FOUND in the domain.
 * FORBIDDEN: not an admin at all, or not an admin of the selected workspace.
 */
export const adminProcedure = customerProcedure.use(async ({ ctx, next }) => {
  const workspace = await findWorkspaceForAdmin({ db: ctx.db, userId: ctx.actor.userId, workspaceId: ctx.selectedWorkspaceId });
  if (!workspace) {
    throw new TRPCError({ code: 'FORBIDDEN', message: ctx.selectedWorkspaceId ? 'You are not an admin of the selected workspace' : 'Workspace admins only' });
  }
  return next({ ctx: { ...ctx, workspaceId: workspace.id, workspaceCurrency: workspace.currency } });
});
