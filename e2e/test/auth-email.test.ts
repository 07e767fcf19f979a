/**
 * Email verification and password reset in headless Chromium against the built product
 * (server + SPA in production mode) with real mail: the server sends through nodemailer to
 * an in-process SMTP server (`../src/mailbox`), and the test opens the links it receives.
 * On SQLite and on Postgres.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../src/browser';
import { startMailbox, type Mailbox, type ReceivedEmail } from '../src/mailbox';
import { startStack, type Stack } from '../src/stack';
import { screenshotPaths, waitForText as waitFor } from '../src/ui';

const shot = screenshotPaths('auth');

/** Passwords zxcvbn rates strong (random unrelated words) and one it rates weak despite 16 characters. */
const FIRST_PASSWORD = 'quill-tundra-Harbor-violet-83';
const NEW_PASSWORD = 'marble-Orbit-kettle-sundew-27';
const WEAK_PASSWORD = 'passwordpassword';

/** Wait until the locator's text contains `text` (ignoring case). */
const waitForText = (locator: Locator, text: string) => waitFor(locator, text, { contains: true });

function linkTo(mail: ReceivedEmail, pathPrefix: string): string {
  const link = mail.links.find((l) => new URL(l).pathname.startsWith(pathPrefix));
  if (!link) throw new Error(`no ${pathPrefix} link in "${mail.subject}": ${mail.links.join(', ') || 'no links'}\n${mail.text}`);
  return link;
}

/** Submits the sign-in form; resolves to the HTTP status of better-auth's answer. */
async function submitSignIn(page: Page, baseUrl: string, email: string, password: string): Promise<number> {
  if (!page.url().includes('/sign-in')) await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const answered = page.waitForResponse((r) => r.url().includes('/api/auth/sign-in/email'));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  return (await answered).status();
}

async function session(page: Page, baseUrl: string): Promise<unknown> {
  const res = await page.context().request.get(`${baseUrl}/api/auth/get-session`);
  return res.json();
}

describe.each(['sqlite', 'postgres'] as const)('email verification and password reset in the browser (%s)', (dialect) => {
  let mailbox: Mailbox;
  let stack: Stack;
  let browser: Browser;
  beforeAll(async () => {
    mailbox = await startMailbox();
    stack = await startStack(dialect, { smtpUrl: mailbox.smtpUrl });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await mailbox?.close();
  });

  async function withPage(name: string, body: (page: Page) => Promise<void>) {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await body(page);
    } catch (err) {
      await page.screenshot({ path: shot(`${dialect}-${name}-failure`), fullPage: true }).catch(() => undefined);
      const mail = mailbox.messages().map((m) => `${m.to.join(',')}: ${m.subject}`);
      throw new Error(`${(err as Error).message}\n--- mail ---\n${mail.join('\n')}\n--- server log ---\n${stack.serverLog()}`, { cause: err });
    } finally {
      await context.close();
    }
  }

  it('a weak password at sign-up shows the policy and creates nothing', async () => {
    await withPage('weak', async (page) => {
      const email = `weak-${dialect}@example.com`;
      await page.goto(`${stack.baseUrl}/sign-up`);
      await waitForText(page.locator('#password-hint'), 'At least 12 characters, and not easy to guess');
      await page.getByLabel('Name').fill('Weak Password');
      await page.getByLabel('Email').fill(email);

      // Too short: refused in the page, nothing sent.
      await page.getByLabel('Password').fill('short-pass');
      await page.getByRole('button', { name: 'Create account' }).click();
      await waitForText(page.getByRole('alert'), 'at least 12 characters');

      // Long enough but easy to guess: the server's strength check answers 400 with its reason.
      await page.getByLabel('Password').fill(WEAK_PASSWORD);
      const answered = page.waitForResponse((r) => r.url().includes('/api/auth/sign-up/email'));
      await page.getByRole('button', { name: 'Create account' }).click();
      const response = await answered;
      expect(response.status()).toBe(400);
      const { message } = (await response.json()) as { message: string };
      expect(message.length).toBeGreaterThan(0);
      await waitForText(page.getByRole('alert'), message);
      await page.screenshot({ path: shot(`${dialect}-1-weak-password`) });
      expect(await page.getByRole('heading', { name: 'Check your email' }).count()).toBe(0);

      // No account was made: its password is unknown (401), where an unverified account would answer 403.
      expect(await submitSignIn(page, stack.baseUrl, email, WEAK_PASSWORD)).toBe(401);
      await waitForText(page.getByRole('alert'), 'Wrong email or password.');
    });
  });

  it('sign-up -> verification email -> its link signs in; forgot password -> reset email -> new password works, old fails', async () => {
    const email = `newcomer-${dialect}@example.com`;
    await withPage('flow', async (page) => {
      // Sign up: no session until the address is verified.
      await page.goto(`${stack.baseUrl}/sign-up`);
      await page.getByLabel('Name').fill('New Comer');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(FIRST_PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('heading', { name: 'Check your email' }).waitFor();
      await waitForText(page.locator('.auth-card'), email);
      await page.screenshot({ path: shot(`${dialect}-2-check-email`) });
      expect(await session(page, stack.baseUrl)).toBeNull();
      const first = await mailbox.waitFor(email);
      linkTo(first, '/api/auth/verify-email');

      // Signing in before verifying is refused; the server mails a fresh link (sendOnSignIn)
      // and the page offers another.
      expect(await submitSignIn(page, stack.baseUrl, email, FIRST_PASSWORD)).toBe(403);
      await waitForText(page.getByTestId('unverified'), 'Confirm your email first');
      await mailbox.waitFor(email, { nth: 2 });
      await page.getByRole('button', { name: 'Send a new link' }).click();
      await waitForText(page.getByTestId('unverified'), `We sent a new link to ${email}`);
      await page.screenshot({ path: shot(`${dialect}-3-unverified-resent`) });
      const resent = await mailbox.waitFor(email, { nth: 3 });
      expect(resent.subject).toBe(first.subject);
      expect(await session(page, stack.baseUrl)).toBeNull();

      // A broken verification link lands on sign-in with the reason.
      await page.goto(`${stack.baseUrl}/api/auth/verify-email?token=not-a-token&callbackURL=%2F`);
      await waitForText(page.getByTestId('link-error'), 'verification link is not valid');
      await page.screenshot({ path: shot(`${dialect}-4-bad-verify-link`) });

      // The emailed link verifies the address and signs in, on the balance page.
      await page.goto(linkTo(resent, '/api/auth/verify-email'));
      await page.waitForURL(`${stack.baseUrl}/`);
      await waitForText(page.getByTestId('balance'), '$0.00');
      await page.screenshot({ path: shot(`${dialect}-5-verified-balance`) });

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/sign-in/);

      // Forgot password: the same neutral answer, and the reset email.
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await page.waitForURL(/\/forgot-password$/);
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await waitForText(page.getByTestId('reset-requested'), `If an account exists for ${email}`);
      await page.screenshot({ path: shot(`${dialect}-6-reset-requested`) });
      const resetMail = await mailbox.waitFor(email, { nth: 4 });
      const resetLink = linkTo(resetMail, '/api/auth/reset-password/');

      await page.goto(resetLink);
      await page.waitForURL(/\/reset-password\?token=/);
      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
      await page.screenshot({ path: shot(`${dialect}-7-reset-form`) });
      await page.getByRole('button', { name: 'Set new password' }).click();
      await waitForText(page.getByTestId('reset-done'), 'Your new password is set');
      await page.screenshot({ path: shot(`${dialect}-8-reset-done`) });

      // The link works once.
      await page.goto(resetLink);
      await page.waitForURL(/\/reset-password\?error=INVALID_TOKEN/);
      await waitForText(page.getByTestId('reset-link-error'), 'not valid any more');

      // The old password fails; the new one signs in.
      await page.goto(`${stack.baseUrl}/sign-in`);
      expect(await submitSignIn(page, stack.baseUrl, email, FIRST_PASSWORD)).toBe(401);
      await waitForText(page.getByRole('alert'), 'Wrong email or password.');
      expect(await submitSignIn(page, stack.baseUrl, email, NEW_PASSWORD)).toBe(200);
      await page.waitForURL(`${stack.baseUrl}/`);
      await waitForText(page.getByTestId('balance'), '$0.00');
      await page.screenshot({ path: shot(`${dialect}-9-signed-in-new-password`) });
    });
  });
});
