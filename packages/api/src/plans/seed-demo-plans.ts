import { and, eq, type Database, type Plan } from '@tally/db';
import type Stripe from 'stripe';
import { newId } from '../ids';

/** The demo catalogue (emulator mode): amounts in USD cents, monthly. */
export const DEMO_PLANS = [
  {
    code: 'solo',
    name: 'Solo',
    description: 'For one person running client work.',
    features: ['1 seat', 'Unlimited projects', 'Email support'],
    unitAmountMinor: 2900,
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
    perSeat: false,
    trialDays: 0,
    issuesLicenses: true,
  },
] as const;

/** The lookup key of a demo plan's monthly price, so re-running finds it instead of creating another. */
export const demoPriceLookupKey = (code: string) => `tally_demo_${code}_monthly`;

/**
 * Create (once) the demo products and monthly USD prices in the Stripe `stripe` reaches (the
 * emulator in development) and the workspace's plans for them: Solo $29, Team $15 per seat (both
 * with a 14-day trial), Enterprise $299 issuing licenses. Idempotent: prices are found by
 * `lookup_key`, plans by (workspace, code); an existing plan keeps its edits but is pointed at
 * the price. Returns the plans by code.
 * @throws Stripe's errors (the emulator not running).
 */
export async function seedDemoPlans({ db, stripe, workspaceId }: { db: Database; stripe: Stripe; workspaceId: string }): Promise<Record<(typeof DEMO_PLANS)[number]['code'], Plan>> {
  const { plans } = db.t;
  const existing = await stripe.prices.list({ lookup_keys: DEMO_PLANS.map((p) => demoPriceLookupKey(p.code)), active: true, limit: 10 });
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
        perSeat: demo.perSeat,
        trialDays: demo.trialDays,
        issuesLicenses: demo.issuesLicenses,
      })
      .onConflictDoNothing({ target: [plans.workspaceId, plans.code] });
    await db.q
      .update(plans)
      .set({ stripePriceId: price.id, updatedAt: new Date() })
      .where(and(eq(plans.workspaceId, workspaceId), eq(plans.code, demo.code)));
    const [row] = await db.q.select().from(plans).where(and(eq(plans.workspaceId, workspaceId), eq(plans.code, demo.code)));
    out[demo.code] = row!;
  }
  return out;
}
