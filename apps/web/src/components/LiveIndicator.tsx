import { createContext, useContext, type ReactNode } from 'react';
import { BILLING_STREAM_DESCRIPTIONS, BILLING_STREAM_LABELS } from '../lib/billing-stream';
import { useBillingStreamState } from '../lib/billing-stream-provider';
import '../styles/live.css';

/** Whether card indicators below follow the live billing stream (`LiveIndicatorsFollowStream`). */
const FollowStreamContext = createContext(false);

/**
 * Cards inside it that refresh through the live billing stream (admin Activity): their small
 * indicators show the stream's state as a dot (the page's `<LiveIndicator stream />` says it in
 * words), instead of the polling "Live".
 */
export function LiveIndicatorsFollowStream({ children }: { children: ReactNode }) {
  return <FollowStreamContext.Provider value={true}>{children}</FollowStreamContext.Provider>;
}

/**
 * A small "Live" indicator, pulsing while `fetching`. Styles in styles/live.css.
 * - `<LiveIndicator fetching />` (a card that polls): "Live" (inside
 *   `LiveIndicatorsFollowStream`: a dot in the stream's state, its words for screen readers).
 * - `<LiveIndicator stream />`: the live billing stream's state in words: Live / Connecting… /
 *   Reconnecting… / Live updates off (`role="status"`, so a change is announced;
 *   `data-stream-state` for tests).
 */
export function LiveIndicator({ fetching = false, stream = false }: { fetching?: boolean; stream?: boolean }) {
  const followStream = useContext(FollowStreamContext);
  if (stream) return <StreamIndicator fetching={fetching} />;
  if (followStream) return <StreamDot fetching={fetching} />;
  return (
    <span className={`live${fetching ? ' live-fetching' : ''}`} title="Refreshes every few seconds">
      <span className="live-dot" aria-hidden="true" />
      Live
    </span>
  );
}

function StreamIndicator({ fetching }: { fetching: boolean }) {
  const state = useBillingStreamState();
  return (
    <span className={`live live-stream live-${state}${fetching ? ' live-fetching' : ''}`} role="status" data-stream-state={state} title={BILLING_STREAM_DESCRIPTIONS[state]}>
      <span className="live-dot" aria-hidden="true" />
      {BILLING_STREAM_LABELS[state]}
      <span className="sr-only">: {BILLING_STREAM_DESCRIPTIONS[state]}</span>
    </span>
  );
}

function StreamDot({ fetching }: { fetching: boolean }) {
  const state = useBillingStreamState();
  return (
    <span className={`live live-dot-only live-${state}${fetching ? ' live-fetching' : ''}`} title={BILLING_STREAM_DESCRIPTIONS[state]}>
      <span className="live-dot" aria-hidden="true" />
      <span className="sr-only">{BILLING_STREAM_LABELS[state]}</span>
    </span>
  );
}
