import type Stripe from 'stripe';
import type { CheckoutForm, FormError } from '../payments/checkout-form';
import { TEST_CARDS } from '../payments/test-cards';
import { formatAmount, html, page, type Html } from './html';

/** What the checkout form shows. */
export interface CheckoutFormView {
  session: Stripe.Checkout.Session;
  lineItems: readonly Stripe.LineItem[];
  /** Whether to ask for an email (the session has no customer and no `customer_email`). */
  askEmail: boolean;
  /** The last attempt's problem, shown in a `role="alert"` element. */
  error?: Pick<FormError, 'field' | 'message'> | undefined;
  /** Values to keep in the inputs when re-rendering. */
  values?: CheckoutForm | undefined;
}

const total = (session: Stripe.Checkout.Session) => formatAmount(session.amount_total ?? 0, session.currency ?? 'usd');

function summary(session: Stripe.Checkout.Session, lineItems: readonly Stripe.LineItem[]): Html {
  const rows = lineItems.map(
    (item) => html`<tr>
      <td>${item.description ?? 'Item'}<div class="muted">Qty ${item.quantity ?? 1} × ${formatAmount(item.price?.unit_amount ?? 0, item.currency)}</div></td>
      <td class="num">${formatAmount(item.amount_total, item.currency)}</td>
    </tr>`,
  );
  return html`<section aria-labelledby="summary-title">
    <h1 id="summary-title">Pay</h1>
    <p class="amount">${total(session)}</p>
    <table>
      <thead><tr><th scope="col">Item</th><th scope="col" class="num">Amount</th></tr></thead>
      <tbody>${rows}</tbody>
      <tfoot><tr><td>Total due</td><td class="num">${total(session)}</td></tr></tfoot>
    </table>
  </section>`;
}

function field(
  view: CheckoutFormView,
  name: keyof CheckoutForm,
  label: string,
  attributes: { type?: string; placeholder?: string; autocomplete: string; inputmode?: string },
): Html {
  const invalid = view.error?.field === name;
  return html`<label for="${name}">${label}</label>
    <input id="${name}" name="${name}" type="${attributes.type ?? 'text'}" autocomplete="${attributes.autocomplete}"
      ${attributes.placeholder ? html`placeholder="${attributes.placeholder}"` : ''} ${attributes.inputmode ? html`inputmode="${attributes.inputmode}"` : ''}
      value="${view.values?.[name] ?? ''}" ${invalid ? html`aria-invalid="true" aria-describedby="form-error"` : ''} required>`;
}

const testCardsHelp = html`<details>
  <summary>Test cards</summary>
  <table>
    <tbody>
      ${TEST_CARDS.map((card) => html`<tr><td><code>${card.number.replace(/(\d{4})(?=\d)/g, '$1 ')}</code></td><td>${card.description}</td></tr>`)}
    </tbody>
  </table>
  <p class="muted">Any future expiry and any CVC. Any other number is refused.</p>
</details>`;

/** The hosted checkout page of an open session: summary, card form, and the last error if any. */
export function renderCheckoutForm(view: CheckoutFormView): string {
  const { session } = view;
  const emailField = view.askEmail
    ? field(view, 'email', 'Email', { type: 'email', autocomplete: 'email' })
    : html`<p class="muted">Paying as ${session.customer_email ?? 'an existing customer'}</p>`;
  const body = html`<div class="card columns">
    ${summary(session, view.lineItems)}
    <section aria-labelledby="payment-title">
      <h2 id="payment-title">Pay with card</h2>
      ${view.error ? html`<div id="form-error" class="alert" role="alert">${view.error.message}</div>` : ''}
      <form method="post" action="/c/pay/${session.id}" novalidate>
        ${emailField}
        ${field(view, 'cardNumber', 'Card number', { placeholder: '1234 1234 1234 1234', autocomplete: 'cc-number', inputmode: 'numeric' })}
        <div class="row">
          <div>${field(view, 'cardExpiry', 'Expiry', { placeholder: 'MM / YY', autocomplete: 'cc-exp', inputmode: 'numeric' })}</div>
          <div>${field(view, 'cardCvc', 'CVC', { placeholder: 'CVC', autocomplete: 'cc-csc', inputmode: 'numeric' })}</div>
        </div>
        <button type="submit">Pay</button>
      </form>
      ${session.cancel_url ? html`<p class="links"><a href="${session.cancel_url}">Cancel</a></p>` : ''}
      ${testCardsHelp}
    </section>
  </div>`;
  return page(`Pay ${total(session)}`, body);
}

/** The 3-D Secure challenge of a session's pending payment. */
export function renderAuthentication(session: Stripe.Checkout.Session, paymentMethod: Stripe.PaymentMethod | undefined): string {
  const body = html`<div class="card" style="max-width: 440px; margin: 0 auto">
    <h1>3-D Secure authentication</h1>
    <p>Your bank asks you to confirm the payment of <strong>${total(session)}</strong>
      ${paymentMethod?.card ? html`with the card ending in <strong>${paymentMethod.card.last4}</strong>` : ''}.</p>
    <p class="muted">This is a test challenge: choose how it ends.</p>
    <form method="post" action="/c/pay/${session.id}/authenticate">
      <button type="submit" name="action" value="complete">Complete authentication</button>
      <button type="submit" name="action" value="fail" class="secondary">Fail authentication</button>
    </form>
  </div>`;
  return page('Authenticate payment', body);
}

/** The page shown instead of the form once a session is complete or expired. */
export function renderClosedSession(session: Stripe.Checkout.Session): string {
  const complete = session.status === 'complete';
  const body = html`<div class="card" style="max-width: 520px; margin: 0 auto">
    <h1>${complete ? 'Payment complete' : 'This checkout session has expired'}</h1>
    <p>${complete ? `This checkout session has already been paid (${total(session)}).` : 'It can no longer be paid. Start a new checkout to pay.'}</p>
    ${complete && session.success_url ? html`<p class="links"><a href="${successUrl(session)}">Continue</a></p>` : ''}
    ${!complete && session.cancel_url ? html`<p class="links"><a href="${session.cancel_url}">Return to the merchant</a></p>` : ''}
  </div>`;
  return page(complete ? 'Payment complete' : 'Session expired', body);
}

/** The page for an unknown session id. */
export function renderUnknownSession(id: string): string {
  return page('Not found', html`<div class="card" style="max-width: 520px; margin: 0 auto"><h1>No such checkout session</h1><p><code>${id}</code> does not exist in this emulator.</p></div>`);
}

/** `success_url` with `{CHECKOUT_SESSION_ID}` replaced by the session id, as Stripe does. */
export function successUrl(session: Stripe.Checkout.Session): string {
  return (session.success_url ?? '').replaceAll('{CHECKOUT_SESSION_ID}', session.id);
}
