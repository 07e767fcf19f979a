import type { AppRouter } from '@tally/api';
import { httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { createTRPCReact, type inferReactQueryProcedureOptions } from '@trpc/react-query';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { TRPC_MAX_BATCH_SIZE } from '@tally/api/schemas';
import superjson from 'superjson';
import { workspaceHeaders } from './lib/workspace-selection';

/** React hooks for Tally's tRPC router (`trpc.balance.get.useQuery()` ...). */
export const trpc = createTRPCReact<AppRouter>();

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type ReactQueryOptions = inferReactQueryProcedureOptions<AppRouter>;

/** Where tRPC is served (same origin). */
const TRPC_URL = '/trpc';

/**
 * Same origin: Vite proxies `/trpc` in development; the server serves the SPA in production.
 * Subscriptions (the live billing stream, `stream.billing`) go over Server-Sent Events with
 * `httpSubscriptionLink` (an EventSource on `/trpc/<path>?input=...`, which CSP `connect-src
 * 'self'` allows); everything else is batched over HTTP. EventSource cannot send headers, so
 * the stream takes the selected workspace in its input (lib/billing-stream-provider.tsx).
 */
export function createTrpcClient() {
  return trpc.createClient({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: TRPC_URL,
          transformer: superjson,
          // Same origin sends the session cookie anyway; this keeps it if the API moves to another origin.
          eventSourceOptions: { withCredentials: true },
        }),
        false: httpBatchLink({
          url: TRPC_URL,
          // The server refuses bigger batches (issue 6).
          maxItems: TRPC_MAX_BATCH_SIZE,
          transformer: superjson,
          // The workspace an admin of several selected (lib/workspace-selection.ts), read per request.
          headers: () => workspaceHeaders(),
          fetch: (url, init) => fetch(url, { ...init, credentials: 'include' }),
        }),
      }),
    ],
  });
}

/** The tRPC error code of an error (`UNAUTHORIZED`, `BAD_GATEWAY`, ...), if it has one. */
export function trpcErrorCode(error: unknown): string | undefined {
  if (error instanceof TRPCClientError) {
    const data = error.data as { code?: unknown } | undefined;
    return typeof data?.code === 'string' ? data.code : undefined;
  }
  return undefined;
}

/** The server's message of an API error ("" when it is not one). */
export function trpcErrorMessage(error: unknown): string {
  return error instanceof TRPCClientError ? error.message : '';
}
