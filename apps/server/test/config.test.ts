import { describe, expect, it } from 'vitest';
import { EMULATOR_DEV_WEBHOOK_SECRET } from '@tally/stripe-emulator/defaults';
import { ConfigError, DEV_AUTH_SECRET, loadConfig as load } from '../src/config';

/** Development unless a test says otherwise: production is the default (see its own test). */
const loadConfig = (env: NodeJS.ProcessEnv, cwd: string) => load({ NODE_ENV: 'development', ...env }, cwd);

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
    const own = loadConfig({ NODE_ENV: 'production', TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true', STRIPE_WEBHOOK_SECRET: 'whsec_replay_0123456789' }, '/tmp');
    expect(own.api).toMatchObject({ stripeMode: 'emulator', stripeWebhookSecret: 'whsec_replay_0123456789' });
  });

  it('never signs production sessions with the public development secret', () => {
    const dev = loadConfig({}, '/tmp');
    expect(dev.authSecretSource).toBe('development');
    const demo = { NODE_ENV: 'production', TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true' };
    const a = loadConfig(demo, '/tmp');
    const b = loadConfig(demo, '/tmp');
    expect(a.authSecretSource).toBe('ephemeral');
    expect(a.authSecret).not.toBe(dev.authSecret);
    expect(a.authSecret).not.toBe(b.authSecret);
    expect(a.authSecret.length).toBeGreaterThanOrEqual(32);
    const set = loadConfig({ ...demo, BETTER_AUTH_SECRET: 'z'.repeat(40) }, '/tmp');
    expect(set).toMatchObject({ authSecret: 'z'.repeat(40), authSecretSource: 'env' });
  });

  it('detects test and live keys without calling Stripe', () => {
    const base = { STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh1234', BETTER_AUTH_SECRET: 'y'.repeat(32) };
    expect(loadConfig({ ...base, STRIPE_SECRET_KEY: 'sk_test_abcdefgh1234' }, '/tmp').api.stripeMode).toBe('test');
    expect(loadConfig({ ...base, STRIPE_SECRET_KEY: 'sk_live_fake_0000' }, '/tmp').api.stripeMode).toBe('live');
    expect(loadConfig({ ...base, STRIPE_SECRET_KEY: 'sk_live_fake_0000' }, '/tmp').stripe.apiBase).toBeNull();
  });

  it('defaults to production when NODE_ENV is unset (the built server run bare)', () => {
    expect(() => load({}, '/tmp')).toThrow(ConfigError);
    const prod = load({ STRIPE_SECRET_KEY: 'sk_test_abcdefgh1234', STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh1234', BETTER_AUTH_SECRET: 'q'.repeat(32) }, '/tmp');
    expect(prod.nodeEnv).toBe('production');
    expect(prod.seedDemo).toBe(false);
    expect(prod.webDistDir).toMatch(/apps\/web\/dist$/);
  });

  it('refuses production on the emulator, its published webhook secret or the development auth secret, in one message', () => {
    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        load({ NODE_ENV: 'production', ...env }, '/tmp');
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.map((p) => p.split(':')[0]);
        throw err;
      }
      return [];
    };
    expect(refused({}).sort()).toEqual(['BETTER_AUTH_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']);
    const keys = { STRIPE_SECRET_KEY: 'sk_live_fake_0000', STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh1234', BETTER_AUTH_SECRET: 'q'.repeat(32) };
    expect(refused(keys)).toEqual([]);
    expect(refused({ ...keys, STRIPE_WEBHOOK_SECRET: EMULATOR_DEV_WEBHOOK_SECRET })).toEqual(['STRIPE_WEBHOOK_SECRET']);
    expect(refused({ ...keys, BETTER_AUTH_SECRET: DEV_AUTH_SECRET })).toEqual(['BETTER_AUTH_SECRET']);
    expect(refused({ ...keys, BETTER_AUTH_SECRET: undefined })).toEqual(['BETTER_AUTH_SECRET']);
    // A wrongly spelled flag is an error, not "false".
    expect(refused({ TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'yes' })).toContain('TALLY_ALLOW_EMULATOR_IN_PRODUCTION');
    expect(refused({ TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true' })).toEqual([]);
    expect(() => load({ NODE_ENV: 'production' }, '/tmp')).toThrow(/TALLY_ALLOW_EMULATOR_IN_PRODUCTION=true/);
  });

  it('parses TALLY_TRUST_PROXY, TALLY_SIGN_UP, SMTP_URL and TOPUP_MAX_OPEN', () => {
    expect(loadConfig({}, '/tmp')).toMatchObject({ trustProxy: false, mail: { smtpUrl: null }, api: { signUp: 'open', maxOpenTopups: 5 } });
    expect(loadConfig({ TALLY_TRUST_PROXY: '1' }, '/tmp').trustProxy).toBe(1);
    expect(loadConfig({ TALLY_TRUST_PROXY: 'loopback, 10.0.0.0/8' }, '/tmp').trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    const c = loadConfig({ TALLY_SIGN_UP: 'invite', SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Billing <billing@acme.test>', TOPUP_MAX_OPEN: '2' }, '/tmp');
    expect(c).toMatchObject({ mail: { smtpUrl: 'smtp://127.0.0.1:2525', from: 'Billing <billing@acme.test>' }, api: { signUp: 'invite', maxOpenTopups: 2 } });
    expect(problemsOf({ TALLY_TRUST_PROXY: 'everyone', TALLY_SIGN_UP: 'closed', SMTP_URL: 'http://mail', TOPUP_MAX_OPEN: '0' }).map((p) => p.split(':')[0]).sort()).toEqual(
      ['SMTP_URL', 'TALLY_SIGN_UP', 'TALLY_TRUST_PROXY', 'TOPUP_MAX_OPEN'],
    );
  });
});
