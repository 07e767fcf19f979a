import { and, eq, type Database, type Plan } from '@tally/db';
import type Stripe from 'stripe';
import { newId } from '../ids';

/** The demo catalogue (emulator mode): amounts in USD cents, monthly; `yearlyAmountMinor` a yearly price too (null: none). */
export const DEMO_PLANS = [
  {
    code: 'solo',
    name: 'Solo',
    description: 'For one person running client work.',
    features: ['1 seat', 'Unlimited projects', 'Email support'],
    unitAmountMinor: 2900,
    yearlyAmountMinor: null,
    perSeat: false,
    trialDays: 14,
    issuesLicenses: false,
  },
  {
    code: 'team',
    name: 'Team',
    description: 'For agencies: pay per seat.',
    features: ['Per-seat pricing', 'Shared workspaces', 'Priority support'],
    unitAmountMinor: 1500,
    yearlyAmountMinor: 15000,
    perSeat: true,
    trialDays: 14,
    issuesLicenses: false,
  },
  {
    code: 'enterprise',
    name: 'Enterprise',
    description: 'Self-hosted installs with license keys.',
    features: ['License keys for installed software', 'SSO', 'Dedicated support'],
    unitAmountMinor: 29900,
    yearlyAmountMinor: null,
    perSeat: false,
    trialDays: 0,
    issuesLicenses: true,
  },
] as const;

/** The lookup key of a demo plan's monthly price, so re-running finds it instead of creating another. */
export const demoPriceLookupKey = (code: string) => `tally_demo_${code}_monthly`;
/** The lookup key of a demo plan's yearly price. */
export const demoYearlyPriceLookupKey = (code: string) => `tally_demo_${code}_yearly`;

/**
 * Create (once) the demo products and monthly USD prices in the Stripe `stripe` reaches (the
 * emulator in development) and the workspace's plans for them: Solo $29, Team $15 per seat (or
 * $150 per seat yearly; both with a 14-day trial), Enterprise $299 issuing licenses. Idempotent: prices are found by
 * `lookup_key`, plans by (workspace, code); an existing plan keeps its edits but is pointed at
 * the price. Returns the plans by code.
 * @throws Stripe's errors (the emulator not running).
 */
export async function seedDemoPlans({ db, stripe, workspaceId }: { db: Database; stripe: Stripe; workspaceId: string }): Promise<Record<(typeof DEMO_PLANS)[number]['code'], Plan>> {
  const { plans } = db.t;
  const lookupKeys = DEMO_PLANS.flatMap((p) => [demoPriceLookupKey(p.code), ...(p.yearlyAmountMinor !== null ? [demoYearlyPriceLookupKey(p.code)] : [])]);
  const existing = await stripe.prices.list({ lookup_keys: lookupKeys, active: true, limit: 10 });
  const out = {} as Record<(typeof DEMO_PLANS)[number]['code'], Plan>;
  for (const demo of DEMO_PLANS) {
    const lookupKey = demoPriceLookupKey(demo.code);
    let price = existing.data.find((p) => p.lookup_key === lookupKey);
    if (!price) {
      const product = await stripe.products.create({ name: demo.name, description: demo.description, metadata: { tally_plan_code: demo.code } }, { idempotencyKey: `tally-demo-product-${workspaceId}-${demo.code}` });
      price = await stripe.prices.create(
        { product: product.id, currency: 'usd', unit_amount: demo.unitAmountMinor, recurring: { interval: 'month' }, lookup_key: lookupKey, metadata: { tally_plan_code: demo.code } },
        { idempotencyKey: `tally-demo-price-${workspaceId}-${demo.code}` },
      );
    }
    let yearly: Stripe.Price | null = null;
    if (demo.yearlyAmountMinor !== null) {
      const yearlyKey = demoYearlyPriceLookupKey(demo.code);
      yearly =
        existing.data.find((p) => p.lookup_key === yearlyKey) ??
        (await stripe.prices.create(
          { product: typeof price.product === 'string' ? price.product : price.product.id, currency: 'usd', unit_amount: demo.yearlyAmountMinor, recurring: { interval: 'year' }, lookup_key: yearlyKey, metadata: { tally_plan_code: demo.code } },
          { idempotencyKey: `tally-demo-yearly-price-${workspaceId}-${demo.code}` },
        ));
    }
    await db.q
      .insert(plans)
      .values({
        id: newId(),
        workspaceId,
        code: demo.code,
        name: demo.name,
        description: demo.description,
        features: JSON.stringify(demo.features),
        stripePriceId: price.id,
        stripeYearlyPriceId: yearly?.id ?? null,
        perSeat: demo.perSeat,
        trialDays: demo.trialDays,
        issuesLicenses: demo.issuesLicenses,
      })
      .onConflictDoNothing({ target: [plans.workspaceId, plans.code] });
    await db.q
      .update(plans)
      .set({ stripePriceId: price.id, ...(yearly ? { stripeYearlyPriceId: yearly.id } : {}), updatedAt: new Date() })
      .where(and(eq(plans.workspaceId, workspaceId), eq(plans.code, demo.code)));
    const [row] = await db.q.select().from(plans).where(and(eq(plans.workspaceId, workspaceId), eq(plans.code, demo.code)));
    out[demo.code] = row!;
  }
  return out;
}
