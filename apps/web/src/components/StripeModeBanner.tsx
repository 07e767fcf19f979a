import { useMe } from './useMe';

/** Across the top of every page when the server talks to the local Stripe emulator. */
export function StripeModeBanner() {
  const me = useMe();
  const mode = me.data?.stripeMode;
  if (mode === 'emulator') {
    return (
      <div className="mode-banner mode-banner-emulator" role="status">
        <strong>Stripe emulator: test payments only</strong>
        <span className="mode-banner-hint">Use card 4242 4242 4242 4242, any future date, any CVC.</span>
      </div>
    );
  }
  if (mode === 'test') {
    return (
      <div className="mode-banner mode-banner-test" role="status">
        <strong>Stripe test mode</strong>
        <span className="mode-banner-hint">No real money moves.</span>
      </div>
    );
  }
  return null;
}
