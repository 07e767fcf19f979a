import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSession, startTestEmulator } from './helpers';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('state file', () => {
  it('persists state on close and reloads it in a new emulator', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'stripe-emulator-'));
    directories.push(directory);
    const statePath = join(directory, 'nested', 'state.json');

    const first = await startTestEmulator({ statePath });
    const customer = await first.stripe.customers.create({ email: 'persist@example.com' }, { idempotencyKey: 'persisted-key' });
    const session = await createSession(first.stripe, { customer: customer.id });
    await first.emulator.completeCheckoutSession(session.id);
    const eventCount = first.emulator.events().length;
    await first.emulator.close();
    expect(existsSync(statePath)).toBe(true);
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ version: 1 });

    const second = await startTestEmulator({ statePath });
    try {
      expect(await second.stripe.customers.retrieve(customer.id)).toMatchObject({ email: 'persist@example.com' });
      expect(await second.stripe.checkout.sessions.retrieve(session.id)).toMatchObject({ status: 'complete', payment_status: 'paid' });
      expect((await second.stripe.checkout.sessions.list({ customer: customer.id })).data.map((s) => s.id)).toEqual([session.id]);
      expect(second.emulator.events()).toHaveLength(eventCount);
      const replay = await second.stripe.customers.create({ email: 'persist@example.com' }, { idempotencyKey: 'persisted-key' });
      expect(replay.id).toBe(customer.id);
    } finally {
      await second.emulator.close();
    }
  });

  it('writes changes in the background without waiting for close', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'stripe-emulator-'));
    directories.push(directory);
    const statePath = join(directory, 'state.json');
    const { emulator, stripe } = await startTestEmulator({ statePath });
    try {
      const customer = await stripe.customers.create({ email: 'debounced@example.com' });
      const deadline = Date.now() + 5000;
      while (!(existsSync(statePath) && readFileSync(statePath, 'utf8').includes(customer.id)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(readFileSync(statePath, 'utf8')).toContain(customer.id);
    } finally {
      await emulator.close();
    }
  });

  it('refuses to start from a corrupt state file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'stripe-emulator-'));
    directories.push(directory);
    const statePath = join(directory, 'state.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(statePath, '{ not json');
    await expect(startTestEmulator({ statePath })).rejects.toThrow(/Cannot read emulator state/);
  });
});
