import type Stripe from 'stripe';
import type { CheckoutForm } from '../payments/checkout-form';
import { TEST_CARDS } from '../payments/test-cards';
import { formatAmount, html, page, type Html } from './html';

/**
 * Server-rendered billing pages, in the look of the hosted checkout page: the hosted invoice
 * page (`hosted_invoice_url`) and the Customer Portal (a portal session's `url`). Every
 * control has a visible label (for browser tests and screen readers); messages are in
 * `role="status"` (success) or `role="alert"` (problem) elements.
 */

type CardValues = Pick<CheckoutForm, 'cardNumber' | 'cardExpiry' | 'cardCvc'>;

const date = (unix: number) => new Date(unix * 1000).toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

/** The card inputs (same names, ids and labels as the checkout page). */
function cardFields(values: CardValues = {}, invalid?: keyof CardValues): Html {
  const input = (name: keyof CardValues, label: string, placeholder: string, autocomplete: string) =>
    html`<label for="${name}">${label}</label>
      <input id="${name}" name="${name}" type="text" inputmode="numeric" placeholder="${placeholder}" autocomplete="${autocomplete}"
        value="${values[name] ?? ''}" ${invalid === name ? html`aria-invalid="true" aria-describedby="form-error"` : ''} required>`;
  return html`${input('cardNumber', 'Card number', '1234 1234 1234 1234', 'cc-number')}
    <div class="row">
      <div>${input('cardExpiry', 'Expiry', 'MM / YY', 'cc-exp')}</div>
      <div>${input('cardCvc', 'CVC', 'CVC', 'cc-csc')}</div>
    </div>`;
}

const testCardsHelp = html`<details>
  <summary>Test cards</summary>
  <table><tbody>${TEST_CARDS.map((card) => html`<tr><td><code>${card.number.replace(/(\d{4})(?=\d)/g, '$1 ')}</code></td><td>${card.description}</td></tr>`)}</tbody></table>
  <p class="muted">Any future expiry and any CVC.</p>
</details>`;

function messages(notice: string | undefined, error: string | undefined): Html {
  return html`${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}${error ? html`<div id="form-error" class="alert" role="alert">${error}</div>` : ''}`;
}

/** What the hosted invoice page shows. */
export interface InvoicePageView {
  invoice: Stripe.Invoice;
  error?: { message: string; field?: keyof CardValues | undefined } | undefined;
  values?: CardValues | undefined;
}

const STATUS_TEXT: Record<string, string> = {
  paid: 'This invoice has been paid.',
  void: 'This invoice has been voided and cannot be paid.',
  draft: 'This invoice is a draft and cannot be paid yet.',
};

/** The hosted invoice page: lines, amount due, and a card form while the invoice can be paid. */
export function renderInvoicePage(view: InvoicePageView): string {
  const { invoice } = view;
  const payable = invoice.status === 'open' || invoice.status === 'uncollectible';
  const due = formatAmount(invoice.amount_remaining, invoice.currency);
  const rows = invoice.lines.data.map(
    (line) => html`<tr>
      <td>${line.description ?? 'Item'}<div class="muted">${date(line.period.start)}${line.period.end !== line.period.start ? html` – ${date(line.period.end)}` : ''}</div></td>
      <td class="num">${formatAmount(line.amount, line.currency)}</td>
    </tr>`,
  );
  const body = html`<div class="card columns">
    <section aria-labelledby="invoice-title">
      <h1 id="invoice-title">Invoice ${invoice.number ?? invoice.id}</h1>
      <p class="amount">${payable ? due : formatAmount(invoice.total, invoice.currency)}</p>
      <p class="muted">${payable ? (invoice.due_date ? `Due ${date(invoice.due_date)}` : 'Due now') : (STATUS_TEXT[String(invoice.status)] ?? `Status: ${String(invoice.status)}`)}</p>
      <table>
        <thead><tr><th scope="col">Description</th><th scope="col" class="num">Amount</th></tr></thead>
        <tbody>${rows}</tbody>
        <tfoot>
          <tr><td>Total</td><td class="num">${formatAmount(invoice.total, invoice.currency)}</td></tr>
          <tr><td>Amount paid</td><td class="num">${formatAmount(invoice.amount_paid, invoice.currency)}</td></tr>
          <tr><td>Amount due</td><td class="num">${due}</td></tr>
        </tfoot>
      </table>
    </section>
    <section aria-labelledby="pay-title">
      ${payable
        ? html`<h2 id="pay-title">Pay with card</h2>
            ${messages(undefined, view.error?.message)}
            <form method="post" action="/i/${invoice.id}" novalidate>
              ${cardFields(view.values, view.error?.field)}
              <button type="submit">Pay ${due}</button>
            </form>
            ${testCardsHelp}`
        : html`<h2 id="pay-title">${invoice.status === 'paid' ? 'Paid' : 'Not payable'}</h2><p role="status">${STATUS_TEXT[String(invoice.status)] ?? ''}</p>`}
    </section>
  </div>`;
  return page(`Invoice ${invoice.number ?? invoice.id}`, body);
}

/** The 3-D Secure challenge of an invoice payment. */
export function renderInvoiceAuthentication(invoice: Stripe.Invoice, intent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod | undefined): string {
  const body = html`<div class="card" style="max-width: 440px; margin: 0 auto">
    <h1>3-D Secure authentication</h1>
    <p>Your bank asks you to confirm the payment of <strong>${formatAmount(intent.amount, intent.currency)}</strong>
      ${paymentMethod?.card ? html`with the card ending in <strong>${paymentMethod.card.last4}</strong>` : ''}.</p>
    <p class="muted">This is a test challenge: choose how it ends.</p>
    <form method="post" action="/i/${invoice.id}/authenticate">
      <button type="submit" name="action" value="complete">Complete authentication</button>
      <button type="submit" name="action" value="fail" class="secondary">Fail authentication</button>
    </form>
  </div>`;
  return page('Authenticate payment', body);
}

/** What the portal page shows. */
export interface PortalView {
  session: Stripe.BillingPortal.Session;
  configuration: Stripe.BillingPortal.Configuration;
  customer: Stripe.Customer;
  subscriptions: readonly Stripe.Subscription[];
  /** Other recurring prices each subscription can switch to, by subscription id. */
  switchOptions: ReadonlyMap<string, readonly { price: Stripe.Price; label: string }[]>;
  productNames: ReadonlyMap<string, string>;
  paymentMethod: Stripe.PaymentMethod | null;
  openInvoices: readonly Stripe.Invoice[];
  notice?: string | undefined;
  error?: string | undefined;
  values?: CardValues | undefined;
}

const STATUS_LABEL: Record<string, string> = {
  active: 'Active',
  trialing: 'Trial',
  past_due: 'Past due',
  unpaid: 'Unpaid',
  incomplete: 'Incomplete',
  paused: 'Paused',
};

function subscriptionCard(view: PortalView, subscription: Stripe.Subscription): Html {
  const { session, configuration } = view;
  const item = subscription.items.data[0]!;
  const price = item.price;
  const name = view.productNames.get(String(price.product)) ?? price.id;
  const per = price.recurring ? `${price.recurring.interval_count > 1 ? `${price.recurring.interval_count} ` : ''}${price.recurring.interval}${price.recurring.interval_count > 1 ? 's' : ''}` : '';
  const action = (path: string) => `/p/session/${session.id}/subscriptions/${subscription.id}/${path}`;
  const cancel = configuration.features.subscription_cancel.enabled;
  const options = configuration.features.subscription_update.enabled ? (view.switchOptions.get(subscription.id) ?? []) : [];
  const headingId = `subscription-${subscription.id}`;
  return html`<section class="card" aria-labelledby="${headingId}" style="margin-bottom: 16px">
    <h2 id="${headingId}">${name}</h2>
    <p>${formatAmount((price.unit_amount ?? 0) * (item.quantity ?? 1), price.currency)} per ${per} · <span class="status">${STATUS_LABEL[subscription.status] ?? subscription.status}</span></p>
    <p class="muted">${subscription.status === 'trialing' && subscription.trial_end ? `Trial ends ${date(subscription.trial_end)}. ` : ''}${
      subscription.cancel_at_period_end || subscription.cancel_at
        ? `Cancels on ${date(subscription.cancel_at ?? item.current_period_end)}.`
        : `Renews on ${date(item.current_period_end)}.`
    }</p>
    <div class="actions">
      ${cancel && !subscription.cancel_at_period_end
        ? html`<form method="post" action="${action('cancel')}"><input type="hidden" name="when" value="period_end"><button type="submit" class="secondary">Cancel at period end</button></form>
          <form method="post" action="${action('cancel')}"><input type="hidden" name="when" value="now"><button type="submit" class="secondary">Cancel now</button></form>`
        : ''}
      ${subscription.cancel_at_period_end ? html`<form method="post" action="${action('resume')}"><button type="submit">Resume subscription</button></form>` : ''}
    </div>
    ${options.length > 0
      ? html`<form method="post" action="${action('switch')}">
          <label for="price-${subscription.id}">Switch plan</label>
          <select id="price-${subscription.id}" name="price">${options.map((option) => html`<option value="${option.price.id}">${option.label}</option>`)}</select>
          <button type="submit">Switch plan</button>
        </form>`
      : ''}
  </section>`;
}

/** The Customer Portal page of a session. */
export function renderPortal(view: PortalView): string {
  const { session, customer, paymentMethod } = view;
  const card = paymentMethod?.card;
  const body = html`<div>
    ${messages(view.notice, view.error)}
    <div class="card" style="margin-bottom: 16px">
      <h1>Manage your subscriptions</h1>
      <p class="muted">${customer.email ?? customer.name ?? customer.id}</p>
      ${session.return_url ? html`<p><a href="${session.return_url}">Return to the merchant</a></p>` : ''}
    </div>
    <h2>Subscriptions</h2>
    ${view.subscriptions.length > 0 ? view.subscriptions.map((subscription) => subscriptionCard(view, subscription)) : html`<p>You have no subscriptions.</p>`}
    ${view.openInvoices.length > 0
      ? html`<section class="card" aria-labelledby="invoices-title" style="margin-bottom: 16px">
          <h2 id="invoices-title">Outstanding invoices</h2>
          <ul>${view.openInvoices.map(
            (invoice) => html`<li>${invoice.number ?? invoice.id}: ${formatAmount(invoice.amount_remaining, invoice.currency)} due
              ${invoice.hosted_invoice_url ? html` · <a href="${invoice.hosted_invoice_url}">Pay invoice ${invoice.number ?? invoice.id}</a>` : ''}</li>`,
          )}</ul>
        </section>`
      : ''}
    ${view.configuration.features.payment_method_update.enabled
      ? html`<section class="card" aria-labelledby="pm-title">
          <h2 id="pm-title">Payment method</h2>
          <p>${card ? `Visa ending in ${card.last4}, expires ${String(card.exp_month).padStart(2, '0')}/${card.exp_year}` : 'No payment method on file.'}</p>
          <form method="post" action="/p/session/${session.id}/payment-method" novalidate>
            ${cardFields(view.values)}
            <button type="submit">Update payment method</button>
          </form>
          ${testCardsHelp}
        </section>`
      : ''}
  </div>`;
  return page('Customer portal', body);
}

/** The page for an unknown or expired portal session or invoice. */
export function renderNotFound(what: string, id: string): string {
  return page('Not found', html`<div class="card" style="max-width: 520px; margin: 0 auto"><h1>No such ${what}</h1><p><code>${id}</code> does not exist in this emulator or has expired.</p></div>`);
}
