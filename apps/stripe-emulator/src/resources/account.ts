import type Stripe from 'stripe';
import type { AccountInfo, EmulatorContext } from '../core/context';
import { StripeApiError } from '../http/errors';
import { parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { noParams } from './shared';

/**
 * The caller's own account (https://docs.stripe.com/api/accounts/retrieve): `GET /v1/account`
 * (what `stripe.accounts.retrieve()` without an id calls) and `GET /v1/accounts/{own id}`. Each
 * API key belongs to one account (`core/accounts.ts`); the object is a fully onboarded US
 * Standard account in test mode, shaped as Stripe's example (`fixtures3.json`).
 */

/** The context's account; contexts made by hand (unit tests) get a placeholder. */
const accountOf = (ctx: EmulatorContext): AccountInfo => ctx.account ?? { id: 'acct_1Emulator', created: 0, displayName: 'Tally emulator', email: 'emulator@stripe-emulator.test' };

const noRequirements = () => ({
  alternatives: [],
  current_deadline: null,
  currently_due: [],
  disabled_reason: null,
  errors: [],
  eventually_due: [],
  past_due: [],
  pending_verification: [],
});

/** The `account` object of the context's account. */
export function accountObject(ctx: EmulatorContext): Stripe.Account {
  const { id, created, displayName, email } = accountOf(ctx);
  const account: Stripe.Account = {
    id,
    object: 'account',
    business_profile: {
      annual_revenue: null,
      estimated_worker_count: null,
      mcc: null,
      minority_owned_business_designation: null,
      name: displayName,
      product_description: null,
      specified_commercial_transactions_act_url: null,
      support_address: null,
      support_email: null,
      support_phone: null,
      support_url: null,
      url: null,
    },
    business_type: null,
    capabilities: { card_payments: 'active', transfers: 'active' },
    charges_enabled: true,
    controller: { type: 'account' },
    country: 'US',
    created,
    default_currency: 'usd',
    details_submitted: true,
    email,
    external_accounts: { object: 'list', data: [], has_more: false, url: `/v1/accounts/${id}/external_accounts` },
    future_requirements: noRequirements(),
    metadata: {},
    payouts_enabled: true,
    requirements: noRequirements(),
    settings: {
      bacs_debit_payments: { display_name: null, service_user_number: null },
      branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
      card_issuing: { tos_acceptance: { date: null, ip: null } },
      card_payments: {
        decline_on: { avs_failure: true, cvc_failure: true },
        statement_descriptor_prefix: null,
        statement_descriptor_prefix_kana: null,
        statement_descriptor_prefix_kanji: null,
      },
      dashboard: { display_name: displayName, timezone: 'Etc/UTC' },
      invoices: { default_account_tax_ids: null, hosted_payment_method_save: null },
      payments: {
        statement_descriptor: null,
        statement_descriptor_kana: null,
        statement_descriptor_kanji: null,
        statement_descriptor_prefix_kana: null,
        statement_descriptor_prefix_kanji: null,
      },
      payouts: { debit_negative_balances: true, schedule: { delay_days: 2, interval: 'daily' }, statement_descriptor: null },
      sepa_debit_payments: {},
    },
    tos_acceptance: { date: created, ip: null, user_agent: null },
    type: 'standard',
  };
  return account;
}

/** GET /v1/account — the caller's account. */
const retrieveOwn: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return accountObject(ctx);
};

/**
 * GET /v1/accounts/:id — the caller's own account by id. Another id (a Connect account, which
 * the emulator has none of) is Stripe's 403: "The provided key '…' does not have access to
 * account '…' (or that account does not exist)" (the SDK throws `StripePermissionError`).
 */
const retrieve: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const id = req.path.id ?? '';
  if (id === accountOf(ctx).id) return accountObject(ctx);
  throw new StripeApiError(403, {
    type: 'invalid_request_error',
    code: 'account_invalid',
    message: `The provided key '${req.maskedKey ?? 'sk_test_****'}' does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`,
  });
};

/** The caller's account. */
export const account: ResourceModule = {
  routes: [
    { method: 'get', path: '/v1/account', returns: 'account', handler: retrieveOwn },
    { method: 'get', path: '/v1/accounts/:id', returns: 'account', handler: retrieve },
  ],
};
