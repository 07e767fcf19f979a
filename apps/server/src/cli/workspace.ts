/**
 * `pnpm tally workspace create --name <name> --admin-email <email> [--currency usd] [--json]`:
 * a new workspace on this deployment, administered by that email now (a verified user) or
 * once it signs up (an admin invitation). `pnpm tally workspace list [--json]`: every workspace.
 * `pnpm tally workspace api-keys create | list | revoke`: its API keys (api-keys.ts).
 */
import { Command } from 'commander';
import { apiKeysCommand } from './api-keys';
import { loadCliConfig, withDatabase, type CliIo } from './shared';

export function workspaceCommand(io: CliIo): Command {
  const workspace = new Command('workspace').description('workspaces on this deployment');
  workspace
    .command('create')
    .description('create a workspace and make an email its admin (now if that user exists and is verified, else when they sign up)')
    .requiredOption('--name <name>', 'the workspace\'s name, e.g. "Acme Ops" (its slug is derived from it)')
    .requiredOption('--admin-email <email>', 'email of its first admin')
    .option('--currency <code>', 'ISO 4217 currency of its billing (default: TALLY_CURRENCY)')
    .option('--json', 'print { workspaceId, name, slug, currency, admin: { email, status, userId, invitationId } } as JSON')
    .action(async (opts: { name: string; adminEmail: string; currency?: string; json?: boolean }) => {
      const config = loadCliConfig(io.env);
      const { createWorkspace } = await import('@tally/api');
      const result = await withDatabase(config, (db) =>
        createWorkspace({ db, name: opts.name, adminEmail: opts.adminEmail, currency: opts.currency ?? config.api.topup.currency, actor: 'cli', primaryCurrency: config.api.topup.currency }),
      );
      if (opts.json) {
        io.out(JSON.stringify(result));
        return;
      }
      io.out(`Created workspace "${result.name}" (slug ${result.slug}, ${result.currency}): ${result.workspaceId}`);
      io.out(
        result.admin.status === 'member'
          ? `${result.admin.email} is its admin now (switch to it in the SPA's workspace menu).`
          : `${result.admin.email} becomes its admin on signing up (or signing in) with that address at ${config.webUrl}.`,
      );
    });
  workspace
    .command('list')
    .description('list every workspace, the primary first, with its admins')
    .option('--json', 'print [{ id, name, slug, currency, createdAt, admins, invitedAdmins }] as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadCliConfig(io.env);
      const { listWorkspaces } = await import('@tally/api');
      const rows = await withDatabase(config, (db) => listWorkspaces({ db }));
      if (opts.json) {
        io.out(JSON.stringify(rows));
        return;
      }
      if (rows.length === 0) {
        io.out('No workspaces yet (the server creates the primary one at first start).');
        return;
      }
      for (const [i, w] of rows.entries()) {
        const admins = [...w.admins, ...w.invitedAdmins.map((e) => `${e} (invited)`)];
        io.out(`${w.id}  ${w.slug}  ${w.currency}  ${JSON.stringify(w.name)}${i === 0 ? '  [primary]' : ''}  admins: ${admins.length ? admins.join(', ') : 'none'}`);
      }
    });
  workspace.addCommand(apiKeysCommand(io));
  return workspace;
}
