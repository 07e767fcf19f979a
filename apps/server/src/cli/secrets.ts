/**
 * `pnpm tally secrets rotate [--json]`: re-encrypt every stored workspace secret (Stripe keys,
 * webhook signing secrets, license keys not yet revealed) under TALLY_SECRET_ENCRYPTION_KEY,
 * reading old values with TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS; exit 1 if any value could not
 * be opened.
 * `pnpm tally secrets status [--json]`: how many values each key id seals.
 * Never prints a value (only counts, key ids, workspace ids and license ids).
 */
import { Command } from 'commander';
import type { RotateResult, SecretKeyring } from '@tally/api';
import { CliError, loadCliConfig, withDatabase, type CliIo } from './shared';
import type { ServerConfig } from '../config';
import { DEV_SECRET_ENCRYPTION_KEY } from '../config';

/** One failed value, for the human output. */
function describeFailure(f: RotateResult['failed'][number]): string {
  if (f.table === 'licenses') return `license ${f.rowId} (workspace ${f.workspaceId}) key`;
  return `workspace ${f.workspaceId} ${f.column === 'secretKeySealed' ? 'Stripe key' : 'webhook signing secret'}`;
}

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
    .description('re-encrypt every stored workspace secret (Stripe keys, webhook secrets, unrevealed license keys) under TALLY_SECRET_ENCRYPTION_KEY, reading old ones with TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS')
    .option('--json', 'print { rotated, alreadyCurrent, changedMeanwhile, failed: [{ table, rowId, workspaceId, column, reason }], currentKeyId } as JSON')
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
          onProgress: opts.json
            ? undefined
            : ({ workspaces, licenses }) => io.out(`  ${workspaces.done}/${workspaces.total} workspaces${licenses.total > 0 ? `, ${licenses.done}/${licenses.total} license keys` : ''}`),
        }),
      );
      if (opts.json) {
        io.out(JSON.stringify({ rotated: result.rotated, alreadyCurrent: result.alreadyCurrent, changedMeanwhile: result.changedMeanwhile, failed: result.failed, currentKeyId }));
      } else {
        const licenses = result.licenseRows > 0 ? `, ${result.licenseRows} unrevealed license keys` : '';
        io.out(`Rotated ${result.rotated}, already current ${result.alreadyCurrent}, failed ${result.failed.length} (of ${result.rows} workspaces${licenses}).`);
        if (result.changedMeanwhile > 0) io.out(`${result.changedMeanwhile} value(s) were saved, revealed or revoked while rotating; run the command once more to check them.`);
        for (const f of result.failed) io.out(`  failed: ${describeFailure(f)}: ${f.reason}`);
        if (result.failed.length === 0 && result.changedMeanwhile === 0) io.out('Every value is under the current key: TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS is no longer needed.');
      }
      if (result.failed.length > 0) {
        const workspaceIds = [...new Set(result.failed.filter((f) => f.table === 'workspace_stripe_accounts').map((f) => f.workspaceId))];
        const licenseIds = [...new Set(result.failed.filter((f) => f.table === 'licenses').map((f) => f.rowId))];
        const where = [workspaceIds.length > 0 ? `workspaces ${workspaceIds.join(', ')}` : '', licenseIds.length > 0 ? `licenses ${licenseIds.join(', ')}` : ''].filter(Boolean).join('; ');
        const remedy =
          'set TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS to the key they were sealed with' +
          (workspaceIds.length > 0 ? ', or have those workspaces paste their keys again' : '') +
          (licenseIds.length > 0 ? '; until then those license keys cannot be revealed to their customers' : '');
        throw new CliError(`${result.failed.length} value(s) could not be decrypted (${where}): ${remedy}`);
      }
    });
  secrets
    .command('status')
    .description('how many stored workspace secrets (Stripe keys, webhook secrets, unrevealed license keys) each encryption key id seals')
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
      if (status.byKey.length === 0 && status.malformed === 0) io.out('No workspace secrets or unrevealed license keys are stored.');
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
