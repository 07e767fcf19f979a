/**
 * Publishing billing changes (issue 10 item 1). Domain code calls `publishBillingChange`
 * AFTER the change's transaction has committed (never inside a transaction body), and never
 * waits for it: the stream is a notification, nothing in the database depends on it, and a
 * lost message costs a subscriber at most a refetch.
 *
 * The server sets the sink once at start (`setBillingChangeSink`: the Redis or in-process
 * bus); without one (tests, the CLI) publishing does nothing.
 */
import type { BillingChange } from './messages';

/** Where published changes go. Must not throw (it logs its own failures). */
export type BillingChangeSink = (change: BillingChange) => void;

let sink: BillingChangeSink | null = null;

/**
 * Set (or clear, with null) where `publishBillingChange` sends changes in this process.
 * @returns a function restoring the previous sink (tests).
 */
export function setBillingChangeSink(next: BillingChangeSink | null): () => void {
  const previous = sink;
  sink = next;
  return () => {
    sink = previous;
  };
}

/** Publish one committed billing change; returns at once; never throws. */
export function publishBillingChange(change: BillingChange): void {
  if (!sink) return;
  try {
    sink(change);
  } catch {
    // A sink must not throw; if one does, the change itself is committed and stays so.
  }
}
