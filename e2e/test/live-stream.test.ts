/**
 * The live billing stream end to end (issue 10, "End to end in headless Chromium: the admin
 * Activity page shows a top-up credited by a webhook delivered to the other server process,
 * without reload"), on SQLite and on Postgres, with the real Redis:
 * - process A receives the emulator's webhooks; process B serves the admin's Activity page
 *   (both on one database and one Redis); a top-up paid by the customer is credited on A and
 *   appears on B's page without a reload, while B's page is not polling (live: no polling
 *   for minutes), and so does the customer's balance on B;
 * - process C has no Redis: its Activity page says "Live updates off" and still shows the
 *   top-up, by polling;
 * - B killed and restarted: its page says "Reconnecting…", then "Live" again, with no reload;
 * - no CSP violation with the EventSource open (connect-src 'self').
 * Screenshots of the indicator in each state: e2e/screenshots/live-stream-*.png.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../src/browser';
import { startCluster, type Cluster } from '../src/cluster';
import { payWithCard, screenshotRecorder, signIn, waitForText, watchCsp } from '../src/ui';

/** The stream's Redis: the shared one (`E2E_REDIS_URL` to change), logical database 15 so test messages stay out of a dev deployment's. */
const REDIS_URL = process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

const shots = screenshotRecorder('live-stream');

/** The Activity page's stream indicator (LiveIndicator `stream`). */
const indicator = (page: Page) => page.locator('[data-stream-state]').first();

/** Wait until the page's stream indicator is in `state`; fails with the state it saw. */
async function waitForStreamState(page: Page, state: 'live' | 'reconnecting' | 'off', timeout = 30_000) {
  try {
    await page.locator(`[data-stream-state="${state}"]`).first().waitFor({ timeout });
  } catch (err) {
    const seen = await indicator(page).getAttribute('data-stream-state', { timeout: 1_000 }).catch(() => '(no indicator)');
    throw new Error(`expected the live indicator to be "${state}", saw "${seen}"`, { cause: err });
  }
}

/** The top-ups table's row of a paid top-up of `amount` (e.g. `$5.00`). */
const paidTopupRow = (page: Page, amount: string) =>
  page.getByRole('table', { name: 'Recent top-ups' }).getByRole('row').filter({ hasText: amount }).filter({ hasText: 'Paid' });

/** Mark the document, to tell later that it was not reloaded (a reload starts a new `window`). */
const markDocument = (page: Page) => page.evaluate(() => void ((window as unknown as { __liveStreamMark?: number }).__liveStreamMark = 1));
const documentMarked = (page: Page) => page.evaluate(() => (window as unknown as { __liveStreamMark?: number }).__liveStreamMark === 1);

describe.each(['sqlite', 'postgres'] as const)('the live billing stream in the browser (%s)', (dialect) => {
  let cluster: Cluster;
  let browser: Browser;
  beforeAll(async () => {
    // A: webhooks; B: the admin's Activity page; both on the stream's Redis. C: no Redis.
    cluster = await startCluster(dialect, [{ redisUrl: REDIS_URL }, { redisUrl: REDIS_URL }, {}]);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    if (shots.taken.length) console.log(`live-stream screenshots:\n  ${shots.taken.splice(0).join('\n  ')}`);
  });

  it('a top-up credited through process A appears on process B without reload; without Redis the page polls; a restart reconnects', async () => {
    const [a, b, c] = cluster.servers as [Cluster['servers'][number], Cluster['servers'][number], Cluster['servers'][number]];
    const contexts: BrowserContext[] = [];
    const open = async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      return context.newPage();
    };
    const adminB = await open();
    const adminC = await open();
    const customerA = await open();
    const customerB = await open();
    const csp = await watchCsp(adminB);
    try {
      // The admin's Activity page on B, live.
      await signIn(adminB, b.baseUrl, cluster.demoSignIns.admin);
      await adminB.waitForURL(/\/admin$/, { timeout: 20_000 });
      await waitForStreamState(adminB, 'live');
      await waitForText(indicator(adminB), 'Live', { contains: true });
      await adminB.getByRole('table', { name: 'Recent top-ups' }).or(adminB.getByText('No top-ups yet.')).first().waitFor({ timeout: 20_000 });
      await markDocument(adminB);
      await shots.screenshot(adminB, `${dialect}-1-live`);

      // The same page on C, which has no Redis: the stream is off there, the page polls.
      await signIn(adminC, c.baseUrl, cluster.demoSignIns.admin);
      await adminC.waitForURL(/\/admin$/, { timeout: 20_000 });
      await waitForStreamState(adminC, 'off');
      await waitForText(indicator(adminC), 'Live updates off', { contains: true });
      await shots.screenshot(adminC, `${dialect}-2-off`);

      // The customer's Balance page on B, live (it polls only while the stream is not live).
      await signIn(customerB, b.baseUrl, cluster.demoSignIns.customer);
      await waitForText(customerB.getByTestId('balance'), '$0.00');
      await waitForStreamState(customerB, 'live');
      await markDocument(customerB);

      // The customer tops up $5 on A; the emulator delivers checkout.session.completed to A.
      await signIn(customerA, a.baseUrl, cluster.demoSignIns.customer);
      await waitForText(customerA.getByTestId('balance'), '$0.00');
      await customerA.getByRole('button', { name: '$5.00', exact: true }).click();
      await customerA.getByRole('button', { name: 'Top up', exact: true }).click();
      await customerA.waitForURL((url) => url.href.startsWith(cluster.emulator.url), { timeout: 20_000 });
      await payWithCard(customerA, '4242 4242 4242 4242');
      await customerA.waitForURL(/\/topup\/success\?session_id=cs_/, { timeout: 20_000 });
      await waitForText(customerA.getByTestId('balance'), '$5.00');

      // B shows it without reload: while live the page polls only every 5 minutes, so only the stream can bring it this soon.
      await paidTopupRow(adminB, '$5.00').waitFor({ timeout: 15_000 });
      expect(await documentMarked(adminB)).toBe(true);
      await waitForStreamState(adminB, 'live', 1_000);
      await shots.screenshot(adminB, `${dialect}-3-live-credited`);
      // The customer's balance on B follows, through the stream too.
      await waitForText(customerB.getByTestId('balance'), '$5.00', { timeout: 15_000 });
      expect(await documentMarked(customerB)).toBe(true);
      await shots.screenshot(customerB, `${dialect}-3b-balance-live`);
      // C gets it by polling (every 3 s while the stream is off).
      await paidTopupRow(adminC, '$5.00').waitFor({ timeout: 20_000 });
      await shots.screenshot(adminC, `${dialect}-4-off-polled`);

      const deliveries = cluster.emulator.deliveries().filter((d) => d.eventType === 'checkout.session.completed' && d.ok);
      expect(deliveries.length).toBeGreaterThan(0);
      expect(deliveries.every((d) => d.endpointUrl.startsWith(a.baseUrl))).toBe(true);

      // B crashes: its page says reconnecting; B comes back on the same port: live again, same document.
      await b.kill();
      await waitForStreamState(adminB, 'reconnecting');
      await waitForText(indicator(adminB), 'Reconnecting…', { contains: true });
      await shots.screenshot(adminB, `${dialect}-5-reconnecting`);
      await b.restart();
      await waitForStreamState(adminB, 'live', 60_000);
      expect(await documentMarked(adminB)).toBe(true);
      await shots.screenshot(adminB, `${dialect}-6-live-again`);

      expect(await csp.violations()).toEqual([]);
    } catch (err) {
      for (const [name, page] of [['admin-b', adminB], ['admin-c', adminC], ['customer-a', customerA], ['customer-b', customerB]] as const) {
        await page.screenshot({ path: shots.path(`${dialect}-failure-${name}`), fullPage: true }).catch(() => undefined);
      }
      throw new Error(`${(err as Error).message}\n${cluster.logs()}`, { cause: err });
    } finally {
      for (const context of contexts) await context.close();
    }
  });
});
