import type Stripe from 'stripe';
import type { MeterEventSessionRecord } from '../billing/meter-usage';
import { nowSeconds } from '../core/clock';
import type { EmulatorContext } from '../core/context';
import { randomToken } from '../core/ids';
import { StripeApiError, authenticationError } from '../http/errors';
import { p, parseParams } from '../http/params';
import type { ApiHandler, ResourceModule } from '../http/route';
import { ingestStreamMeterEvent, payloadParam } from './billing-meters';
import { noParams } from './shared';

/**
 * The high-throughput meter event stream of API v2
 * (https://docs.stripe.com/api/v2/meter-event-streams): `POST /v2/billing/meter_event_session`
 * (API key) returns a session whose `authentication_token` is valid for 15 minutes;
 * `POST /v2/billing/meter_event_stream` (`Authorization: Bearer <authentication_token>`) takes up
 * to 100 events and answers 200 `{}`. Stripe validates stream events asynchronously: only the
 * request's shape is checked here; each event is then recorded like a v1 meter event (same store,
 * 24 h `identifier` dedupe, `meterUsage`), failures in the meter event error list, reported by
 * thin events (`billing/meter-error-reports.ts`).
 *
 * The SDK sends the stream to `meter-events.stripe.com` unless its `host` is overridden (then to
 * that host, i.e. the emulator); the Stripe CLI always does (see `http/meter-events-proxy.ts`).
 */

/** Meter event session tokens are valid for 15 minutes. */
export const SESSION_TTL_SECONDS = 15 * 60;
/** Expired sessions are forgotten after a day. */
const SESSION_RETENTION_SECONDS = 24 * 60 * 60;
/** At most 100 events per stream request. */
const MAX_EVENTS = 100;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** RFC 3339 date-time, e.g. `2024-06-01T12:00:00Z` or `2024-06-01T12:00:00.123+02:00`. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const rfc3339 = p.string(64).transform((value, ctx) => {
  const millis = RFC3339.test(value) ? Date.parse(value.replace(' ', 'T')) : NaN;
  if (Number.isNaN(millis)) {
    ctx.addIssue({ code: 'custom', message: `Invalid timestamp: '${value}' is not an RFC 3339 date-time (e.g. 2024-06-01T12:00:00Z).`, params: { stripeCode: 'invalid_fields' } });
    return 0;
  }
  return Math.floor(millis / 1000);
});

const streamParams = p.object({
  events: p
    .array(
      p.object({
        event_name: p.string(100),
        payload: payloadParam,
        identifier: p.string(100).optional(),
        timestamp: rfc3339.optional(),
      }),
    )
    .min(1, { error: 'events must contain at least 1 event.' })
    .max(MAX_EVENTS, { error: `events must contain at most ${MAX_EVENTS} events.` }),
});

/** The session object, as the API shows it (https://docs.stripe.com/api/v2/meter-event-streams/meter-event-sessions/object). */
function sessionObject(session: MeterEventSessionRecord): Stripe.V2.Billing.MeterEventSession {
  return {
    id: session.id,
    object: 'v2.billing.meter_event_session',
    authentication_token: session.authenticationToken,
    created: iso(session.created),
    expires_at: iso(session.expiresAt),
    livemode: false,
  };
}

/** POST /v2/billing/meter_event_session — no parameters; a token valid for 15 minutes. */
const createSession: ApiHandler = (req, ctx) => {
  parseParams(noParams, req.params);
  const now = nowSeconds();
  for (const old of ctx.store.meterEventSessions.all()) {
    if (old.expiresAt < now - SESSION_RETENTION_SECONDS) ctx.store.meterEventSessions.delete(old.id);
  }
  const session: MeterEventSessionRecord = {
    id: `bmes_test_61${randomToken(40)}`,
    authenticationToken: `mes_tok_test_${randomToken(48)}`,
    created: now,
    expiresAt: now + SESSION_TTL_SECONDS,
  };
  ctx.store.meterEventSessions.put(session);
  return sessionObject(session);
};

/**
 * The stream's credential check: `Bearer <authentication_token>` of an unexpired session, of
 * whichever account made it (the stream's events then go to that account). Unknown tokens (API
 * keys included) are a 401 like a bad API key; an expired one is Stripe's 401
 * `temporary_session_expired` (the SDK throws `TemporarySessionExpiredError`).
 */
function authenticateSession(authorization: string | undefined, accounts: readonly EmulatorContext[]): EmulatorContext {
  const [scheme, token = ''] = (authorization ?? '').split(' ', 2);
  if (scheme?.toLowerCase() !== 'bearer' || token.trim() === '') {
    throw authenticationError(
      "You did not provide a meter event session token. Create a meter event session (POST /v2/billing/meter_event_session) and send its authentication_token as 'Authorization: Bearer <authentication_token>'.",
    );
  }
  const owner = accounts.find((ctx) => ctx.store.meterEventSessions.all().some((candidate) => candidate.authenticationToken === token.trim()));
  const session = owner?.store.meterEventSessions.all().find((candidate) => candidate.authenticationToken === token.trim());
  if (!owner || !session) throw authenticationError('Invalid meter event session token provided. Create a new meter event session.');
  if (session.expiresAt <= nowSeconds()) {
    throw new StripeApiError(401, {
      type: 'temporary_session_expired',
      code: 'billing_meter_event_session_expired',
      message: 'The meter event session has expired. Create a new meter event session to get a new authentication token.',
    });
  }
  return owner;
}

/** POST /v2/billing/meter_event_stream — validates the shape of all events (400 for the whole request otherwise), then ingests each. */
const createStreamEvents: ApiHandler = (req, ctx) => {
  const input = parseParams(streamParams, req.params);
  for (const event of input.events) ingestStreamMeterEvent(ctx, event);
  return {};
};

/** The v2 meter event session and stream endpoints. */
export const meterEventStream: ResourceModule = {
  routes: [
    { method: 'post', path: '/v2/billing/meter_event_session', returns: 'v2.billing.meter_event_session', handler: createSession },
    { method: 'post', path: '/v2/billing/meter_event_stream', returns: 'v2.billing.meter_event_stream', authenticate: authenticateSession, handler: createStreamEvents },
  ],
};
