import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

const problemsOf = (env: NodeJS.ProcessEnv) => {
  try {
    loadConfig(env, '/tmp');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('loadConfig', () => {
  it('runs on embedded defaults: SQLite file, emulator, dev origins, seeded demo', () => {
    const config = loadConfig({}, '/tmp');
    expect(config.databaseUrl).toMatch(/^file:.*tally\.sqlite$/);
    expect(config.api.stripeMode).toBe('emulator');
    expect(config.stripe.apiBase?.origin).toBe('http://127.0.0.1:12111');
    expect(config.api.topup).toEqual({ minMinor: 50, maxMinor: 1_000_000, currency: 'usd' });
    expect(config.api.allowedFrontendOrigins).toContain('http://localhost:5173');
    expect(config.seedDemo).toBe(true);
  });

  it('lists every invalid variable in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      STRIPE_SECRET_KEY: 'pk_test_wrongkind',
      STRIPE_WEBHOOK_SECRET: 'nope',
      ALLOWED_FRONTEND_ORIGINS: 'https://ok.example,https://bad.example/path',
      TOPUP_MIN_MINOR: '0.5',
      TALLY_CURRENCY: 'dollars',
    });
    const vars = problems.map((p) => p.split(':')[0]);
    expect(vars.sort()).toEqual(['ALLOWED_FRONTEND_ORIGINS.1', 'PORT', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'TALLY_CURRENCY', 'TOPUP_MIN_MINOR'].sort());
    expect(() => loadConfig({ PORT: 'eighty' }, '/tmp')).toThrow(/Invalid configuration:\n {2}- PORT/);
  });

  it('requires the webhook secret with a real key; a webhook secret alone keeps the emulator API', () => {
    expect(problemsOf({ STRIPE_SECRET_KEY: 'sk_test_abcdefgh1234' })).toEqual(['STRIPE_WEBHOOK_SECRET: required when STRIPE_SECRET_KEY is set']);
    expect(problemsOf({ TOPUP_MIN_MINOR: '500', TOPUP_MAX_MINOR: '100' })).toEqual(['TOPUP_MAX_MINOR: must be >= TOPUP_MIN_MINOR']);
    const own = loadConfig({ NODE_ENV: 'production', STRIPE_WEBHOOK_SECRET: 'whsec_replay_0123456789' }, '/tmp');
    expect(own.api).toMatchObject({ stripeMode: 'emulator', stripeWebhookSecret: 'whsec_replay_0123456789' });
  });

  it('never signs production sessions with the public development secret', () => {
    const dev = loadConfig({}, '/tmp');
    expect(dev.authSecretSource).toBe('development');
    const a = loadConfig({ NODE_ENV: 'production' }, '/tmp');
    const b = loadConfig({ NODE_ENV: 'production' }, '/tmp');
    expect(a.authSecretSource).toBe('ephemeral');
    expect(a.authSecret).not.toBe(dev.authSecret);
    expect(a.authSecret).not.toBe(b.authSecret);
    expect(a.authSecret.length).toBeGreaterThanOrEqual(32);
    const set = loadConfig({ NODE_ENV: 'production', BETTER_AUTH_SECRET: 'z'.repeat(40) }, '/tmp');
    expect(set).toMatchObject({ authSecret: 'z'.repeat(40), authSecretSource: 'env' });
  });

  it('detects test and live keys without calling Stripe', () => {
    const base = { STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh1234', BETTER_AUTH_SECRET: 'y'.repeat(32) };
    expect(loadConfig({ ...base, STRIPE_SECRET_KEY: 'sk_test_abcdefgh1234' }, '/tmp').api.stripeMode).toBe('test');
    expect(loadConfig({ ...base, STRIPE_SECRET_KEY: 'sk_live_fake_0000' }, '/tmp').api.stripeMode).toBe('live');
    expect(loadConfig({ ...base, STRIPE_SECRET_KEY: 'sk_live_fake_0000' }, '/tmp').stripe.apiBase).toBeNull();
  });
});
