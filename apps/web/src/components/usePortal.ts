import { trpc } from '../trpc';

/** Set when the customer leaves for Stripe's portal; the Subscription page polls briefly on return. */
export const PORTAL_OPENED_KEY = 'tally.portalOpenedAt';

/** "Manage billing": open Stripe's customer portal for the caller's customer (it returns to /subscription). */
export function usePortal() {
  const mutation = trpc.billing.openPortal.useMutation({
    onSuccess: ({ url }) => {
      try {
        sessionStorage.setItem(PORTAL_OPENED_KEY, String(Date.now()));
      } catch {
        // storage unavailable: the page simply does not poll on return
      }
      window.location.assign(url);
    },
  });
  return {
    open: () => mutation.mutate(undefined),
    /** True from the click until the browser leaves (the redirect takes a moment). */
    isPending: mutation.isPending || mutation.isSuccess,
    error: mutation.error,
  };
}
