import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { forgetRevealedKeys } from '../lib/revealed-license-keys';
import { trpc } from '../trpc';

/** The signed-in user, roles and Stripe mode (`user: null` when signed out). */
export function useMe() {
  return trpc.me.get.useQuery(undefined, { staleTime: 30_000 });
}

const isMeQuery = (queryKey: readonly unknown[]) => JSON.stringify(queryKey[0]) === '["me","get"]';

/**
 * After sign-in, sign-up or sign-out: drop every cached query of the previous session and
 * wait for a fresh `me.get`, so guards see the new session at once. `me.get` itself is
 * refetched in place (not removed) so mounted observers are notified.
 */
export function useRefreshSession() {
  const queryClient = useQueryClient();
  const utils = trpc.useUtils();
  return useCallback(async () => {
    await queryClient.cancelQueries();
    forgetRevealedKeys();
    queryClient.removeQueries({ predicate: (q) => !isMeQuery(q.queryKey) });
    await utils.me.get.refetch();
  }, [queryClient, utils]);
}
