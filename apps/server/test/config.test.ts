import { describe, expect, it } from 'vitest';
import { EMULATOR_DEV_API_KEY, EMULATOR_DEV_WEBHOOK_SECRET } from '@tally/stripe-emulator/defaults';
import { parseSecretKey, secretKeyId } from '@tally/api';
import { ConfigError, DEV_AUTH_SECRET, DEV_SECRET_ENCRYPTION_KEY, loadConfig as load } from '../src/config';

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
    expect(own.api.stripeMode).toBe('emulator');
    expect(own.stripe).toMatchObject({ webhookSecret: 'whsec_replay_0123456789', secretKey: EMULATOR_DEV_API_KEY });
    expect(own.stripe.apiBase?.origin).toBe('http://127.0.0.1:12111');
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
    // Without Stripe keys production runs with no deployment Stripe (never the emulator): only the auth secret is missing.
    expect(refused({}).sort()).toEqual(['BETTER_AUTH_SECRET']);
    const keys = { STRIPE_SECRET_KEY: 'sk_live_fake_0000', STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh1234', BETTER_AUTH_SECRET: 'q'.repeat(32) };
    expect(refused(keys)).toEqual([]);
    expect(refused({ ...keys, STRIPE_WEBHOOK_SECRET: EMULATOR_DEV_WEBHOOK_SECRET })).toEqual(['STRIPE_WEBHOOK_SECRET']);
    expect(refused({ ...keys, STRIPE_API_BASE: 'http://127.0.0.1:12111' })).toEqual(['STRIPE_API_BASE']);
    expect(refused({ ...keys, STRIPE_WEBHOOK_SECRET: undefined })).toEqual(['STRIPE_WEBHOOK_SECRET']);
    // A webhook secret without a key: no deployment account to verify events of.
    expect(refused({ BETTER_AUTH_SECRET: 'q'.repeat(32), STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh1234' })).toEqual(['STRIPE_WEBHOOK_SECRET']);
    expect(refused({ BETTER_AUTH_SECRET: 'q'.repeat(32), STRIPE_WEBHOOK_SECRET: EMULATOR_DEV_WEBHOOK_SECRET }).sort()).toEqual(['STRIPE_WEBHOOK_SECRET', 'STRIPE_WEBHOOK_SECRET']);
    expect(refused({ ...keys, BETTER_AUTH_SECRET: DEV_AUTH_SECRET })).toEqual(['BETTER_AUTH_SECRET']);
    expect(refused({ ...keys, BETTER_AUTH_SECRET: undefined })).toEqual(['BETTER_AUTH_SECRET']);
    // A wrongly spelled flag is an error, not "false".
    expect(refused({ TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'yes' })).toContain('TALLY_ALLOW_EMULATOR_IN_PRODUCTION');
    expect(refused({ TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true' })).toEqual([]);
    expect(() => load({ NODE_ENV: 'production' }, '/tmp')).toThrow(/TALLY_ALLOW_EMULATOR_IN_PRODUCTION=true/);
  });

  it('DATABASE_POOL_SIZE: 20 by default, a whole number of connections from 1 to 500, else a clear error', () => {
    expect(loadConfig({}, '/tmp').databasePoolSize).toBe(20);
    expect(loadConfig({ DATABASE_POOL_SIZE: '32' }, '/tmp').databasePoolSize).toBe(32);
    for (const [value, message] of [
      ['0', 'must be at least 1'],
      ['501', 'must be at most 500'],
      ['2.5', 'must be a whole number of connections'],
      ['many', 'DATABASE_POOL_SIZE'],
    ] as const) {
      const problems = problemsOf({ DATABASE_POOL_SIZE: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^DATABASE_POOL_SIZE/);
      expect(problems[0]).toContain(message);
    }
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
  it('STRIPE_PRODUCT_PRICE_MAP: JSON or code=price pairs; a bad entry stops the start naming the variable and the entry', () => {
    expect(loadConfig({}, '/tmp').priceMap).toEqual([]);
    expect(loadConfig({ STRIPE_PRODUCT_PRICE_MAP: 'solo=price_1Solo,team=price_1Team' }, '/tmp').priceMap).toEqual([
      { code: 'solo', priceId: 'price_1Solo' },
      { code: 'team', priceId: 'price_1Team' },
    ]);
    for (const [text, entry] of [
      ['solo=price_1A,solo=price_1B', '"solo" appears twice'],
      ['solo=', '"solo" has an empty price id'],
      ['=price_1A', 'empty plan code'],
      ['solo=prod_1A', '"prod_1A" is not a Stripe price id'],
      ['{"solo":', 'not valid JSON'],
    ] as const) {
      const problems = problemsOf({ STRIPE_PRODUCT_PRICE_MAP: text });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^STRIPE_PRODUCT_PRICE_MAP: /);
      expect(problems[0]).toContain(entry);
    }
  });

  it('production without STRIPE_SECRET_KEY has no deployment Stripe (`none`), never the emulator', () => {
    const bare = load({ NODE_ENV: 'production', BETTER_AUTH_SECRET: 'q'.repeat(32) }, '/tmp');
    expect(bare.api.stripeMode).toBe('none');
    expect(bare.stripe).toEqual({ secretKey: null, webhookSecret: null, apiBase: null });
    // The escape hatch still runs a demo on the emulator.
    const demo = load({ NODE_ENV: 'production', TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true' }, '/tmp');
    expect(demo.api.stripeMode).toBe('emulator');
    expect(demo.stripe.secretKey).toBe(EMULATOR_DEV_API_KEY);
    // Development without keys stays on the emulator.
    expect(loadConfig({}, '/tmp').api.stripeMode).toBe('emulator');
  });

  it('TALLY_SECRET_ENCRYPTION_KEY: 32 bytes (base64 or hex), _PREVIOUS only with it, the development key only outside production', () => {
    const key = Buffer.alloc(32, 3);
    const old = Buffer.alloc(32, 4);
    const withKey = loadConfig({ TALLY_SECRET_ENCRYPTION_KEY: key.toString('base64') }, '/tmp');
    expect(withKey.secretKeySource).toBe('env');
    expect(withKey.secretKeyring?.current.equals(key)).toBe(true);
    expect(withKey.secretKeyring?.previous ?? null).toBeNull();
    const rotating = loadConfig({ TALLY_SECRET_ENCRYPTION_KEY: key.toString('hex'), TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: old.toString('base64url') }, '/tmp');
    expect(rotating.secretKeyring?.current.equals(key)).toBe(true);
    expect(rotating.secretKeyring?.previous?.equals(old)).toBe(true);

    // Development without one: the published development key; production without one: no keyring at all.
    const dev = loadConfig({}, '/tmp');
    expect(dev.secretKeySource).toBe('development');
    expect(secretKeyId(dev.secretKeyring!.current)).toBe(secretKeyId(parseSecretKey(DEV_SECRET_ENCRYPTION_KEY)));
    const prod = load({ NODE_ENV: 'production', BETTER_AUTH_SECRET: 'q'.repeat(32) }, '/tmp');
    expect(prod).toMatchObject({ secretKeyring: null, secretKeySource: 'none' });

    // Malformed values are refused, and the message never echoes them.
    const short = Buffer.alloc(16, 5).toString('base64');
    const problems = problemsOf({ TALLY_SECRET_ENCRYPTION_KEY: short, TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: 'not a key!' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['TALLY_SECRET_ENCRYPTION_KEY', 'TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS']);
    expect(problems.join('\n')).toContain('must be 32 bytes');
    expect(problems.join('\n')).not.toContain(short);
    expect(problemsOf({ TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: old.toString('base64') })).toEqual([
      'TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: set without TALLY_SECRET_ENCRYPTION_KEY (the new key values are re-encrypted under)',
    ]);
  });

  it('refuses the published development encryption key in production (as the current or the previous key)', () => {
    const base = { NODE_ENV: 'production', BETTER_AUTH_SECRET: 'q'.repeat(32) };
    const refusedVars = (env: NodeJS.ProcessEnv) => {
      try {
        load({ ...base, ...env }, '/tmp');
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    const asCurrent = refusedVars({ TALLY_SECRET_ENCRYPTION_KEY: DEV_SECRET_ENCRYPTION_KEY });
    expect(asCurrent).toHaveLength(1);
    expect(asCurrent[0]).toMatch(/^TALLY_SECRET_ENCRYPTION_KEY: is the published development key/);
    expect(refusedVars({ TALLY_SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 6).toString('base64'), TALLY_SECRET_ENCRYPTION_KEY_PREVIOUS: DEV_SECRET_ENCRYPTION_KEY })).toHaveLength(1);
    expect(refusedVars({ TALLY_SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 6).toString('base64') })).toEqual([]);
    // Allowed outside production, and in a production demo that says so.
    expect(loadConfig({ TALLY_SECRET_ENCRYPTION_KEY: DEV_SECRET_ENCRYPTION_KEY }, '/tmp').secretKeySource).toBe('env');
    expect(refusedVars({ TALLY_SECRET_ENCRYPTION_KEY: DEV_SECRET_ENCRYPTION_KEY, TALLY_ALLOW_EMULATOR_IN_PRODUCTION: 'true' })).toEqual([]);
  });
});
