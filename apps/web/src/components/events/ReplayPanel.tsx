import { useState } from 'react';
import { trpc, type RouterOutputs } from '../../trpc';
import { Dialog } from '../Dialog';
import { ErrorMessage } from '../ErrorMessage';

export type ReplayResult = RouterOutputs['event']['replay'];
type Result = ReplayResult;

/**
 * Replay for a failed or dead event: first a dry run (what the handler would do; nothing
 * changes), shown in a dialog, then "Replay now" runs it through the delivery path (once:
 * replaying never doubles an effect). The result is kept by the page (`result`,
 * `onReplayed`), so it stays visible once the event is no longer replayable.
 */
export function ReplayPanel({ eventId, scope, replayable, result, onReplayed }: { eventId: string; scope: string; replayable: boolean; result: Result | null; onReplayed: (result: Result | null) => void }) {
  const utils = trpc.useUtils();
  const [preview, setPreview] = useState<Result | null>(null);
  const dryRun = trpc.event.replay.useMutation({ onSuccess: (r) => setPreview(r) });
  const replay = trpc.event.replay.useMutation({
    onSuccess: async (r) => {
      setPreview(null);
      onReplayed(r);
      await Promise.all([utils.event.get.invalidate(), utils.admin.events.invalidate()]);
    },
  });
  const close = () => {
    setPreview(null);
    replay.reset();
  };
  return (
    <section className="card event-replay" aria-labelledby="event-replay-title">
      <div className="card-header">
        <h2 id="event-replay-title" className="card-title">
          Replay
        </h2>
        {replayable && (
          <button
            type="button"
            className="button button-primary"
            disabled={dryRun.isPending || replay.isPending}
            onClick={() => {
              onReplayed(null);
              dryRun.mutate({ eventId, scope, dryRun: true });
            }}
          >
            {dryRun.isPending ? 'Checking…' : 'Replay…'}
          </button>
        )}
      </div>
      {replayable && (
        <p className="muted">
          Runs the event through the same path as a webhook delivery. You see what it would do first; nothing changes until you
          confirm. An effect already applied (a credit, a payment) is never applied twice.
        </p>
      )}
      {dryRun.error && <ErrorMessage error={dryRun.error} title="Could not check the replay" />}
      {result && (
        <div className={`alert ${result.action === 'processed' || result.action === 'ignored' ? 'alert-success' : 'alert-error'}`} role="status">
          <div>
            <strong className="alert-title">
              Replayed: {result.statusBefore} → {result.statusAfter}
            </strong>
            <span>{result.detail}</span>
          </div>
        </div>
      )}
      {preview && (
        <Dialog title="Replay this event?" onClose={close}>
          <p className="muted">Dry run: nothing has changed yet.</p>
          <pre className="event-preview">{preview.detail}</pre>
          {replay.error && <ErrorMessage error={replay.error} title="Could not replay the event" />}
          <div className="dialog-actions">
            <button type="button" className="button button-ghost" onClick={close}>
              Cancel
            </button>
            <button type="button" className="button button-primary" disabled={replay.isPending || preview.action !== 'would_run'} onClick={() => replay.mutate({ eventId, scope })}>
              {replay.isPending ? 'Replaying…' : 'Replay now'}
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
