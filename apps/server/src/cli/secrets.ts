/**
 * `pnpm tally secrets rotate [--json]`: re-encrypt every stored workspace secret (Stripe keys,
 * webhook signing secrets) under TALLY_SECRET_ENCRYPTION_KEY, reading old values with
 * TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS; exit 1 if any value could not be opened.
 * `pnpm tally secrets status [--json]`: how many values each key id seals.
 * Never prints a value (only counts, key ids and workspace ids).
 */
import { Command } from 'commander';
import type { SecretKeyring } from '@tally/api';
import { CliError, loadCliConfig, withDatabase, type CliIo } from './shared';
import type { ServerConfig } from '../config';
import { DEV_SECRET_ENCRYPTION_KEY } from '../config';

/** The keyring of the environment, or why there is none to rotate with. */
async function keyringOf(config: ServerConfig): Promise<SecretKeyring> {
  const keyring = config.secretKeyring;
  if (!keyring) throw new CliError('TALLY_SECRET_ENCRYPTION_KEY is not set: set it to the new key (and TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS to the old one) first');
  const { parseSecretKey } = await import('@tally/api');
  // The server refuses the published development key in production; so does this command
  // (the CLI's config skips the server's production refusals).
  if (config.nodeEnv === 'production' && keyring.current.equals(parseSecretKey(DEV_SECRET_ENCRYPTION_KEY))) {
    throw new CliError('TALLY_SECRET_ENCRYPTION_KEY is the published development key: generate one (openssl rand -base64 32)');
  }
  return keyring;
}

export function secretsCommand(io: CliIo): Command {
  const secrets = new Command('secrets').description('workspace secrets stored encrypted (TALLY_SECRET_ENCRYPTION_KEY)');
  secrets
    .command('rotate')
    .description('re-encrypt every stored workspace secret under TALLY_SECRET_ENCRYPTION_KEY, reading old ones with TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS')
    .option('--json', 'print { rotated, alreadyCurrent, changedMeanwhile, failed: [{ workspaceId, column, reason }], currentKeyId } as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadCliConfig(io.env);
      const keyring = await keyringOf(config);
      const { rotateWorkspaceSecrets, secretKeyId } = await import('@tally/api');
      const currentKeyId = secretKeyId(keyring.current);
      if (!opts.json) {
        io.out(
          `Re-encrypting workspace secrets under key ${currentKeyId}${keyring.previous ? `, opening old ones with key ${secretKeyId(keyring.previous)}` : ' (no TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: values under another key will fail)'}.`,
        );
      }
      const result = await withDatabase(config, (db) =>
        rotateWorkspaceSecrets({
          db,
          keyring,
          // No progress bar library is a dependency: one line per batch.
          onProgress: opts.json ? undefined : ({ done, total }) => io.out(`  ${done}/${total} workspaces`),
        }),
      );
      if (opts.json) {
        io.out(JSON.stringify({ rotated: result.rotated, alreadyCurrent: result.alreadyCurrent, changedMeanwhile: result.changedMeanwhile, failed: result.failed, currentKeyId }));
      } else {
        io.out(`Rotated ${result.rotated}, already current ${result.alreadyCurrent}, failed ${result.failed.length} (of ${result.rows} workspaces).`);
        if (result.changedMeanwhile > 0) io.out(`${result.changedMeanwhile} value(s) were saved again while rotating; run the command once more to check them.`);
        for (const f of result.failed) io.out(`  failed: workspace ${f.workspaceId} ${f.column === 'secretKeySealed' ? 'Stripe key' : 'webhook signing secret'}: ${f.reason}`);
        if (result.failed.length === 0 && result.changedMeanwhile === 0) io.out('Every value is under the current key: TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS is no longer needed.');
      }
      if (result.failed.length > 0) {
        const ids = [...new Set(result.failed.map((f) => f.workspaceId))];
        throw new CliError(`${result.failed.length} value(s) could not be decrypted (workspaces ${ids.join(', ')}): set TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS to the key they were sealed with, or have those workspaces paste their keys again`);
      }
    });
  secrets
    .command('status')
    .description('how many stored workspace secrets each encryption key id seals')
    .option('--json', 'print { currentKeyId, previousKeyId, byKey: [{ keyId, values, role }], malformed, rows } as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadCliConfig(io.env);
      const keyring = await keyringOf(config);
      const { secretsStatus } = await import('@tally/api');
      const status = await withDatabase(config, (db) => secretsStatus({ db, keyring }));
      if (opts.json) {
        io.out(JSON.stringify(status));
        return;
      }
      io.out(`TALLY_SECRET_ENCRYPTION_KEY: key ${status.currentKeyId}${status.previousKeyId ? `; TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: key ${status.previousKeyId}` : ''}`);
      if (status.byKey.length === 0 && status.malformed === 0) io.out('No workspace secrets are stored.');
      for (const k of status.byKey) {
        const role = k.role === 'current' ? 'TALLY_SECRET_ENCRYPTION_KEY' : k.role === 'previous' ? 'TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS' : 'neither configured key';
        io.out(`  key ${k.keyId} (${role}): ${k.values} value(s)`);
      }
      if (status.malformed > 0) io.out(`  malformed: ${status.malformed} value(s)`);
      const old = status.byKey.filter((k) => k.role !== 'current').reduce((n, k) => n + k.values, 0);
      if (old > 0) io.out(`${old} value(s) are not under the current key: run \`pnpm tally secrets rotate\`.`);
    });
  return secrets;
}
