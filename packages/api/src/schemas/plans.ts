/** Zod schemas of plans, shared with the SPA (does not import `../schemas`, which re-exports it). */
import { z } from 'zod';

/** A plan code: lowercase letters, digits, `_` and `-`, 1 to 40 characters, starting with a letter or digit (as in STRIPE_PRODUCT_PRICE_MAP). */
export const PLAN_CODE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;
/** A Stripe Price id. */
export const STRIPE_PRICE_ID_PATTERN = /^price_[A-Za-z0-9_]{1,255}$/;

export const planCodeSchema = z.string().regex(PLAN_CODE_PATTERN, 'plan must be a plan code: lowercase letters, digits, _ or -, at most 40 characters');
const priceId = (field: string) => z.string().trim().regex(STRIPE_PRICE_ID_PATTERN, `${field} must be a Stripe Price id (price_...)`);
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const line = (field: string, max: number) =>
  z
    .string()
    .trim()
    .max(max, `${field} must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARACTERS.test(s), `${field} must not contain control characters`);

/** Create (no `planId`) or update a plan (admin). Amounts are never typed: they come from the Stripe Prices. */
export const PlanSaveInput = z.object({
  planId: z.uuid({ error: 'planId must be a Tally id (a UUID)' }).optional(),
  code: planCodeSchema,
  name: line('name', 80).pipe(z.string().min(1, 'name is required')),
  description: line('description', 500).default(''),
  features: z.array(line('feature', 120).pipe(z.string().min(1, 'a feature cannot be empty'))).max(20, 'at most 20 features').default([]),
  stripePriceId: priceId('stripePriceId'),
  stripeYearlyPriceId: priceId('stripeYearlyPriceId').nullish(),
  perSeat: z.boolean().default(false),
  trialDays: z.number({ error: 'trialDays must be a number of days' }).int('trialDays must be a whole number of days').min(0, 'trialDays must be 0 to 730').max(730, 'trialDays must be 0 to 730').default(0),
  issuesLicenses: z.boolean().default(false),
  active: z.boolean().default(true),
});
export type PlanSaveInput = z.infer<typeof PlanSaveInput>;
