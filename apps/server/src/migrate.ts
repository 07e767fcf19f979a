/** `pnpm db:migrate`: apply committed migrations to DATABASE_URL, then exit. */
import { createDatabase } from '@tally/db';
import { ConfigError, loadConfig } from './config';

try {
  const config = loadConfig();
  const db = await createDatabase(config.databaseUrl);
  await db.migrate();
  console.log(`Migrated ${db.label}`);
  await db.close();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
