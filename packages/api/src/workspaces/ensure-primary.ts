import { asc, type Database } from '@tally/db';
import { newId } from '../ids';

/**
 * The deployment's primary workspace (the oldest), created if none exists. Self sign-ups
 * join it as customers.
 */
export async function ensurePrimaryWorkspace({
  db,
  name = 'My workspace',
  currency = 'usd',
}: {
  db: Database;
  name?: string;
  /** ISO 4217 lowercase. */
  currency?: string;
}) {
  const { workspaces } = db.t;
  const existing = await findPrimaryWorkspace(db);
  if (existing) return existing;
  await db.q
    .insert(workspaces)
    .values({ id: newId(), name, slug: 'primary', currency })
    .onConflictDoNothing({ target: workspaces.slug });
  const created = await findPrimaryWorkspace(db);
  if (!created) throw new Error('primary workspace could not be created');
  return created;
}

export async function findPrimaryWorkspace(db: Database) {
  const { workspaces } = db.t;
  const [row] = await db.q
    .select({ id: workspaces.id, name: workspaces.name, currency: workspaces.currency })
    .from(workspaces)
    .orderBy(asc(workspaces.createdAt), asc(workspaces.id))
    .limit(1);
  return row;
}
