/** `pnpm db:migrate`: apply committed migrations to DATABASE_URL, then exit. */
import { DatabaseStartError, openDatabase } from '@tally/db';
import { databaseUrlFrom } from './config';

try {
  // Only DATABASE_URL matters here: migrating needs no Stripe or auth secrets.
  // Opens, checks and migrates; a failure is one line naming the redacted DATABASE_URL.
  const db = await openDatabase(databaseUrlFrom());
  console.log(`Migrated ${db.label}`);
  await db.close();
} catch (err) {
  console.error(err instanceof DatabaseStartError ? err.message : err);
  process.exit(1);
}
