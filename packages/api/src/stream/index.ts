/**
 * The live billing stream (issue 10 item 1): what the server and its routes use. Publishing
 * (`publishBillingChange`, `setBillingChangeSink`) and the message types are exported from the
 * package root directly.
 */
export {
  BILLING_STREAM_NOT_RUNNING_MESSAGE,
  BILLING_STREAM_OFF_MESSAGE,
  BILLING_STREAM_UNAVAILABLE_MESSAGE,
  BillingStreamInterrupted,
  billingStreamWithout,
  runningBus,
  type BillingStream,
  type BillingStreamBus,
  type BillingStreamItem,
  type BillingStreamState,
  type BillingStreamStats,
  type BillingStreamSubscribeOptions,
} from './bus';
export { DEFAULT_MAX_QUEUED, LocalFanout, type LocalFanoutOptions } from './fanout';
export { createInProcessBus, type InProcessBusOptions } from './in-process-bus';
export { resolveStreamAudience } from './audience';
export { audienceAccepts, compareStreamIds, isStreamId, STREAM_ID_PATTERN, type BillingStreamAudience } from './messages';
