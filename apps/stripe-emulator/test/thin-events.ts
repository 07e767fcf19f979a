import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';

/** A thin event notification as `stripe.parseEventNotification` returns it. */
export type EventNotification = ReturnType<Stripe['parseEventNotification']>;

export interface ThinEventReceiver {
  url: string;
  /** Notifications verified by `stripe.parseEventNotification` (v1 events and bad signatures are left out). */
  notifications: EventNotification[];
  /** Resolves with the first verified notification of `type` (after `since`); rejects after `timeoutMs`. */
  waitFor<T extends EventNotification['type']>(type: T, since?: number, timeoutMs?: number): Promise<Extract<EventNotification, { type: T }>>;
  close(): Promise<void>;
}

/**
 * An event destination for thin events: verifies each delivery with the SDK's
 * `parseEventNotification(body, Stripe-Signature, secret)` (whose `fetchEvent()` /
 * `fetchRelatedObject()` then call the emulator through `stripe`), as a v2 receiver does.
 */
export async function startThinEventReceiver(stripe: Stripe, secret: string): Promise<ThinEventReceiver> {
  const notifications: EventNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        notifications.push(stripe.parseEventNotification(Buffer.concat(chunks).toString('utf8'), String(req.headers['stripe-signature']), secret));
      } catch {
        // A v1 event or a bad signature: not a thin event for this receiver.
      }
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/thin`,
    notifications,
    async waitFor<T extends EventNotification['type']>(type: T, since = 0, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = notifications.slice(since).find((notification): notification is Extract<EventNotification, { type: T }> => notification.type === type);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`expected a ${type} thin event; received ${notifications.map((n) => n.type).join(', ') || 'nothing'}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
