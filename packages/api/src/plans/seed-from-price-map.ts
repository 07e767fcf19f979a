import { and, eq, ne, type Database } from '@tally/db';
import { newId } from '../ids';
import type { PriceMapEntry } from './price-map';

/**
 * Make the primary workspace's plans match `STRIPE_PRODUCT_PRICE_MAP` at start: a missing code
 * becomes a plan (name = the code, capitalized; amount and interval are read from Stripe
 * later, never typed); an existing one gets the mapped price id (and its price cache is
 * dropped). Plans not in the map are left alone. Idempotent, safe for several processes
 * starting at once (unique (workspace, code), ON CONFLICT DO NOTHING).
 * Returns how many plans were created and how many were re-priced.
 */
export async function seedPlansFromPriceMap({ db, workspaceId, entries }: { db: Database; workspaceId: string; entries: readonly PriceMapEntry[] }) {
  const { plans } = db.t;
  let created = 0;
  let repriced = 0;
  for (const { code, priceId } of entries) {
    const inserted = await db.q
      .insert(plans)
      .values({ id: newId(), workspaceId, code, name: code.charAt(0).toUpperCase() + code.slice(1), stripePriceId: priceId })
      .onConflictDoNothing({ target: [plans.workspaceId, plans.code] })
      .returning({ id: plans.id });
    if (inserted.length > 0) {
      created++;
      continue;
    }
    const moved = await db.q
      .update(plans)
      .set({ stripePriceId: priceId, priceCache: null, priceCachedAt: null, updatedAt: new Date() })
      .where(and(eq(plans.workspaceId, workspaceId), eq(plans.code, code), ne(plans.stripePriceId, priceId)))
      .returning({ id: plans.id });
    repriced += moved.length;
  }
  return { created, repriced };
}
