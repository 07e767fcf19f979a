/** Small helpers the browser tests share: screenshots per test file and text waits. */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator } from 'playwright-core';

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
