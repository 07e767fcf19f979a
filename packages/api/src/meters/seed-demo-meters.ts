import { and, eq, inArray, type Database, type Meter } from '@tally/db';
import { newId } from '../ids';

/**
 * The demo meters (dev seed; issue 9): prices in the workspace currency's minor units per
 * block, e.g. 100 per 1,000 words = $1.00 per 1,000 words.
 */
export const DEMO_METERS = [
  { key: 'stt_words', displayName: 'Speech-to-text', unit: 'word', aggregation: 'sum', priceMinor: 100, blockSize: 1000, billingMode: 'invoice' },
  { key: 'tts_words', displayName: 'Text-to-speech', unit: 'word', aggregation: 'sum', priceMinor: 100, blockSize: 1000, billingMode: 'invoice' },
  { key: 'api_calls', displayName: 'API calls', unit: 'call', aggregation: 'count', priceMinor: 10, blockSize: 100, billingMode: 'prepaid' },
] as const;

/**
 * Create (once) the demo meters of a workspace: `stt_words` (Speech-to-text, sum of words,
 * 100 minor units per 1,000, invoice), `tts_words` (Text-to-speech, likewise) and `api_calls`
 * (API calls, count, 10 per 100, prepaid). Idempotent: inserted with ON CONFLICT DO NOTHING
 * on the unique (workspace, key), so a meter that exists (edited or archived by an admin) is
 * kept as it is. Not audited (a seed, not an admin action).
 * @returns the three meters, in the order above.
 */
export async function seedDemoMeters({ db, workspaceId, now = new Date() }: { db: Database; workspaceId: string; now?: Date }): Promise<Meter[]> {
  const { meters: m } = db.t;
  await db.q
    .insert(m)
    .values(DEMO_METERS.map((d) => ({ id: newId(), workspaceId, ...d, stripeMeterEventName: null, archivedAt: null, createdAt: now, updatedAt: now })))
    .onConflictDoNothing({ target: [m.workspaceId, m.key] });
  const keys = DEMO_METERS.map((d) => d.key);
  const rows = await db.q
    .select()
    .from(m)
    .where(and(eq(m.workspaceId, workspaceId), inArray(m.key, keys)));
  return keys.map((key) => rows.find((r) => r.key === key)!);
}
