import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE_FILE, DEFAULT_WEBHOOK_URL, readConfig } from '../src/config';
import { EMULATOR_DEV_WEBHOOK_SECRET } from '../src/defaults';

describe('environment configuration (main.ts)', () => {
  it('has development defaults', () => {
    expect(readConfig({})).toEqual({
      ok: true,
      config: {
        EMULATOR_PORT: 12111,
        EMULATOR_HOST: '127.0.0.1',
        EMULATOR_WEBHOOK_URLS: [DEFAULT_WEBHOOK_URL],
        EMULATOR_WEBHOOK_SECRET: EMULATOR_DEV_WEBHOOK_SECRET,
        EMULATOR_STATE_FILE: DEFAULT_STATE_FILE,
      },
    });
    expect(DEFAULT_STATE_FILE).toMatch(/data[/\\]stripe-emulator\.json$/);
  });

  it('reads lists, memory-only state and ports', () => {
    const read = readConfig({ EMULATOR_PORT: '0', EMULATOR_WEBHOOK_URLS: 'http://a.test/hook, http://b.test/hook', EMULATOR_STATE_FILE: '-' });
    expect(read).toMatchObject({ ok: true, config: { EMULATOR_PORT: 0, EMULATOR_WEBHOOK_URLS: ['http://a.test/hook', 'http://b.test/hook'], EMULATOR_STATE_FILE: null } });
    expect(readConfig({ EMULATOR_WEBHOOK_URLS: '' })).toMatchObject({ ok: true, config: { EMULATOR_WEBHOOK_URLS: [] } });
  });

  it('lists every bad variable', () => {
    const read = readConfig({ EMULATOR_PORT: 'abc', EMULATOR_WEBHOOK_URLS: 'http://ok.test,ftp://bad', EMULATOR_WEBHOOK_SECRET: 'secret' });
    expect(read.ok).toBe(false);
    const problems = read.ok ? [] : read.problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^EMULATOR_PORT: .*\(got "abc"\)$/);
    expect(problems[1]).toMatch(/^EMULATOR_WEBHOOK_URLS \(entry 2\): must be an http\(s\) URL/);
    expect(problems[2]).toMatch(/^EMULATOR_WEBHOOK_SECRET: must start with whsec_/);
  });
});
