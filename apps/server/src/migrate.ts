/** `pnpm db:migrate`: apply committed migrations to DATABASE_URL, then exit. */
import { createDatabase } from '@tally/db';
import { databaseUrlFrom } from './config';

try {
  // Only DATABASE_URL matters here: migrating needs no Stripe or auth secrets.
  const db = await createDatabase(databaseUrlFrom());
  await db.migrate();
  console.log(`Migrated ${db.label}`);
  await db.close();
} catch (err) {
  console.error(err);
  process.exit(1);
}
