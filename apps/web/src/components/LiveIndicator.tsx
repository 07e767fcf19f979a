/** A small "Live" dot that shows when data refreshes on its own. */
export function LiveIndicator({ fetching }: { fetching: boolean }) {
  return (
    <span className={`live${fetching ? ' live-fetching' : ''}`} title="Refreshes every few seconds">
      <span className="live-dot" aria-hidden="true" />
      Live
    </span>
  );
}
