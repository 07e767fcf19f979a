/**
 * Which mail transport this process uses, from config (SMTP_URL, MAIL_FROM):
 * - SMTP_URL set: SMTP through nodemailer.
 * - unset, outside production: the console (each email's recipient, subject and body is
 *   printed and the row marked sent; /api/dev/mailbox shows them too).
 * - unset, in production: none. The worker does not run, rows stay `pending` (the admin
 *   Emails page shows them), and start-up warns once (`MAIL_NOT_CONFIGURED_WARNING`).
 */
import { consoleTransport, smtpTransport, startEmailWorker, type EmailWorker, type Logger, type MailTransport } from '@tally/api';
import type { Database } from '@tally/db';
import type { ServerConfig } from './config';

/** Printed once at start by a production server without SMTP_URL. */
export const MAIL_NOT_CONFIGURED_WARNING =
  'SMTP_URL is not set: emails are stored but not sent; see the admin Emails page / use `pnpm tally admin create`';

/** The transport for `config`, or null (production without SMTP_URL: mail is stored, not sent). */
export function createMailTransport(
  config: Pick<ServerConfig, 'nodeEnv' | 'mail'>,
  print: (text: string) => void = (text) => console.log(text),
): MailTransport | null {
  if (config.mail.smtpUrl) return smtpTransport(config.mail.smtpUrl);
  // Bodies carry sign-in links: they are printed only where nobody ships the logs.
  if (config.nodeEnv === 'production') return null;
  return consoleTransport(print);
}

/** The running outbox worker and its transport, or neither; `stop()` ends both. */
export interface Mailer {
  transport: MailTransport | null;
  worker: EmailWorker | null;
  /** A one-line warning for the start banner, or null. */
  warning: string | null;
  stop(): Promise<void>;
}

/** Start the outbox worker for `config`, or explain (in `warning`) why mail is not sent. */
export function startMailer({
  db,
  config,
  logger,
  transport = createMailTransport(config),
  pollMs,
}: {
  db: Database;
  config: Pick<ServerConfig, 'nodeEnv' | 'mail'>;
  logger: Logger;
  transport?: MailTransport | null;
  pollMs?: number;
}): Mailer {
  if (!transport) {
    return { transport: null, worker: null, warning: MAIL_NOT_CONFIGURED_WARNING, stop: async () => {} };
  }
  const worker = startEmailWorker({ db, transport, from: config.mail.from, logger, ...(pollMs ? { pollMs } : {}) });
  return {
    transport,
    worker,
    warning: null,
    async stop() {
      await worker.stop();
      await transport.close();
    },
  };
}
