/**
 * The live billing stream in React (issue 10 item 1): `BillingStreamProvider` opens one
 * `stream.billing` subscription per signed-in tab (mounted once, in the signed-in Layout), for
 * an admin's selected workspace or for a customer member's customer, and on each message marks
 * stale exactly the cached queries it affects (`billingStreamTargets`), so mounted pages
 * refetch at once. `useBillingStreamState()` gives its state to the indicator and to pages,
 * which poll only while it is not live (`useRefetchIntervalWhileNotLive`).
 */
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useMe } from '../components/useMe';
import { trpc, trpcErrorCode } from '../trpc';
import {
  allBillingStreamTargets,
  billingStreamTargets,
  BillingStreamStore,
  queryKeyOf,
  refetchIntervalWhileNotLive,
  uniqueTargets,
  type BillingStreamState,
  type BillingStreamViewer,
  type QueryTarget,
} from './billing-stream';

/** How long messages are gathered before their queries are invalidated (a burst refetches once), in milliseconds. */
const INVALIDATE_BATCH_MS = 50;

const StreamStateContext = createContext<BillingStreamState>('off');

/** The live billing stream's state in this tab (`off` outside the provider: signed out, public pages). */
export function useBillingStreamState(): BillingStreamState {
  return useContext(StreamStateContext);
}

/** A page's polling interval: `pollMs` while the stream is not live, `whileLive` (default none) while it is; milliseconds (see `refetchIntervalWhileNotLive`). */
export function useRefetchIntervalWhileNotLive(pollMs: number | false, whileLive: number | false = false): number | false {
  return refetchIntervalWhileNotLive(useBillingStreamState(), pollMs, whileLive);
}

/**
 * Opens the subscription while a user is signed in and is an admin (of the workspace the
 * switcher selected; `me.get`'s `adminWorkspace`) or a customer member; reopens it when the
 * workspace changes; closes it on unmount (sign-out).
 */
export function BillingStreamProvider({ children }: { children: ReactNode }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const utils = trpc.useUtils();
  const data = me.data;
  const signedIn = !!data?.user;
  const adminWorkspaceId = data?.adminWorkspace?.id ?? null;
  const customerKey = (data?.customers ?? []).map((c) => c.id).join(',');
  const viewer = useMemo<BillingStreamViewer>(() => ({ admin: adminWorkspaceId !== null, ownCustomerIds: new Set(customerKey ? customerKey.split(',') : []) }), [adminWorkspaceId, customerKey]);
  const eligible = signedIn && (viewer.admin || viewer.ownCustomerIds.size > 0);

  const [{ store, setViewer }] = useState(() => {
    // Who receives the messages (set with each start): what each message invalidates depends on it.
    let current: BillingStreamViewer = { admin: false, ownCustomerIds: new Set() };
    let pending: QueryTarget[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    const invalidate = (targets: QueryTarget[]) => {
      pending.push(...targets);
      if (flushTimer) return;
      flushTimer = setTimeout(() => {
        flushTimer = null;
        const batch = uniqueTargets(pending);
        pending = [];
        for (const target of batch) void queryClient.invalidateQueries({ queryKey: queryKeyOf(target) });
      }, INVALIDATE_BATCH_MS);
    };
    const streamStore = new BillingStreamStore({
      subscribe: (input, handlers) =>
        utils.client.stream.billing.subscribe(input, {
          onData: handlers.onData,
          onConnectionStateChange: (state) => handlers.onConnectionStateChange({ state: state.state, error: state.error }),
          onError: (error) => handlers.onError({ code: trpcErrorCode(error) }),
          onComplete: handlers.onComplete,
        }),
      onMessage: (message) => invalidate(billingStreamTargets(message, current)),
      onResumed: () => invalidate(allBillingStreamTargets(current)),
    });
    return { store: streamStore, setViewer: (next: BillingStreamViewer) => void (current = next) };
  });
  const state = useSyncExternalStore(store.subscribe, store.getState);

  useEffect(() => {
    if (!eligible) return;
    setViewer(viewer);
    // An admin's selected workspace goes in the input (EventSource sends no X-Tally-Workspace);
    // a customer member's customer is resolved by the server from the session.
    store.start({ workspaceId: adminWorkspaceId });
    return () => store.stop();
  }, [store, setViewer, eligible, adminWorkspaceId, viewer]);

  return <StreamStateContext.Provider value={eligible ? state : 'off'}>{children}</StreamStateContext.Provider>;
}
