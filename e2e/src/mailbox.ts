/**
 * A mailbox for browser tests: an SMTP server (smtp-server) on loopback that accepts every
 * message without authentication or TLS and keeps it parsed (mailparser). Point the server's
 * `SMTP_URL` at `smtpUrl`.
 *
 * STARTTLS and AUTH are not offered, so nodemailer, which upgrades only when the server
 * advertises STARTTLS, talks plain SMTP to a bare `smtp://127.0.0.1:<port>` URL: no
 * `?ignoreTLS=true` is needed.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  /** Envelope recipients (RCPT TO), lowercased. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string | null;
  /** Every http(s) URL in the text and HTML parts, in order, deduplicated. */
  links: string[];
}

export interface Mailbox {
  smtpUrl: string;
  messages(): readonly ReceivedEmail[];
  /** The `nth` (1-based) message to `to` once it has arrived; fails after `timeoutMs` naming what did arrive. */
  waitFor(to: string, options?: { nth?: number; timeoutMs?: number }): Promise<ReceivedEmail>;
  close(): Promise<void>;
}

const URL_PATTERN = /https?:\/\/[^\s"'<>)\]]+/g;

function linksIn(text: string, html: string | null): string[] {
  const decodedHtml = (html ?? '').replace(/&amp;/g, '&');
  const found = [...text.matchAll(URL_PATTERN), ...decodedHtml.matchAll(URL_PATTERN)].map((m) => m[0].replace(/[.,;]+$/, ''));
  return [...new Set(found)];
}

export async function startMailbox(): Promise<Mailbox> {
  const received: ReceivedEmail[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const text = mail.text ?? '';
          const html = typeof mail.html === 'string' ? mail.html : null;
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            subject: mail.subject ?? '',
            text,
            html,
            links: linksIn(text, html),
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    smtpUrl: `smtp://127.0.0.1:${port}`,
    messages: () => received,
    async waitFor(to, { nth = 1, timeoutMs = 30_000 } = {}) {
      const address = to.toLowerCase();
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const hit = received.filter((m) => m.to.includes(address))[nth - 1];
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 100));
      }
      const seen = received.map((m) => `${m.to.join(',')}: ${m.subject}`).join('; ') || 'nothing';
      throw new Error(`no email #${nth} to ${to} within ${timeoutMs} ms; received: ${seen}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
