/**
 * The newcomer's flow in headless Chromium against the built product (server + SPA in
 * production mode, Stripe emulator), on SQLite and on Postgres.
 */
import { DEMO_SIGN_INS } from '@tally/api';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../src/browser';
import { startStack, type Stack } from '../src/stack';
import { payWithCard, screenshotPaths, signIn, waitForText } from '../src/ui';

const shot = screenshotPaths('topup');

async function startTopup(page: Page, emulatorUrl: string, preset: string) {
  await page.getByRole('button', { name: preset, exact: true }).click();
  await page.getByRole('button', { name: 'Top up', exact: true }).click();
  await page.waitForURL((url) => url.href.startsWith(emulatorUrl), { timeout: 20_000 });
}

describe.each(['sqlite', 'postgres'] as const)('top-up in the browser (%s)', (dialect) => {
  let stack: Stack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startStack(dialect);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('customer tops up $5 with 4242, a declined card changes nothing, admin sees it in Activity', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page, stack.baseUrl, stack.demoSignIns.customer);
      await waitForText(page.getByTestId('balance'), '$0.00');
      await waitForText(page.getByRole('status'), 'Stripe emulator: test payments only', { contains: true });

      await startTopup(page, stack.emulator.url, '$5.00');
      await page.screenshot({ path: shot(`${dialect}-1-checkout`) });
      await payWithCard(page, '4242 4242 4242 4242');
      await page.waitForURL(/\/topup\/success\?session_id=cs_/, { timeout: 20_000 });
      await waitForText(page.getByTestId('balance'), '$5.00');
      await page.screenshot({ path: shot(`${dialect}-2-success`) });

      await page.goto(`${stack.baseUrl}/`);
      await waitForText(page.getByTestId('balance'), '$5.00');
      await startTopup(page, stack.emulator.url, '$10.00');
      await payWithCard(page, '4000 0000 0000 0002');
      await waitForText(page.getByRole('alert'), 'Your card was declined.', { contains: true });
      await page.screenshot({ path: shot(`${dialect}-3-declined`) });
      await page.goto(`${stack.baseUrl}/`);
      await waitForText(page.getByTestId('balance'), '$5.00');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/sign-in/);
      await signIn(page, stack.baseUrl, stack.demoSignIns.admin);
      await page.waitForURL(/\/admin/);
      const topups = page.getByRole('table').first();
      await waitForText(topups, 'Demo Customer Inc.', { contains: true });
      await waitForText(topups, '$5.00', { contains: true });
      await waitForText(topups, 'Paid', { contains: true });
      const events = page.getByRole('table').nth(1);
      await waitForText(events, 'checkout.session.completed', { contains: true });
      await waitForText(events, 'Processed', { contains: true });
      await page.screenshot({ path: shot(`${dialect}-4-admin`), fullPage: true });
    } catch (err) {
      await page.screenshot({ path: shot(`${dialect}-failure`), fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n--- server log ---\n${stack.serverLog()}`, { cause: err });
    } finally {
      await context.close();
    }
    expect(stack.emulator.deliveries().some((d) => d.eventType === 'checkout.session.completed' && d.ok)).toBe(true);
  });

  it('production seeds generated demo passwords: the published ones do not sign in', async () => {
    for (const role of ['customer', 'admin'] as const) {
      expect(stack.demoSignIns[role].email).toBe(DEMO_SIGN_INS[role].email);
      expect(stack.demoSignIns[role].password).not.toBe(DEMO_SIGN_INS[role].password);
      const res = await fetch(`${stack.baseUrl}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: stack.baseUrl },
        body: JSON.stringify({ email: DEMO_SIGN_INS[role].email, password: DEMO_SIGN_INS[role].password }),
      });
      expect(res.status).toBe(401);
    }
  });
});
