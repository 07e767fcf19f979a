/** The period-close side of usage metering (issue 9 item 5), for the server's jobs, the CLI and the dev seed (re-exported by `usage/index.ts`). */
export { closeUsagePeriod, assertEndedPeriod, USAGE_ISSUE_CONCURRENCY, type CloseUsagePeriodOptions, type UsageCloseProgress, type UsagePeriodCloseSummary } from './close-period';
export { issueUsageInvoice, parseUsageInvoiceLines, USAGE_INVOICE_DAYS_UNTIL_DUE, type IssueUsageInvoiceOutcome, type IssueUsageInvoiceResult, type UsageInvoiceLine } from './issue-invoice';
export { generateUsageInvoice, usageInvoiceView, type GenerateUsageInvoiceResult, type UsageInvoiceView } from './generate-invoice';
export { acquireJobLease, releaseJobLease } from './job-lease';
export { seedDemoUsage, findDemoCustomerId, type SeedDemoUsageResult } from './seed-demo-usage';
