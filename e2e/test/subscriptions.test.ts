/**
 * Issue 8 end to end, in headless Chromium against the built product (server + SPA in
 * production mode, the Stripe emulator), on SQLite and Postgres. The demo customer is put on a
 * Stripe test clock first (a Stripe customer created on the clock and set as the demo
 * customer's `stripe_customer_id`, so Checkout reuses it), then in the browser: subscribes to
 * Team with 3 seats paying 4242 on the hosted Checkout and sees it trialing with the trial end;
 * switches to Enterprise after seeing the proration preview and gets a license key shown once
 * (masked after a reload); cancels at period end in Stripe's portal and sees "Cancels on";
 * resumes it. The renewal is then made to fail (`pm_card_chargeCustomerFail` as the default
 * card, the clock advanced past the trial end), and the customer sees the past-due banner
 * with Stripe's retry date and "Update payment method"; replacing the card in the portal pays
 * the invoice and the banner goes. An admin sees the customer's subscription, invoices and
 * licenses. Every step is screenshotted (paths printed), with no CSP violation.
 */
import { createDatabase, eq } from '@tally/db';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../src/browser';
import { startStack, type Stack } from '../src/stack';
import { advanceTestClock, stripeFor } from '../src/stripe';
import { fillCard, screenshotRecorder, signIn, waitForText, watchCsp } from '../src/ui';

const { screenshot, taken: screenshots, path: shot } = screenshotRecorder('subscriptions');

/** How the SPA writes a day (lib/format.ts `formatDate`), in the browser's zone (UTC here). */
const day = (unixSeconds: number) => new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(unixSeconds * 1000));
const LICENSE_KEY = /^TLY(?:-[0-9A-HJKMNP-TV-Z]{4}){7}$/;

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.each(['sqlite', 'postgres'] as const)('subscriptions in the browser (%s)', (dialect) => {
  let stack: Stack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    stack = await startStack(dialect);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
    if (screenshots.length) console.log(`subscriptions screenshots (${dialect}):\n${screenshots.splice(0).join('\n')}`);
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC', locale: 'en-US' });
    contexts.push(context);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseUrl });
    const page = await context.newPage();
    const csp = await watchCsp(page);
    return { page, csp };
  }

  it('subscribe with a trial, change plan, licenses, cancel and resume in the portal, a failed renewal shows the past-due banner', async () => {
    const stripe = stripeFor(stack);
    const customerEmail = stack.demoSignIns.customer.email;

    // --- The demo plans are seeded into the emulator in the background after the start.
    const db = await createDatabase(stack.databaseUrl);
    let clockId: string;
    let stripeCustomerId: string;
    try {
      await until('the demo plans', async () => {
        const rows = await db.q.select({ code: db.t.plans.code }).from(db.t.plans);
        return ['solo', 'team', 'enterprise'].every((c) => rows.some((r) => r.code === c));
      });
      // --- A test clock and a Stripe customer on it; Checkout reuses the customer's Stripe customer.
      const clock = await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000), name: `e2e ${dialect}` });
      clockId = clock.id;
      const stripeCustomer = await stripe.customers.create({ email: customerEmail, name: 'Demo Customer Inc.', test_clock: clock.id });
      stripeCustomerId = stripeCustomer.id;
      const updated = await db.q
        .update(db.t.customers)
        .set({ stripeCustomerId })
        .where(eq(db.t.customers.email, customerEmail))
        .returning({ id: db.t.customers.id });
      expect(updated).toHaveLength(1);
    } finally {
      await db.close();
    }

    const customer = await newPage();
    const admin = await newPage();
    const c = customer.page;
    try {
      // --- Plans: subscribe to Team with 3 seats through the hosted Checkout, paying 4242.
      await signIn(c, stack.baseUrl, stack.demoSignIns.customer);
      await c.getByTestId('balance').waitFor();
      await c.getByRole('link', { name: 'Plans', exact: true }).click();
      await c.getByRole('heading', { name: 'Plans & subscription' }).waitFor();
      const team = c.getByTestId('plan-team');
      await waitForText(team.getByTestId('plan-price'), '$15.00 per seat / month');
      await waitForText(c.getByTestId('plan-enterprise').getByTestId('plan-price'), '$299.00 / month');
      await team.getByLabel('Seats').fill('3');
      await waitForText(team, '3 seats: $45.00 / month', { contains: true });
      await screenshot(c, `${dialect}-1-plans`);
      await team.getByRole('button', { name: 'Subscribe to Team' }).click();
      await c.waitForURL((url) => url.href.startsWith(stack.emulator.url), { timeout: 20_000 });
      await screenshot(c, `${dialect}-2-checkout`);
      await fillCard(c, '4242 4242 4242 4242');
      await c.getByRole('button', { name: 'Pay' }).click();
      await c.waitForURL(/\/subscription\?checkout=success&session_id=cs_/, { timeout: 20_000 });
      await waitForText(c.getByTestId('checkout-notice'), 'You are subscribed to Team', { contains: true });

      const [subscription] = (await stripe.subscriptions.list({ customer: stripeCustomerId, limit: 1 })).data;
      expect(subscription?.status).toBe('trialing');
      expect(subscription?.items.data[0]?.quantity).toBe(3);
      const trialEnd = subscription!.trial_end!;
      await waitForText(c.getByTestId('subscription-status'), 'trialing', { contains: true });
      await waitForText(c.getByTestId('subscription-trial-end'), day(trialEnd));
      await waitForText(c.getByTestId('subscription-seats'), '3');
      await waitForText(c.getByTestId('subscription-renewal'), `Renews on ${day(trialEnd)}`);
      await waitForText(c.getByTestId('checkout-notice'), `free trial runs until ${day(trialEnd)}`, { contains: true });
      await screenshot(c, `${dialect}-3-trialing`);

      // --- Change to Enterprise: the preview first, then confirm.
      await c.getByTestId('plan-enterprise').getByRole('button', { name: 'Switch to Enterprise' }).click();
      const change = c.getByRole('dialog', { name: 'Switch to Enterprise?' });
      await waitForText(change.getByTestId('preview-amount'), 'Next invoice', { contains: true });
      await waitForText(change.getByTestId('preview-amount'), '$299.00', { contains: true });
      await screenshot(c, `${dialect}-4-change-preview`, { fullPage: false });
      await change.getByRole('button', { name: 'Confirm change' }).click();
      await change.waitFor({ state: 'detached' });
      await waitForText(c.getByTestId('change-notice'), 'You are now on Enterprise', { contains: true });
      await waitForText(c.getByTestId('subscription-plan'), 'Enterprise');
      await stack.emulator.waitForIdle();
      await waitForText(c.getByTestId('plan-enterprise'), 'Current plan', { contains: true });
      await screenshot(c, `${dialect}-5-enterprise`);

      // --- Licenses: Enterprise issues one per seat; the key is shown once, then masked.
      await c.getByRole('link', { name: 'Licenses', exact: true }).click();
      const fullKey = c.getByTestId('license-full-key');
      await fullKey.waitFor({ timeout: 20_000 });
      const key = (await fullKey.textContent())!.trim();
      expect(key).toMatch(LICENSE_KEY);
      await waitForText(c.getByTestId('license-once-notice'), 'shown once: copy it now', { contains: true });
      await waitForText(c.getByTestId('license-row'), 'active', { contains: true });
      await c.getByTestId('license-row').getByRole('button', { name: 'Copy' }).click();
      expect(await c.evaluate(() => navigator.clipboard.readText())).toBe(key);
      await screenshot(c, `${dialect}-6-licenses-revealed`);
      await c.reload();
      await waitForText(c.getByTestId('license-masked-key'), key.slice(-4), { contains: true });
      expect(await c.getByTestId('license-full-key').count()).toBe(0);
      expect(await c.getByTestId('license-once-notice').count()).toBe(0);
      expect(await c.content()).not.toContain(key);
      await screenshot(c, `${dialect}-7-licenses-masked`);

      // --- Invoices: the trial's $0 invoice, paid.
      await c.getByRole('link', { name: 'Invoices', exact: true }).click();
      // Found by its line, not its place: the demo billing records can share its second (Stripe times are whole seconds).
      const trialInvoice = c.getByTestId('invoice-row').filter({ hasText: 'Trial period' });
      await waitForText(trialInvoice, 'paid', { contains: true });
      expect(await trialInvoice.textContent()).toContain('$0.00');
      await screenshot(c, `${dialect}-8-invoices-trial`);

      // --- Manage billing: cancel at period end in Stripe's portal, come back, see "Cancels on".
      await c.getByRole('link', { name: 'Plans', exact: true }).click();
      await c.getByRole('button', { name: 'Manage billing' }).click();
      await c.waitForURL((url) => url.href.startsWith(stack.emulator.url), { timeout: 20_000 });
      await c.getByRole('heading', { name: 'Manage your subscriptions' }).waitFor();
      await c.getByRole('button', { name: 'Cancel at period end' }).click();
      await c.getByRole('button', { name: 'Resume subscription' }).waitFor();
      await screenshot(c, `${dialect}-9-portal-cancelled`);
      await c.getByRole('link', { name: 'Return to the merchant' }).click();
      await c.waitForURL(`${stack.baseUrl}/subscription`);
      await waitForText(c.getByTestId('subscription-renewal'), `Cancels on ${day(trialEnd)}`);
      // No next invoice to change while the cancellation stands: resume first.
      await c.getByTestId('change-locked').waitFor();
      expect(await c.getByTestId('plan-team').getByRole('button', { name: 'Switch to Team' }).isDisabled()).toBe(true);
      await screenshot(c, `${dialect}-10-cancels-on`);

      // --- Resume it here, so the renewal happens.
      await c.getByRole('button', { name: 'Resume subscription' }).click();
      await waitForText(c.getByTestId('subscription-renewal'), `Renews on ${day(trialEnd)}`);
      await stack.emulator.waitForIdle();
      expect((await stripe.subscriptions.retrieve(subscription!.id)).cancel_at_period_end).toBe(false);
      // Tally's own Cancel asks first (at the period end); keep it.
      await c.getByRole('button', { name: 'Cancel subscription' }).click();
      const cancelDialog = c.getByRole('dialog', { name: 'Cancel your subscription?' });
      await waitForText(cancelDialog, `until the end of the current period, ${day(trialEnd)}`, { contains: true });
      await screenshot(c, `${dialect}-10b-cancel-dialog`, { fullPage: false });
      await cancelDialog.getByRole('button', { name: 'Keep subscription' }).click();
      await cancelDialog.waitFor({ state: 'detached' });

      // --- The renewal fails: a card that attaches but declines charges, the clock past the trial end.
      const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: stripeCustomerId });
      await stripe.customers.update(stripeCustomerId, { invoice_settings: { default_payment_method: failing.id } });
      await stripe.subscriptions.update(subscription!.id, { default_payment_method: failing.id });
      await advanceTestClock(stack, stripe, clockId, trialEnd + 2 * 3600 + 60);
      const pastDue = await stripe.subscriptions.retrieve(subscription!.id);
      expect(pastDue.status).toBe('past_due');
      const [openInvoice] = (await stripe.invoices.list({ customer: stripeCustomerId, status: 'open', limit: 1 })).data;
      expect(openInvoice?.next_payment_attempt).toBeTruthy();

      await c.reload();
      const banner = c.getByTestId('past-due-banner');
      await waitForText(banner, 'Your payment of $299.00 failed', { contains: true });
      await waitForText(banner, 'Stripe will retry on', { contains: true });
      await banner.getByRole('button', { name: 'Update payment method' }).waitFor();
      await waitForText(c.getByTestId('subscription-status'), 'past due', { contains: true });
      await screenshot(c, `${dialect}-11-past-due`);
      // The banner is on every customer page.
      await c.getByRole('link', { name: 'Invoices', exact: true }).click();
      await waitForText(c.getByTestId('past-due-banner'), 'failed', { contains: true });
      await waitForText(c.getByTestId('invoice-row').first(), 'open', { contains: true });
      await c.getByTestId('invoice-row').first().getByRole('link', { name: /^Pay / }).waitFor();
      await screenshot(c, `${dialect}-12-invoices-past-due`);

      // --- An admin sees it on the customer's page: the subscription, its invoices, masked licenses.
      const a = admin.page;
      await signIn(a, stack.baseUrl, stack.demoSignIns.admin);
      await a.waitForURL(/\/admin/);
      await a.getByRole('link', { name: 'Customers', exact: true }).click();
      await a.getByRole('link', { name: 'Demo Customer Inc.' }).first().click();
      const adminSub = a.getByTestId('admin-subscription');
      await waitForText(adminSub.getByTestId('subscription-plan'), 'Enterprise');
      await waitForText(adminSub.getByTestId('subscription-status'), 'past due', { contains: true });
      await waitForText(a.getByRole('region', { name: 'Licenses', exact: true }), key.slice(-4), { contains: true });
      expect(await a.content()).not.toContain(key);
      await waitForText(a.getByRole('region', { name: 'Invoices', exact: true }), 'open', { contains: true });
      await screenshot(a, `${dialect}-13-admin-customer`);

      // --- "Update payment method": a working card in the portal pays the invoice; the banner goes.
      await c.getByTestId('past-due-banner').getByRole('button', { name: 'Update payment method' }).click();
      await c.waitForURL((url) => url.href.startsWith(stack.emulator.url), { timeout: 20_000 });
      await fillCard(c, '4242 4242 4242 4242');
      await c.getByRole('button', { name: 'Update payment method' }).click();
      await until('the invoice paid', async () => (await stripe.invoices.retrieve(openInvoice!.id)).status === 'paid');
      await stack.emulator.waitForIdle();
      await c.getByRole('link', { name: 'Return to the merchant' }).click();
      await c.waitForURL(`${stack.baseUrl}/subscription`);
      await waitForText(c.getByTestId('subscription-status'), 'active', { contains: true });
      expect(await c.getByTestId('past-due-banner').count()).toBe(0);
      await screenshot(c, `${dialect}-14-paid-again`);

      for (const { page, csp } of [customer, admin]) {
        const own = (await csp.violations()).filter((v) => !v.startsWith(stack.emulator.url));
        expect(own, `CSP violations on ${page.url()}`).toEqual([]);
      }
    } catch (err) {
      for (const [name, { page }] of Object.entries({ customer, admin })) {
        await page.screenshot({ path: shot(`${dialect}-failure-${name}`), fullPage: true }).catch(() => undefined);
      }
      throw new Error(`${(err as Error).message}\n--- server log ---\n${stack.serverLog().slice(-20_000)}`, { cause: err });
    }
  });
});
