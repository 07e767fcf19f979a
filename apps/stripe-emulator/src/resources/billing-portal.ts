import type Stripe from 'stripe';
import { billingId } from '../billing/ids';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { invalidRequest, resourceMissing } from '../http/errors';
import { paginate } from '../http/lists';
import { listParams, p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { requireCustomer } from './customers';
import { requireSubscription } from './subscriptions';
import { mergeMetadata, noParams } from './shared';

/**
 * The Customer Portal API (https://docs.stripe.com/api/customer_portal): configurations and
 * sessions. A session's `url` serves the emulator's portal page (`pages/portal-routes.ts`).
 * Sessions cannot be retrieved or listed, as with Stripe.
 */

const cancellationOptions = ['customer_service', 'low_quality', 'missing_features', 'other', 'switched_service', 'too_complex', 'too_expensive', 'unused'] as const;

const featuresParam = p.object({
  customer_update: p.object({ enabled: p.boolean(), allowed_updates: p.array(p.oneOf(['address', 'email', 'name', 'phone', 'shipping', 'tax_id'])).optional() }).optional(),
  invoice_history: p.object({ enabled: p.boolean() }).optional(),
  payment_method_update: p.object({ enabled: p.boolean() }).optional(),
  subscription_cancel: p
    .object({
      enabled: p.boolean(),
      mode: p.oneOf(['at_period_end', 'immediately']).optional(),
      proration_behavior: p.oneOf(['always_invoice', 'create_prorations', 'none']).optional(),
      cancellation_reason: p.object({ enabled: p.boolean(), options: p.array(p.oneOf(cancellationOptions)) }).optional(),
    })
    .optional(),
  subscription_update: p
    .object({
      enabled: p.boolean(),
      default_allowed_updates: p.array(p.oneOf(['price', 'promotion_code', 'quantity'])).optional(),
      proration_behavior: p.oneOf(['always_invoice', 'create_prorations', 'none']).optional(),
      products: p.array(p.object({ product: p.string(), prices: p.array(p.string()) })).optional(),
    })
    .optional(),
  subscription_pause: p.object({ enabled: p.boolean() }).optional(),
});

const businessProfileParam = p.object({
  headline: p.nullableString(60).optional(),
  privacy_policy_url: p.url().optional(),
  terms_of_service_url: p.url().optional(),
});

const configurationCreateParams = p.object({
  features: featuresParam,
  business_profile: businessProfileParam.optional(),
  default_return_url: p.url().optional(),
  metadata: p.metadata().optional(),
  name: p.nullableString(256).optional(),
});

const configurationUpdateParams = p.object({
  features: featuresParam.optional(),
  business_profile: businessProfileParam.optional(),
  default_return_url: p.url().optional(),
  metadata: p.metadata().optional(),
  name: p.nullableString(256).optional(),
  active: p.boolean().optional(),
});

const configurationListQuery = p.object({ ...listParams, active: p.boolean().optional(), is_default: p.boolean().optional() });

const sessionCreateParams = p.object({
  customer: p.string(),
  return_url: p.url().optional(),
  configuration: p.string().optional(),
  locale: p.string(10).optional(),
  on_behalf_of: p.string().optional(),
  flow_data: p
    .object({
      type: p.oneOf(['payment_method_update', 'subscription_cancel', 'subscription_update', 'subscription_update_confirm']),
      after_completion: p
        .object({
          type: p.oneOf(['hosted_confirmation', 'portal_homepage', 'redirect']),
          redirect: p.object({ return_url: p.url() }).optional(),
          hosted_confirmation: p.object({ custom_message: p.string(500).optional() }).optional(),
        })
        .optional(),
      subscription_cancel: p.object({ subscription: p.string() }).optional(),
      subscription_update: p.object({ subscription: p.string() }).optional(),
      subscription_update_confirm: p
        .object({ subscription: p.string(), items: p.array(p.object({ id: p.string(), price: p.string().optional(), quantity: p.integer({ min: 0 }).optional() })) })
        .optional(),
    })
    .optional(),
});

type FeaturesInput = NonNullable<ReturnType<typeof featuresParam.parse>>;

/** How long a portal session's URL works: Stripe's are short-lived; the emulator keeps them for a day. */
const SESSION_LIFETIME = 24 * 3600;

/** Features of a configuration from `features` parameters over `base` (Stripe's defaults for unset ones). */
function buildFeatures(input: Partial<FeaturesInput>, base?: Stripe.BillingPortal.Configuration.Features): Stripe.BillingPortal.Configuration.Features {
  const cancel = input.subscription_cancel;
  const update = input.subscription_update;
  return {
    customer_update: input.customer_update
      ? { enabled: input.customer_update.enabled, allowed_updates: input.customer_update.allowed_updates ?? [] }
      : (base?.customer_update ?? { enabled: false, allowed_updates: [] }),
    invoice_history: input.invoice_history ?? base?.invoice_history ?? { enabled: false },
    payment_method_update: input.payment_method_update
      ? { enabled: input.payment_method_update.enabled, payment_method_configuration: null }
      : (base?.payment_method_update ?? { enabled: false, payment_method_configuration: null }),
    subscription_cancel: cancel
      ? {
          enabled: cancel.enabled,
          mode: cancel.mode ?? 'at_period_end',
          proration_behavior: cancel.proration_behavior ?? 'none',
          cancellation_reason: { enabled: cancel.cancellation_reason?.enabled ?? false, feedback_options: null, options: cancel.cancellation_reason?.options ?? [] },
        }
      : (base?.subscription_cancel ?? {
          enabled: false,
          mode: 'at_period_end',
          proration_behavior: 'none',
          cancellation_reason: { enabled: false, feedback_options: null, options: [] },
        }),
    subscription_pause: input.subscription_pause
      ? { enabled: input.subscription_pause.enabled, duration: { interval_options: [], type: 'indefinite' } }
      : (base?.subscription_pause ?? { enabled: false, duration: { interval_options: [], type: 'indefinite' } }),
    subscription_update: update
      ? {
          enabled: update.enabled,
          billing_cycle_anchor: null,
          default_allowed_updates: update.default_allowed_updates ?? [],
          products: (update.products ?? []).map((product) => ({ product: product.product, prices: product.prices, adjustable_quantity: { enabled: false, maximum: null, minimum: 1 } })),
          proration_behavior: update.proration_behavior ?? 'none',
          schedule_at_period_end: { conditions: [] },
          trial_update_behavior: 'end_trial',
        }
      : (base?.subscription_update ?? {
          enabled: false,
          billing_cycle_anchor: null,
          default_allowed_updates: [],
          products: [],
          proration_behavior: 'none',
          schedule_at_period_end: { conditions: [] },
          trial_update_behavior: 'end_trial',
        }),
  };
}

function buildConfiguration(input: {
  features: Partial<FeaturesInput>;
  businessProfile?: { headline?: string | null | undefined; privacy_policy_url?: string | undefined; terms_of_service_url?: string | undefined } | undefined;
  defaultReturnUrl?: string | undefined;
  metadata?: Stripe.Metadata;
  name?: string | null | undefined;
  isDefault: boolean;
}): Stripe.BillingPortal.Configuration {
  const created = nowSeconds();
  return {
    id: billingId('bpc'),
    object: 'billing_portal.configuration',
    active: true,
    application: null,
    business_profile: {
      headline: input.businessProfile?.headline ?? null,
      privacy_policy_url: input.businessProfile?.privacy_policy_url ?? null,
      terms_of_service_url: input.businessProfile?.terms_of_service_url ?? null,
    },
    created,
    default_return_url: input.defaultReturnUrl ?? null,
    features: buildFeatures(input.features),
    is_default: input.isDefault,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata: input.metadata ?? {},
    name: input.name ?? null,
    updated: created,
  };
}

/**
 * The account's default configuration, made on first use with every feature the emulator's
 * portal has switched on (cancel, plan switch among the product's prices, card update, invoice
 * history), as a test-mode account's portal settings might be.
 */
export function defaultConfiguration(ctx: EmulatorContext): Stripe.BillingPortal.Configuration {
  const existing = ctx.store.billingPortalConfigurations.all().find((configuration) => configuration.is_default);
  if (existing) return existing;
  return ctx.store.billingPortalConfigurations.put(
    buildConfiguration({
      isDefault: true,
      features: {
        customer_update: { enabled: true, allowed_updates: ['email', 'name'] },
        invoice_history: { enabled: true },
        payment_method_update: { enabled: true },
        subscription_cancel: { enabled: true, mode: 'at_period_end', proration_behavior: 'none' },
        subscription_update: { enabled: true, default_allowed_updates: ['price'], proration_behavior: 'create_prorations' },
      },
    }),
  );
}

function requireConfiguration(ctx: EmulatorContext, id: string, param = 'id'): Stripe.BillingPortal.Configuration {
  const configuration = ctx.store.billingPortalConfigurations.get(id);
  if (!configuration) throw resourceMissing('billing_portal.configuration', id, param);
  return configuration;
}

/** POST /v1/billing_portal/configurations — publishes `billing_portal.configuration.created`. */
const createConfiguration: ApiHandler = (req, ctx) => {
  const params = parseParams(configurationCreateParams, req.params);
  const configuration = ctx.store.billingPortalConfigurations.put(
    buildConfiguration({
      features: params.features,
      businessProfile: params.business_profile,
      defaultReturnUrl: params.default_return_url,
      metadata: mergeMetadata({}, params.metadata),
      name: params.name,
      isDefault: false,
    }),
  );
  ctx.events.publish({ type: 'billing_portal.configuration.created', object: configuration, request: req.request });
  return configuration;
};

/** POST /v1/billing_portal/configurations/:id — publishes `billing_portal.configuration.updated`. */
const updateConfiguration: ApiHandler = (req, ctx) => {
  const params = parseParams(configurationUpdateParams, req.params);
  const before = requireConfiguration(ctx, req.path.id ?? '');
  const after: Stripe.BillingPortal.Configuration = {
    ...before,
    ...(params.active !== undefined ? { active: params.active } : {}),
    ...(params.default_return_url !== undefined ? { default_return_url: params.default_return_url } : {}),
    ...(params.name !== undefined ? { name: params.name } : {}),
    ...(params.business_profile ? { business_profile: { ...before.business_profile, ...params.business_profile } } : {}),
    ...(params.features ? { features: buildFeatures(params.features, before.features) } : {}),
    metadata: mergeMetadata(before.metadata ?? {}, params.metadata),
    updated: nowSeconds(),
  };
  ctx.store.billingPortalConfigurations.put(after);
  ctx.events.publish({ type: 'billing_portal.configuration.updated', object: after, request: req.request });
  return after;
};

const retrieveConfiguration: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  return requireConfiguration(ctx, req.path.id ?? '');
};

const listConfigurations: ApiHandler = (req, ctx) => {
  const query = parseParams(configurationListQuery, req.params);
  const all = ctx.store.billingPortalConfigurations
    .newestFirst()
    .filter((configuration) => (query.active === undefined || configuration.active === query.active) && (query.is_default === undefined || configuration.is_default === query.is_default));
  return paginate(all, query, '/v1/billing_portal/configurations');
};

/** The portal page URL of a session. */
export function portalUrl(ctx: EmulatorContext, sessionId: string): string {
  return `${ctx.baseUrl()}/p/session/${sessionId}`;
}

/**
 * POST /v1/billing_portal/sessions (https://docs.stripe.com/api/customer_portal/sessions/create):
 * a session for `customer`, with `return_url` (or the configuration's `default_return_url`)
 * and optional `flow_data`; publishes `billing_portal.session.created`.
 */
const createSession: ApiHandler = (req, ctx) => {
  const params = parseParams(sessionCreateParams, req.params);
  const customer = requireCustomer(ctx, params.customer, 'customer');
  const configuration = params.configuration === undefined ? defaultConfiguration(ctx) : requireConfiguration(ctx, params.configuration, 'configuration');
  const flowData = params.flow_data;
  const flowSubscription = flowData?.subscription_cancel?.subscription ?? flowData?.subscription_update?.subscription ?? flowData?.subscription_update_confirm?.subscription;
  if (flowData && flowData.type !== 'payment_method_update' && flowSubscription === undefined) {
    throw invalidRequest(`Missing required param: flow_data[${flowData.type}][subscription].`, { param: `flow_data[${flowData.type}][subscription]`, code: 'parameter_missing' });
  }
  if (flowSubscription !== undefined) {
    const subscription = requireSubscription(ctx, flowSubscription, `flow_data[${flowData!.type}][subscription]`);
    if (subscription.customer !== customer.id) throw invalidRequest(`The subscription ${subscription.id} does not belong to the customer ${customer.id}.`, { param: 'flow_data' });
  }
  if (flowData?.after_completion?.type === 'redirect' && !flowData.after_completion.redirect) {
    throw invalidRequest('Missing required param: flow_data[after_completion][redirect][return_url].', { param: 'flow_data[after_completion][redirect][return_url]', code: 'parameter_missing' });
  }
  const id = billingId('bps');
  const afterCompletion = flowData?.after_completion;
  const session: Stripe.BillingPortal.Session = {
    id,
    object: 'billing_portal.session',
    configuration: configuration.id,
    created: nowSeconds(),
    customer: customer.id,
    customer_account: null,
    flow: flowData
      ? {
          type: flowData.type,
          after_completion: {
            type: afterCompletion?.type ?? 'portal_homepage',
            redirect: afterCompletion?.redirect ? { return_url: afterCompletion.redirect.return_url } : null,
            hosted_confirmation: afterCompletion?.type === 'hosted_confirmation' ? { custom_message: afterCompletion.hosted_confirmation?.custom_message ?? null } : null,
          },
          customer_update: null,
          subscription_cancel: flowData.subscription_cancel ? { subscription: flowData.subscription_cancel.subscription, retention: null } : null,
          subscription_pause: null,
          subscription_update: flowData.subscription_update ? { subscription: flowData.subscription_update.subscription } : null,
          subscription_update_confirm: flowData.subscription_update_confirm
            ? {
                subscription: flowData.subscription_update_confirm.subscription,
                discounts: null,
                items: flowData.subscription_update_confirm.items.map((item) => ({ id: item.id, price: item.price ?? null, ...(item.quantity !== undefined ? { quantity: item.quantity } : {}) })),
              }
            : null,
        }
      : null,
    livemode: false,
    locale: (params.locale as Stripe.BillingPortal.Session.Locale | undefined) ?? null,
    on_behalf_of: params.on_behalf_of ?? null,
    return_url: params.return_url ?? configuration.default_return_url ?? null,
    url: portalUrl(ctx, id),
  };
  ctx.store.billingPortalSessions.put({ id, session, expiresAt: nowSeconds() + SESSION_LIFETIME });
  ctx.events.publish({ type: 'billing_portal.session.created', object: session, request: req.request });
  return session;
};

/** Customer Portal configurations (create, retrieve, update, list) and sessions (create). */
export const billingPortal: ResourceModule = {
  routes: [
    { method: 'post', path: '/v1/billing_portal/configurations', returns: 'billing_portal.configuration', handler: createConfiguration },
    { method: 'get', path: '/v1/billing_portal/configurations', returns: 'billing_portal.configuration', list: true, handler: listConfigurations },
    { method: 'get', path: '/v1/billing_portal/configurations/:id', returns: 'billing_portal.configuration', handler: retrieveConfiguration },
    { method: 'post', path: '/v1/billing_portal/configurations/:id', returns: 'billing_portal.configuration', handler: updateConfiguration },
    { method: 'post', path: '/v1/billing_portal/sessions', returns: 'billing_portal.session', handler: createSession },
  ],
};
