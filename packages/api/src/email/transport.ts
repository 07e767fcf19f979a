/**
 * How the outbox worker hands a message over: a `MailTransport`. The server picks one from
 * its config (apps/server/src/mail.ts): SMTP through nodemailer when `SMTP_URL` is set, the
 * console in development, none in production without SMTP (rows stay pending).
 */
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

/** One message as the transport sends it. */
export interface MailMessage {
  /** RFC 5322 address, e.g. `Tally <no-reply@example.com>`. */
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string | null;
}

export interface MailTransport {
  /** A short name for logs: `smtp`, `console`. */
  readonly name: string;
  /**
   * Deliver one message. Resolves with the id the receiving server gave it (SMTP `250 ...
   * queued as <id>` / the Message-ID header); rejects on any refusal or network error.
   */
  send(message: MailMessage): Promise<{ messageId: string }>;
  close(): Promise<void>;
}

/**
 * Timeouts of the SMTP client, in ms. Each must stay well under the worker's lease
 * (`EMAIL_LEASE_MS`), so a hung connection fails the attempt before another worker may
 * reclaim the row. nodemailer's own defaults (2 min connect, 10 min socket) are longer than
 * any lease.
 */
export const SMTP_TIMEOUTS_MS = { connection: 10_000, greeting: 10_000, socket: 30_000 } as const;

/**
 * An SMTP transport (nodemailer, nodemailer.com/smtp) for `smtp://` or `smtps://` URLs with
 * optional `user:pass@`; `smtp://` upgrades with STARTTLS when the server offers it.
 */
export function smtpTransport(url: string): MailTransport {
  const options: SMTPTransport.Options = {
    url,
    connectionTimeout: SMTP_TIMEOUTS_MS.connection,
    greetingTimeout: SMTP_TIMEOUTS_MS.greeting,
    socketTimeout: SMTP_TIMEOUTS_MS.socket,
  };
  const transporter = nodemailer.createTransport(options);
  return {
    name: 'smtp',
    async send(message) {
      const info = await transporter.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
      });
      return { messageId: String(info.messageId ?? '') };
    },
    async close() {
      transporter.close();
    },
  };
}

/**
 * Development only: "send" by printing recipient, subject and plain-text body (which holds
 * sign-in links) with `print`. Never use it in production: bodies must not reach logs there.
 */
export function consoleTransport(print: (text: string) => void = (text) => console.log(text)): MailTransport {
  let sequence = 0;
  return {
    name: 'console',
    async send(message) {
      sequence += 1;
      print(['', `  ---- email to ${message.to} ----`, `  Subject: ${message.subject}`, '', ...message.text.split('\n').map((l) => `  ${l}`), '  ----', ''].join('\n'));
      return { messageId: `console-${Date.now()}-${sequence}` };
    },
    async close() {},
  };
}
