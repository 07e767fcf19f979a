/**
 * `pnpm tally workspace api-keys create | list | revoke`: workspace API keys for other
 * backends (`Authorization: Bearer tly_...` on `/api/v1`). The key is printed once, by
 * `create`; Tally keeps only its SHA-256. `--workspace` takes an id or a slug (default: the
 * primary workspace). Changes are audited as `cli`.
 */
import { Command, Option } from 'commander';
import { CliError, loadCliConfig, withDatabase, type CliIo } from './shared';
import type { Database } from '@tally/db';

/** The workspace `ref` names (id or slug), or the primary one. */
async function resolveWorkspace(db: Database, ref: string | undefined): Promise<{ id: string; slug: string; name: string }> {
  const { listWorkspaces } = await import('@tally/api');
  const rows = await listWorkspaces({ db });
  if (rows.length === 0) throw new CliError('No workspaces yet (the server creates the primary one at first start)');
  if (ref === undefined) return rows[0]!;
  const wanted = ref.trim().toLowerCase();
  const found = rows.find((w) => w.id === wanted || w.slug === wanted);
  if (!found) throw new CliError(`No workspace ${JSON.stringify(ref.slice(0, 100))} (give its id or slug; see pnpm tally workspace list)`);
  return found;
}

const workspaceOption = () => new Option('--workspace <id or slug>', 'the workspace (default: the primary workspace)');
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function apiKeysCommand(io: CliIo): Command {
  const keys = new Command('api-keys').description('workspace API keys for server-to-server calls (Authorization: Bearer tly_...)');
  keys
    .command('create')
    .description('create an API key and print it once (only its hash is stored)')
    .requiredOption('--name <name>', 'what the key is for, e.g. "voice backend" (1-100 characters)')
    .addOption(new Option('--mode <mode>', 'tly_live_ or tly_test_ key').choices(['live', 'test']).makeOptionMandatory())
    .addOption(workspaceOption())
    .option('--json', 'print { id, key, displayPrefix, name, mode, workspaceId, createdAt } as JSON')
    .action(async (opts: { name: string; mode: 'live' | 'test'; workspace?: string; json?: boolean }) => {
      const config = loadCliConfig(io.env);
      const { createApiKey } = await import('@tally/api');
      const { created, workspace } = await withDatabase(config, async (db) => {
        const workspace = await resolveWorkspace(db, opts.workspace);
        return { workspace, created: await createApiKey(db, { workspaceId: workspace.id, name: opts.name, mode: opts.mode, actor: 'cli' }) };
      });
      if (opts.json) {
        io.out(JSON.stringify({ ...created, createdAt: created.createdAt.toISOString() }));
        return;
      }
      io.out(`Created ${created.mode} API key "${created.name}" (${created.id}) for workspace ${workspace.slug}:`);
      io.out('');
      io.out(`  ${created.key}`);
      io.out('');
      io.out('Store it now: it is shown only this once. Send it as Authorization: Bearer <key>.');
    });
  keys
    .command('list')
    .description("list a workspace's API keys, newest first (prefix, name, mode, created, last used, revoked)")
    .addOption(workspaceOption())
    .option('--json', 'print [{ id, name, mode, displayPrefix, createdByUserId, createdAt, lastUsedAt, revokedAt }] as JSON')
    .action(async (opts: { workspace?: string; json?: boolean }) => {
      const config = loadCliConfig(io.env);
      const { listApiKeys } = await import('@tally/api');
      const { rows, workspace } = await withDatabase(config, async (db) => {
        const workspace = await resolveWorkspace(db, opts.workspace);
        return { workspace, rows: await listApiKeys(db, { workspaceId: workspace.id }) };
      });
      if (opts.json) {
        io.out(JSON.stringify(rows.map((r) => ({ ...r, createdAt: iso(r.createdAt), lastUsedAt: iso(r.lastUsedAt), revokedAt: iso(r.revokedAt) }))));
        return;
      }
      if (rows.length === 0) {
        io.out(`No API keys in workspace ${workspace.slug} (create one with pnpm tally workspace api-keys create).`);
        return;
      }
      for (const r of rows) {
        const state = r.revokedAt ? `revoked ${iso(r.revokedAt)}` : 'active';
        io.out(`${r.id}  ${r.displayPrefix}...  ${r.mode}  ${JSON.stringify(r.name)}  created ${iso(r.createdAt)}  last used ${iso(r.lastUsedAt) ?? 'never'}  ${state}`);
      }
    });
  keys
    .command('revoke')
    .description('revoke an API key: calls with it answer 401 from now on')
    .argument('<keyId>', 'the key id (from list)')
    .addOption(workspaceOption())
    .option('--json', 'print { id, revokedAt, alreadyRevoked } as JSON')
    .action(async (keyId: string, opts: { workspace?: string; json?: boolean }) => {
      const config = loadCliConfig(io.env);
      const { revokeApiKey } = await import('@tally/api');
      const result = await withDatabase(config, async (db) => {
        const workspace = await resolveWorkspace(db, opts.workspace);
        return revokeApiKey(db, { workspaceId: workspace.id, keyId: keyId.trim().toLowerCase(), actor: 'cli' });
      });
      if (opts.json) {
        io.out(JSON.stringify({ ...result, revokedAt: result.revokedAt.toISOString() }));
        return;
      }
      io.out(result.alreadyRevoked ? `API key ${result.id} was already revoked (${result.revokedAt.toISOString()}).` : `Revoked API key ${result.id}.`);
    });
  return keys;
}
