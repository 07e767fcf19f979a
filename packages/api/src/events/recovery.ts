/**
 * Stripe event recovery (issue 10 items 2, 3 and 7): replay of logged events, the sweeper that
 * retries failed and stuck events by itself, and payload retention.
 */
export {
  replayStripeEvent,
  replayStripeEvents,
  runLoggedEvent,
  REPLAYABLE_STATUSES,
  MAX_REPLAY_BATCH,
  EVENT_CLAIM_GUARD_MS,
  type EventProcessingDeps,
  type ReplayAction,
  type EventReplayResult,
} from './replay';
export { describeReplay, handlerNameOf } from './dry-run';
export { sweepStripeEvents, stripeEventBacklog, EVENT_SWEEPER_LEASE, STUCK_RECEIVED_AFTER_MS, DEFAULT_SWEEP_LIMIT, type EventSweepSummary } from './sweeper';
export { pruneStripeEventPayloads, PRUNABLE_EVENT_STATUSES, PRUNE_CHUNK_ROWS, type PruneSummary } from './retention';
export {
  EVENT_RETRY_BACKOFF_MS,
  nextAttemptAfter,
  recordEventFailure,
  RUNNABLE_EVENT_STATUSES,
  TERMINAL_EVENT_STATUSES,
  type EventAttemptSource,
  type RecordedEventFailure,
} from '../webhooks/mark-event';
