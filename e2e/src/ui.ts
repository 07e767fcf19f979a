/** Small helpers the browser tests share: screenshots per test file and text waits. */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';

const screenshotsRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../screenshots');

/**
 * `e2e/screenshots/<prefix>-<name>.png` for one test file: removes that file's screenshots
 * from an earlier run (and only those) and returns the path for a name.
 */
export function screenshotPaths(prefix: string): (name: string) => string {
  mkdirSync(screenshotsRoot, { recursive: true });
  for (const f of readdirSync(screenshotsRoot)) if (f.startsWith(`${prefix}-`)) rmSync(path.join(screenshotsRoot, f));
  return (name) => path.join(screenshotsRoot, `${prefix}-${name}.png`);
}

/**
 * Wait until the locator's text equals `text` (or, with `contains`, contains it ignoring case,
 * as CSS may change it); fails with what it saw.
 */
export async function waitForText(locator: Locator, text: string, { contains = false, timeout = 20_000 } = {}) {
  const deadline = Date.now() + timeout;
  let seen = '';
  while (Date.now() < deadline) {
    seen = ((await locator.first().textContent({ timeout: 1_000 }).catch(() => '')) ?? '').trim();
    if (contains ? seen.toLowerCase().includes(text.toLowerCase()) : seen === text) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`expected ${contains ? 'text containing' : 'text'} "${text}", saw "${seen}"`);
}

/**
 * Everything CSP-related a page reports from now on: console "Refused to ..." messages and
 * `securitypolicyviolation` events (the latter per document, so read them before navigating away).
 */
export async function watchCsp(page: Page) {
  const consoleMessages: string[] = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect|frame|create)/i.test(text)) consoleMessages.push(`${page.url()}: ${text}`);
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`));
  });
  return {
    /** Console messages so far, and the current document's violation events. */
    async violations() {
      const events = await page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []).catch(() => []);
      return [...consoleMessages, ...events];
    },
  };
}

/**
 * Full-page screenshots (from the top: the header is sticky) of one test file, remembered so
 * the file can print their paths at the end (`taken.splice(0)`).
 */
export function screenshotRecorder(prefix: string) {
  const shot = screenshotPaths(prefix);
  const taken: string[] = [];
  return {
    taken,
    /** The path for a name (for screenshots taken by hand, e.g. on failure). */
    path: shot,
    async screenshot(page: Page, name: string, { fullPage = true } = {}) {
      const path = shot(name);
      if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path, fullPage });
      taken.push(path);
    },
  };
}

/** Sign in on the SPA's sign-in page (the form's labels). */
export async function signIn(page: Page, baseUrl: string, who: { email: string; password: string }) {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Type a test card into the emulator's hosted card form (Checkout, invoice page, portal). */
export async function fillCard(page: Page, card: string) {
  await page.getByLabel('Card number').fill(card);
  await page.getByLabel('Expiry').fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
}

/** Pay the emulator's hosted Checkout with a test card. */
export async function payWithCard(page: Page, card: string) {
  await fillCard(page, card);
  await page.getByRole('button', { name: 'Pay' }).click();
}
