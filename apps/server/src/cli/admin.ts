/**
 * `pnpm tally admin create --email <e> [--workspace <id|slug>] [--password-stdin] [--json]`:
 * make an email an admin for a deployment without mail (or to recover one), then either set
 * the password read from standard input or print a one-time sign-in link (a better-auth
 * password-reset link, valid one hour).
 */
import { Command } from 'commander';
import { CliError, loadCliConfig, withDatabase, type CliIo } from './shared';

/** Where the SPA lets a reset-link holder choose a password (apps/web, ResetPasswordPage). */
export const RESET_PASSWORD_PAGE = '/reset-password';

/** The password as piped: one trailing line break (from `echo` or a file) is not part of it. */
function passwordFromStdin(text: string): string {
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new CliError('--password-stdin: no password on standard input');
  if (/[\r\n]/.test(password)) throw new CliError('--password-stdin: the password must be one line');
  return password;
}

export function adminCommand(io: CliIo): Command {
  const admin = new Command('admin').description('workspace admins');
  admin
    .command('create')
    .description('make an email an admin of a workspace (created verified if absent); prints a one-time sign-in link, or sets a password from stdin')
    .requiredOption('--email <email>', 'the admin\'s email address')
    .option('--workspace <id|slug>', 'workspace to administer (default: the primary workspace)')
    .option('--password-stdin', 'read the password from standard input instead of printing a sign-in link')
    .option('--json', 'print { userId, workspaceId, created, signInUrl? } as JSON')
    .action(async (opts: { email: string; workspace?: string; passwordStdin?: boolean; json?: boolean }) => {
      const config = loadCliConfig(io.env);
      // The domain (better-auth, the password estimator) loads on use: `--help` stays instant.
      const { createAdmin, issuePasswordResetLink, silentLogger, SIGN_IN_LINK_TTL_SECONDS } = await import('@tally/api');
      const { createServerAuth } = await import('../auth');
      // Read stdin before touching the database, so a missing password changes nothing.
      const password = opts.passwordStdin ? passwordFromStdin(await io.readStdin()) : null;
      const outcome = await withDatabase(config, async (db) => {
        const result = await createAdmin({ db, email: opts.email, workspace: opts.workspace ?? null, password, currency: config.api.topup.currency });
        if (password !== null) return { result, link: null };
        const auth = createServerAuth({ db, config, logger: silentLogger });
        const link = await issuePasswordResetLink({ auth, userId: result.userId, callbackURL: `${config.webUrl}${RESET_PASSWORD_PAGE}` });
        return { result, link };
      });
      const { result, link } = outcome;
      if (opts.json) {
        io.out(JSON.stringify({ userId: result.userId, workspaceId: result.workspaceId, created: result.created, ...(link ? { signInUrl: link.url } : {}) }));
        return;
      }
      const email = opts.email.trim().toLowerCase();
      io.out(`${result.created ? 'Created' : 'Updated'} ${email}: admin of workspace ${result.workspaceId}.`);
      if (result.discardedUnverified) io.out('The account existed but was never verified: its password and sessions were discarded.');
      if (link) {
        io.out(`One-time sign-in link (works once, for ${SIGN_IN_LINK_TTL_SECONDS / 3600} hour; choose a password there):`);
        io.out(link.url);
      } else {
        io.out(`Password set. Sign in at ${config.webUrl}/sign-in`);
      }
    });
  return admin;
}
