/**
 * Issue 7 end to end, in headless Chromium against the built product (server + SPA in
 * production mode, the Stripe emulator with one account per key), on SQLite and Postgres:
 * an admin connects the workspace's own Stripe account in Settings -> Stripe (pastes emulator
 * keys, registers the webhook endpoint), creates a customer and three billing records; the
 * customer's member pays the first with 4242 on the emulator's hosted Checkout and both see
 * PAID; the admin marks the second paid by bank transfer; the third's pay link, opened signed
 * out, pays it. Then an admin of two workspaces switches between them. Every page is
 * screenshotted (paths printed), and none reports a CSP violation.
 */
import { createWorkspace } from '@tally/api';
import { createDatabase } from '@tally/db';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../src/browser';
import { startStack, type Stack } from '../src/stack';
import { payWithCard, screenshotRecorder, signIn, waitForText, watchCsp } from '../src/ui';

const { screenshot, taken: screenshots, path: shot } = screenshotRecorder('billing-records');

/** The workspace's own Stripe account on the emulator: any sk_test_ key of 12+ characters is one. */
const WORKSPACE_KEY = 'sk_test_e2e_workspace_key_1';
const PASTED_WEBHOOK_SECRET = 'whsec_e2e_pasted_secret_0123456789';
const CUSTOMER_NAME = 'Northwind Traders';

/** The table row of the billing record described `description`. */
const recordRow = (page: Page, description: string): Locator => page.getByTestId('billing-record').filter({ hasText: description });

async function createRecord(page: Page, record: { description: string; amount: string; dueDate: string }) {
  await page.getByLabel('Customer').selectOption({ label: `${CUSTOMER_NAME} (northwind@e2e.test)` });
  await page.getByLabel('Description').fill(record.description);
  await page.getByLabel('Amount').fill(record.amount);
  await page.getByLabel('Due date').fill(record.dueDate);
  await page.getByRole('button', { name: 'Create record' }).click();
  await waitForText(page.getByRole('status').filter({ hasText: 'Billing record created' }), record.description, { contains: true });
  await waitForText(recordRow(page, record.description), 'Due', { contains: true });
}

describe.each(['sqlite', 'postgres'] as const)('billing records in the browser (%s)', (dialect) => {
  let stack: Stack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    stack = await startStack(dialect, { accountPerKey: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
    if (screenshots.length) console.log(`billing-records screenshots (${dialect}):\n${screenshots.splice(0).join('\n')}`);
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    contexts.push(context);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseUrl });
    const page = await context.newPage();
    const csp = await watchCsp(page);
    return { page, csp };
  }

  it('admin connects Stripe, bills a customer; the customer pays with 4242, a bank transfer is marked, a pay link pays signed out', async () => {
    const admin = await newPage();
    const customer = await newPage();
    const stranger = await newPage();
    const a = admin.page;
    const accountId = stack.emulator.accountIdForKey(WORKSPACE_KEY);
    try {
      // --- Settings -> Stripe: paste the workspace's keys, register the webhook endpoint.
      await signIn(a, stack.baseUrl, stack.demoSignIns.admin);
      await a.waitForURL(/\/admin/);
      await a.getByRole('link', { name: 'Settings', exact: true }).click();
      await a.getByRole('heading', { name: 'Settings · Stripe' }).waitFor();
      await waitForText(a.getByTestId('stripe-status'), 'None saved', { contains: true });
      const webhookUrl = (await a.getByTestId('webhook-url').textContent())!.trim();
      expect(webhookUrl).toMatch(new RegExp(`^${stack.baseUrl}/api/stripe/webhook/[0-9a-f-]{36}$`));
      await waitForText(a.getByTestId('listen-command'), `stripe listen --forward-to ${webhookUrl}`, { contains: true });
      await a.getByLabel('Secret or restricted key').fill(WORKSPACE_KEY);
      await a.getByLabel('Webhook signing secret (optional)').fill(PASTED_WEBHOOK_SECRET);
      await a.getByRole('button', { name: 'Save keys' }).click();
      await waitForText(a.getByTestId('stripe-saved'), 'Saved and verified with Stripe', { contains: true });
      // The pasted values leave the form, and the page shows only their last 4 characters.
      expect(await a.getByLabel('Secret or restricted key').inputValue()).toBe('');
      expect(await a.getByLabel('Webhook signing secret (optional)').inputValue()).toBe('');
      await waitForText(a.getByTestId('stripe-status'), `…${WORKSPACE_KEY.slice(-4)}`, { contains: true });
      await waitForText(a.getByTestId('stripe-status'), accountId, { contains: true });
      await a.getByRole('button', { name: 'Register webhook endpoint' }).click();
      await waitForText(a.getByTestId('webhook-registered'), 'registered; its signing secret is stored', { contains: true });
      const registered = (await a.getByTestId('webhook-registered').locator('code').textContent())!.trim();
      expect(registered).toMatch(/^we_/);
      expect(await a.content()).not.toContain(WORKSPACE_KEY);
      await screenshot(a, `${dialect}-1-settings-stripe`);

      // --- Customers: create one, invite the demo customer's user as its member.
      await a.getByRole('link', { name: 'Customers', exact: true }).click();
      await a.getByLabel('Name', { exact: true }).fill(CUSTOMER_NAME);
      await a.getByLabel('Billing email (optional)').fill('northwind@e2e.test');
      await a.getByRole('button', { name: 'Create customer' }).click();
      await a.getByRole('heading', { name: CUSTOMER_NAME }).waitFor();
      const customerUrl = a.url();
      await a.getByLabel('Invite by email').fill(stack.demoSignIns.customer.email);
      await a.getByRole('button', { name: 'Invite member' }).click();
      await waitForText(a.getByRole('status').filter({ hasText: stack.demoSignIns.customer.email }), 'member', { contains: true });

      // --- Billing records: $1,200.00 to pay with a card, one for a bank transfer, one for the pay link.
      await a.getByRole('link', { name: 'New billing record' }).click();
      await a.waitForURL(/\/admin\/billing-records\?customerId=/);
      await createRecord(a, { description: 'March retainer', amount: '1200.00', dueDate: '2030-04-01' });
      await createRecord(a, { description: 'April retainer', amount: '1200', dueDate: '2030-05-01' });
      await createRecord(a, { description: 'Setup fee', amount: '350.50', dueDate: '2024-01-15' });
      await waitForText(recordRow(a, 'March retainer'), '$1,200.00', { contains: true });
      await waitForText(recordRow(a, 'Setup fee'), 'Overdue', { contains: true });
      await screenshot(a, `${dialect}-2-admin-billing-records`);

      // --- The customer's member pays the $1,200.00 record with 4242 on the hosted Checkout.
      const c = customer.page;
      await signIn(c, stack.baseUrl, stack.demoSignIns.customer);
      await c.getByTestId('balance').waitFor();
      await c.getByRole('link', { name: 'Billing', exact: true }).click();
      await waitForText(recordRow(c, 'March retainer'), '$1,200.00', { contains: true });
      await screenshot(c, `${dialect}-3-customer-billing-due`);
      await recordRow(c, 'March retainer').getByRole('button', { name: 'Pay' }).click();
      await c.waitForURL((url) => url.href.startsWith(stack.emulator.url), { timeout: 20_000 });
      await waitForText(c.locator('body'), '$1,200.00', { contains: true });
      await screenshot(c, `${dialect}-4-checkout`);
      await payWithCard(c, '4242 4242 4242 4242');
      await c.waitForURL(/\/billing\?paid=[0-9a-f-]{36}$/, { timeout: 20_000 });
      await waitForText(c.getByTestId('payment-notice'), 'Payment received', { contains: true });
      await waitForText(recordRow(c, 'March retainer'), 'Paid', { contains: true });
      await waitForText(c.getByTestId('payment-notice'), 'is now PAID', { contains: true });
      await screenshot(c, `${dialect}-5-customer-billing-paid`);

      // The admin sees it PAID (the list refreshes by itself), paid with Stripe.
      await waitForText(recordRow(a, 'March retainer'), 'Paid with Stripe', { contains: true, timeout: 30_000 });

      // --- The admin marks the second record paid by bank transfer.
      await recordRow(a, 'April retainer').getByRole('button', { name: 'Mark paid' }).click();
      const markPaid = a.getByRole('dialog', { name: 'Mark as paid' });
      await markPaid.getByLabel('Payment method').selectOption('bank_transfer');
      await markPaid.getByLabel('Reference (optional)').fill('BT-2030-0412');
      // Prefilled with today (a payment date may not be in the future).
      expect(await markPaid.getByLabel('Paid on').inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      await screenshot(a, `${dialect}-6-mark-paid-dialog`, { fullPage: false });
      await markPaid.getByRole('button', { name: 'Mark paid' }).click();
      await markPaid.waitFor({ state: 'detached' });
      await waitForText(recordRow(a, 'April retainer'), 'Paid by bank transfer', { contains: true });
      await waitForText(recordRow(a, 'April retainer'), 'ref BT-2030-0412', { contains: true });

      // --- The third record's pay link, opened signed out in another browser context, pays it.
      await recordRow(a, 'Setup fee').getByRole('button', { name: 'Pay link' }).click();
      const linkDialog = a.getByRole('dialog', { name: 'Pay link' });
      const payLink = (await linkDialog.getByTestId('pay-link').textContent())!.trim();
      expect(payLink).toMatch(new RegExp(`^${stack.baseUrl}/pay/[A-Za-z0-9_-]{43}$`));
      await linkDialog.getByRole('button', { name: 'Copy link' }).click();
      await waitForText(linkDialog.getByRole('button', { name: /^Copied|^Copy/ }), 'Copied');
      expect(await a.evaluate(() => navigator.clipboard.readText())).toBe(payLink);
      await screenshot(a, `${dialect}-7-pay-link-dialog`, { fullPage: false });
      await linkDialog.getByRole('button', { name: 'Done' }).click();

      const s = stranger.page;
      await s.goto(payLink);
      await waitForText(s.getByTestId('pay-amount'), '$350.50');
      await waitForText(s.getByTestId('pay-status'), 'Overdue', { contains: true });
      await screenshot(s, `${dialect}-8-pay-link`);
      await s.getByRole('button', { name: 'Pay $350.50' }).click();
      await s.waitForURL((url) => url.href.startsWith(stack.emulator.url), { timeout: 20_000 });
      await payWithCard(s, '4242 4242 4242 4242');
      await s.waitForURL(/\/pay\/[A-Za-z0-9_-]{43}\?paid=1$/, { timeout: 20_000 });
      await waitForText(s.getByTestId('pay-status'), 'Paid', { contains: true });
      await waitForText(s.getByRole('status').filter({ hasText: 'Payment received' }), 'thank you', { contains: true });
      await screenshot(s, `${dialect}-9-pay-link-paid`);
      await waitForText(recordRow(a, 'Setup fee'), 'Paid with Stripe', { contains: true, timeout: 30_000 });
      await screenshot(a, `${dialect}-10-admin-billing-records-paid`);

      // --- The customer's page: its records, members, ledger; the audit log of all of it.
      await a.goto(customerUrl);
      await waitForText(recordRow(a, 'March retainer'), 'Paid', { contains: true });
      await waitForText(a.getByRole('region', { name: 'Members' }), stack.demoSignIns.customer.email, { contains: true });
      await screenshot(a, `${dialect}-11-admin-customer`);
      await a.getByRole('link', { name: 'Customers', exact: true }).click();
      await waitForText(a.getByRole('table'), CUSTOMER_NAME, { contains: true });
      await screenshot(a, `${dialect}-12-admin-customers`);
      await a.getByRole('link', { name: 'Audit', exact: true }).click();
      const audit = a.getByRole('table');
      for (const action of ['stripe_settings.save', 'stripe_settings.register_webhook_endpoint', 'customer.create', 'billing_record.create', 'billing_record.mark_paid']) {
        await waitForText(audit, action, { contains: true });
      }
      expect(await a.content()).not.toContain(WORKSPACE_KEY);
      expect(await a.content()).not.toContain(PASTED_WEBHOOK_SECRET);
      await screenshot(a, `${dialect}-13-admin-audit`);

      // --- Settings shows the last signed event; the events went to the workspace's own URL.
      await a.getByRole('link', { name: 'Settings', exact: true }).click();
      await waitForText(a.getByTestId('stripe-last-event'), '20', { contains: true });

      for (const { page, csp } of [admin, customer, stranger]) {
        const own = (await csp.violations()).filter((v) => !v.startsWith(stack.emulator.url));
        expect(own, `CSP violations on ${page.url()}`).toEqual([]);
      }
    } catch (err) {
      for (const [name, { page }] of Object.entries({ admin, customer, stranger })) {
        await page.screenshot({ path: shot(`${dialect}-failure-${name}`), fullPage: true }).catch(() => undefined);
      }
      throw new Error(`${(err as Error).message}\n--- server log ---\n${stack.serverLog()}`, { cause: err });
    }

    const deliveries = stack.emulator.deliveries(accountId);
    const completed = deliveries.filter((d) => d.eventType === 'checkout.session.completed' && d.ok);
    expect(completed.length).toBeGreaterThanOrEqual(2);
    expect(completed.every((d) => d.endpointUrl.startsWith(`${stack.baseUrl}/api/stripe/webhook/`) && d.endpointId?.startsWith('we_'))).toBe(true);
    // Keys and secrets never reach a log line.
    expect(stack.serverLog()).not.toContain(WORKSPACE_KEY);
    expect(stack.serverLog()).not.toContain(PASTED_WEBHOOK_SECRET);
  });

  it('an admin of two workspaces switches between them; a stale selection is forgotten', async () => {
    // What `pnpm tally workspace create --name "Acme Ops" --admin-email <demo admin>` does.
    const db = await createDatabase(stack.databaseUrl);
    let acme: Awaited<ReturnType<typeof createWorkspace>>;
    try {
      acme = await createWorkspace({ db, name: 'Acme Ops', adminEmail: stack.demoSignIns.admin.email, actor: 'cli' });
    } finally {
      await db.close();
    }
    expect(acme.admin.status).toBe('member');

    const { page: a, csp } = await newPage();
    try {
      await signIn(a, stack.baseUrl, stack.demoSignIns.admin);
      await a.waitForURL(/\/admin/);
      const switcher = a.getByLabel('Workspace', { exact: true });
      await waitForText(switcher.locator('option:checked'), 'Demo workspace');
      await a.getByRole('link', { name: 'Customers', exact: true }).click();
      await waitForText(a.getByRole('table'), 'Demo Customer Inc.', { contains: true });

      await switcher.selectOption({ label: 'Acme Ops' });
      await waitForText(a.getByRole('region', { name: 'All customers' }), 'No customers yet', { contains: true });
      expect(await a.evaluate(() => localStorage.getItem('tally.workspaceId'))).toBe(acme.workspaceId);
      await screenshot(a, `${dialect}-14-switcher-acme-customers`);
      await a.getByRole('link', { name: 'Settings', exact: true }).click();
      await waitForText(a.getByTestId('webhook-url'), `/api/stripe/webhook/${acme.workspaceId}`, { contains: true });
      await waitForText(a.getByTestId('stripe-status'), 'None saved', { contains: true });
      await screenshot(a, `${dialect}-15-switcher-acme-settings`);

      // The choice survives a reload; switching back shows the first workspace's data again.
      await a.reload();
      await waitForText(a.getByLabel('Workspace', { exact: true }).locator('option:checked'), 'Acme Ops');
      await a.getByLabel('Workspace', { exact: true }).selectOption({ label: 'Demo workspace' });
      await waitForText(a.getByTestId('stripe-status'), `…${WORKSPACE_KEY.slice(-4)}`, { contains: true });

      // A selection this admin does not administer (another user's, or a role lost) is dropped.
      await a.evaluate(() => localStorage.setItem('tally.workspaceId', '01900000-0000-7000-8000-000000000000'));
      await a.goto(`${stack.baseUrl}/admin/customers`);
      await waitForText(a.getByRole('table'), 'Demo Customer Inc.', { contains: true });
      expect(await a.evaluate(() => localStorage.getItem('tally.workspaceId'))).toBeNull();
      expect((await csp.violations()).filter((v) => !v.startsWith(stack.emulator.url))).toEqual([]);
    } catch (err) {
      await a.screenshot({ path: shot(`${dialect}-failure-switcher`), fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n--- server log ---\n${stack.serverLog()}`, { cause: err });
    }
  });
});

describe('Settings -> Stripe without TALLY_SECRET_ENCRYPTION_KEY (sqlite)', () => {
  let stack: Stack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startStack('sqlite', { secretEncryptionKey: null });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('says the key is not set and disables the form', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    try {
      await signIn(page, stack.baseUrl, stack.demoSignIns.admin);
      await page.waitForURL(/\/admin/);
      await page.getByRole('link', { name: 'Settings', exact: true }).click();
      await waitForText(page.getByTestId('encryption-unavailable'), 'TALLY_SECRET_ENCRYPTION_KEY isn’t set', { contains: true });
      expect(await page.getByLabel('Secret or restricted key').isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Save keys' }).isDisabled()).toBe(true);
      const path = shot('sqlite-16-settings-no-encryption-key');
      await page.screenshot({ path, fullPage: true });
      console.log(`billing-records screenshot (no encryption key):\n${path}`);
    } catch (err) {
      await page.screenshot({ path: shot('sqlite-failure-no-encryption-key'), fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n--- server log ---\n${stack.serverLog()}`, { cause: err });
    } finally {
      await context.close();
    }
  });
});
