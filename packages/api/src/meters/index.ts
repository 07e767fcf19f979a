/** Meters per workspace and the usage settings they need (issue 9 item 1). */
export { listMeters } from './list';
export { saveMeter, meterAuditView, STRIPE_METER_CUSTOMER_KEY, STRIPE_METER_VALUE_KEY, type MeterCtx } from './save';
export { archiveMeter } from './archive';
export { seedDemoMeters, DEMO_METERS } from './seed-demo-meters';
export {
  getUsageSettings,
  saveUsageSettings,
  getCustomerUsageSettings,
  saveCustomerUsageSettings,
  type UsageSettingsView,
  type CustomerUsageSettingsView,
} from './usage-settings';
