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
