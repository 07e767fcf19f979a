/**
 * The account emails better-auth asks Tally to send (verification, password reset): stored
 * in the outbox (`enqueueEmail`), sent by the outbox worker. The link is the secret: it goes
 * only into the email body, never into a log line or an error.
 */
import type { Database } from '@tally/db';
import { enqueueEmail } from '../email/enqueue';
import type { Logger } from '../logger';
import { hitWindowCounter } from '../rate-limits/window-counter';
import { ensurePrimaryWorkspace } from '../workspaces/ensure-primary';

/**
 * `confirm_admin` replaces `verify_email` for an address that would become an admin: a reset
 * link, so the address is confirmed by choosing the password from the mailbox (see auth.ts).
 */
export type AccountEmailKind = 'verify_email' | 'reset_password' | 'confirm_admin';

/** Most emails of one kind to one address per hour (stops mail bombing one inbox). */
export const ACCOUNT_EMAILS_PER_HOUR = 5;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Subject, plain text and simple HTML for an account email around `url`. */
export function accountEmailContent(kind: AccountEmailKind, { url, name }: { url: string; name?: string | null }) {
  const greeting = name?.trim() ? `Hello ${name.trim()},` : 'Hello,';
  const [subject, intro, action, outro] =
    kind === 'confirm_admin'
      ? [
          'Confirm your Tally admin account',
          'This email address is an administrator of Tally, and someone signed up with it. To confirm the address is yours, choose the password of the account:',
          'Choose your password',
          'The link works for one hour. The password you choose replaces the one given at sign-up and signs out every other session, so the account is yours even if someone else signed up with this address. If you expected nothing, ignore this email: nobody gets access without this link.',
        ]
      : kind === 'verify_email'
      ? [
          'Verify your email address for Tally',
          'Someone signed up for Tally with this email address. If it was you, confirm the address to finish signing up:',
          'Verify email address',
          'The link works for one hour. If it was not you, do not open the link: whoever signed up chose the password, and the link would hand them this address. Ignore this email, or reset the password to take the account over yourself.',
        ]
      : [
          'Reset your Tally password',
          'A password reset was asked for the Tally account of this email address (or someone tried to sign up with it again). To choose a new password:',
          'Choose a new password',
          'The link works for one hour; the new password signs out every session of the account and confirms this address. If you did not ask, ignore this email: the password stays as it is.',
        ];
  const text = `${greeting}\n\n${intro}\n\n${url}\n\n${outro}\n`;
  const html =
    `<p>${escapeHtml(greeting)}</p><p>${escapeHtml(intro)}</p>` +
    `<p><a href="${escapeHtml(url)}">${escapeHtml(action)}</a></p>` +
    `<p>Or paste this link into your browser:<br>${escapeHtml(url)}</p><p>${escapeHtml(outro)}</p>`;
  return { subject, text, html };
}

/**
 * Store an account email for `to` in the outbox (workspace: the primary one), unless that
 * address already got `ACCOUNT_EMAILS_PER_HOUR` of this kind in the last hour (then it is
 * dropped and a warning naming the user id is logged; the HTTP answer stays the same, so it
 * tells nothing about the account).
 * @returns whether it was stored.
 */
export async function sendAccountEmail({
  db,
  logger,
  kind,
  to,
  userId,
  name,
  url,
}: {
  db: Database;
  logger: Logger;
  kind: AccountEmailKind;
  to: string;
  userId: string;
  name?: string | null;
  url: string;
}): Promise<boolean> {
  const { count } = await hitWindowCounter(db, { key: `mail:${kind}:${to.trim().toLowerCase()}`, windowMs: 60 * 60_000 });
  if (count > ACCOUNT_EMAILS_PER_HOUR) {
    logger.warn({ userId, kind }, 'account email dropped: too many to this address in the last hour');
    return false;
  }
  const workspace = await ensurePrimaryWorkspace({ db });
  await enqueueEmail(db, { kind, to, workspaceId: workspace.id, ...accountEmailContent(kind, { url, name }) });
  return true;
}
