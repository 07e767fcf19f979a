/**
 * The server logger's two guards (logger.ts), without a server: secret-bearing field names are
 * redacted and secret-shaped values are scrubbed wherever they appear (message, nested fields,
 * error stacks); lines inside `runWithRequestId` carry the id; request paths lose tokens.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loggablePath, runWithRequestId } from '../src/http/request-id';
import { createLogger, scrubSecrets } from '../src/logger';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ environment: 'production', destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) });
  return { logger, lines };
}

describe('server logger', () => {
  // Assembled at run time: a real-looking live key never sits in the repository as text.
  const stripeKey = ['sk', 'live', '51AbCdEfGhIjKlMnOpQrStUv'].join('_');
  const restricted = 'rk_test_51ZyXwVuTsRqPoNm';
  const whsec = 'whsec_0123456789abcdefABCDEF';
  const apiKey = `tly_live_${'a1B2'.repeat(10)}xyz`;
  const license = 'TLY-ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345';
  const hmac = 'f'.repeat(64);

  it('redacts secret fields and scrubs secret values everywhere, keeping the kind of key', () => {
    const { logger, lines } = capture();
    logger.error(
      {
        password: 'hunter2hunter2',
        user: { newPassword: 'n3wPassw0rd!', email: 'a@example.test' },
        headers: { authorization: `Bearer ${apiKey}`, cookie: 'better-auth.session_token=abc', 'stripe-signature': `t=1,v1=${hmac}` },
        config: { note: `key ${stripeKey} and ${restricted}` },
        err: new Error(`Stripe refused ${stripeKey}; secret ${whsec}; license ${license}`),
        eventId: 'evt_123',
      },
      `signature t=1,v1=${hmac} cookie better-auth.session_token=Zz9.yy8 key ${apiKey}`,
    );
    const text = lines.join('');
    for (const secret of ['hunter2hunter2', 'n3wPassw0rd!', apiKey, stripeKey, restricted, whsec, license, hmac, 'Zz9.yy8', 'session_token=abc']) expect(text).not.toContain(secret);
    const line = JSON.parse(text) as { headers: unknown; config: { note: string }; err: { message: string }; msg: string } & Record<string, unknown>;
    expect(line).toMatchObject({ password: '[redacted]', user: { newPassword: '[redacted]', email: 'a@example.test' }, eventId: 'evt_123' });
    expect(line.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]', 'stripe-signature': '[redacted]' });
    expect(line.config.note).toBe('key sk_live_[redacted] and rk_test_[redacted]');
    expect(line.err.message).toBe('Stripe refused sk_live_[redacted]; secret whsec_[redacted]; license TLY-[redacted]');
    expect(line.msg).toBe('signature t=1,v1=[redacted] cookie better-auth.session_token=[redacted] key tly_live_[redacted]');
  });

  it('keeps what is not a secret: ids, display prefixes, publishable keys', () => {
    expect(scrubSecrets('evt_1 cus_2 tly_test_Ab3dE pk_test_123456789 sk_test_ whsec_')).toBe('evt_1 cus_2 tly_test_Ab3dE pk_test_123456789 sk_test_ whsec_');
  });

  it('adds the request id inside a request context, and none outside', () => {
    const { logger, lines } = capture();
    runWithRequestId('11111111-2222-4333-8444-555555555555', () => logger.warn({ eventId: 'evt_1' }, 'inside'));
    logger.warn({}, 'outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ requestId: '11111111-2222-4333-8444-555555555555', msg: 'inside' });
    expect(outside).not.toHaveProperty('requestId');
  });

  it('logged paths lose query strings and token-like segments, keep words and UUIDs', () => {
    expect(loggablePath('/pay/AbCdEf0123456789xyzQ?x=1')).toBe('/pay/[redacted]');
    expect(loggablePath('/api/auth/reset-password/k3JdY8aLq0wZrT5uVbN2?callbackURL=/')).toBe('/api/auth/reset-password/[redacted]');
    expect(loggablePath('/api/stripe/webhook/0b0e3b4a-6a7d-4c1e-9f0a-1d2c3b4a5f6e')).toBe('/api/stripe/webhook/0b0e3b4a-6a7d-4c1e-9f0a-1d2c3b4a5f6e');
    expect(loggablePath('/trpc/admin.events,balance.get?batch=1&input=%7B%7D')).toBe('/trpc/admin.events,balance.get');
    expect(loggablePath('/api/v1/customers/customer-access-check/access')).toBe('/api/v1/customers/customer-access-check/access');
  });
});
