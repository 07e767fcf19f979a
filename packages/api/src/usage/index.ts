export { recordUsage, type RecordUsageOptions } from './ingest';
export { aggregateQuantity, blocksFor, combineTotals, costMinor, type UsageTotals } from './pricing';
export { dayOf, daysOf, isPeriod, MAX_FUTURE_SKEW_MS, nextPeriod, periodBounds, periodOf, previousPeriod } from './periods';
export * from './stripe-meter-outbox';
export * from './period-close-exports';
export { adminUsageOverview, usageDashboard, type UsageDashboard } from './dashboard';
