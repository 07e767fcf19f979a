/**
 * The built SPA under the server's Content Security Policy (issue 6, item 7), in headless
 * Chromium against the production build: the sign-in page and, signed in as the demo
 * customer, the balance page render with zero CSP violations (console "Refused to ..."
 * messages and `securitypolicyviolation` events), and another site cannot frame the app.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../src/browser';
import { startStack, type Stack } from '../src/stack';
import { screenshotPaths } from '../src/ui';

const shot = screenshotPaths('csp');

/** Everything CSP-related the page reports: console messages and securitypolicyviolation events. */
async function watchCsp(page: Page) {
  const consoleMessages: string[] = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect|frame|create)/i.test(text)) consoleMessages.push(text);
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`));
  });
  return {
    async violations() {
      const events = await page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
      return [...consoleMessages, ...events];
    },
  };
}

describe.each(['sqlite', 'postgres'] as const)('the SPA under the CSP (%s)', (dialect) => {
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

  it('renders the sign-in and balance pages with zero CSP violations', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const csp = await watchCsp(page);
    try {
      const response = await page.goto(`${stack.baseUrl}/sign-in`);
      const policy = response?.headers()['content-security-policy'] ?? '';
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).toContain("style-src-attr 'none'");
      await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
      await page.screenshot({ path: shot(`${dialect}-1-sign-in`), fullPage: true });
      expect(await csp.violations()).toEqual([]);

      const who = stack.demoSignIns.customer;
      await page.getByLabel('Email').fill(who.email);
      await page.getByLabel('Password').fill(who.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('balance').waitFor({ timeout: 20_000 });
      await page.waitForFunction(() => /\$\d/.test(document.querySelector('[data-testid="balance"]')?.textContent ?? ''), undefined, { timeout: 20_000 });
      await page.screenshot({ path: shot(`${dialect}-2-balance`), fullPage: true });
      expect(await csp.violations()).toEqual([]);
    } catch (err) {
      await page.screenshot({ path: shot(`${dialect}-failure`), fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n--- server log ---\n${stack.serverLog()}`, { cause: err });
    } finally {
      await context.close();
    }
  });

  it('cannot be framed by another site (frame-ancestors)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('console', (msg) => void (/frame-ancestors/.test(msg.text()) && refused.push(msg.text())));
    try {
      // A page that is not the app (about:blank) frames it.
      await page.setContent(`<iframe id="app" src="${stack.baseUrl}/sign-in" width="600" height="400"></iframe>`);
      await page.waitForFunction(() => !!document.querySelector('iframe'));
      for (let i = 0; i < 50 && refused.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(refused.join('\n')).toMatch(/frame-ancestors 'none'/);
      const frame = page.frames().find((f) => f !== page.mainFrame());
      const framedButtons = frame ? await frame.locator('button').count().catch(() => 0) : 0;
      expect(framedButtons).toBe(0);
    } finally {
      await context.close();
    }
  });
});
