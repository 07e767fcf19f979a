import { and, eq, type Database } from '@tally/db';

/** Longest address accepted as a recipient (RFC 5321 path limit). */
const EMAIL_MAX = 254;
// One address, no spaces, brackets, quotes, commas or control characters (nothing a mail header could be bent with).
// eslint-disable-next-line no-control-regex
const EMAIL_SHAPE = /^[^\s@<>()[\],;:"\\\u0000-\u001f\u007f]+@[^\s@<>()[\],;:"\\\u0000-\u001f\u007f]+\.[^\s@<>()[\],;:"\\\u0000-\u001f\u007f]+$/;

/** `value` lowercased and trimmed when it is one plausible email address, else null. */
export function normalizeRecipient(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const email = value.trim().toLowerCase();
  return email.length <= EMAIL_MAX && EMAIL_SHAPE.test(email) ? email : null;
}

/**
 * A customer's billing contacts: its billing email (`customers.email`) and the emails of its
 * owners (`customer_memberships` role `owner`), lowercased, deduplicated, in that order
 * (billing email first, then owners by membership age). Malformed addresses are dropped.
 * Empty for a customer of another workspace or none.
 */
export async function billingContactsOf(db: Database, { workspaceId, customerId }: { workspaceId: string; customerId: string }): Promise<string[]> {
  const { customers: c, customerMemberships: m, users: u } = db.t;
  const [customer] = await db.q
    .select({ email: c.email })
    .from(c)
    .where(and(eq(c.id, customerId), eq(c.workspaceId, workspaceId)));
  if (!customer) return [];
  const owners = await db.q
    .select({ email: u.email })
    .from(m)
    .innerJoin(u, eq(u.id, m.userId))
    .where(and(eq(m.customerId, customerId), eq(m.role, 'owner')))
    .orderBy(m.createdAt, m.id);
  const seen = new Set<string>();
  for (const raw of [customer.email, ...owners.map((o) => o.email)]) {
    const email = normalizeRecipient(raw);
    if (email) seen.add(email);
  }
  return [...seen];
}
