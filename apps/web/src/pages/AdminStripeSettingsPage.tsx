import { useState, type FormEvent } from 'react';
import { CopyButton } from '../components/CopyButton';
import { DateTime } from '../components/DateTime';
import { Dialog } from '../components/Dialog';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { useMe } from '../components/useMe';
import { trpc, type RouterOutputs } from '../trpc';

type StripeSettings = RouterOutputs['settings']['stripe']['get'];

const DEPLOYMENT_MODE: Record<StripeSettings['deploymentMode'], string> = {
  emulator: 'the local Stripe emulator',
  test: 'the deployment’s Stripe test keys (STRIPE_SECRET_KEY)',
  live: 'the deployment’s live Stripe keys (STRIPE_SECRET_KEY)',
  none: 'nothing: the deployment has no Stripe keys',
};

/**
 * Settings → Stripe: this workspace's own Stripe keys (stored encrypted, never shown again:
 * only their mode and last 4 characters), its webhook URL, and registering that URL as an
 * endpoint on the workspace's Stripe account.
 */
export function AdminStripeSettingsPage() {
  const me = useMe();
  const settings = trpc.settings.stripe.get.useQuery();
  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Settings · Stripe</h1>
        <p className="muted">
          The Stripe account {me.data?.adminWorkspace?.name ?? 'this workspace'} takes payments with. Keys are stored encrypted and never shown
          again; without its own keys the workspace uses the deployment’s.
        </p>
      </div>
      {settings.isPending ? (
        <Loading label="Loading Stripe settings" />
      ) : settings.isError ? (
        <ErrorMessage error={settings.error} title="Could not load the Stripe settings" onRetry={() => void settings.refetch()} />
      ) : (
        <>
          <StatusCard settings={settings.data} />
          <div className="grid-2 grid-even">
            <KeysCard settings={settings.data} />
            <WebhookCard settings={settings.data} />
          </div>
        </>
      )}
    </main>
  );
}

function StatusCard({ settings: s }: { settings: StripeSettings }) {
  const key = s.key;
  return (
    <section className="card" aria-labelledby="stripe-status-title">
      <div className="card-header">
        <h2 id="stripe-status-title" className="card-title">
          Stripe account
        </h2>
        {s.source === 'workspace' ? (
          <span className="badge badge-success">This workspace’s keys</span>
        ) : s.source === 'deployment' ? (
          <span className="badge badge-info">Deployment fallback</span>
        ) : (
          <span className="badge badge-danger">Not configured</span>
        )}
      </div>
      {s.source !== 'workspace' && (
        <p className="small">
          {s.source === 'deployment'
            ? `Payments use ${DEPLOYMENT_MODE[s.deploymentMode]}. Save this workspace’s own keys below to take payments on its Stripe account.`
            : 'Payments are off for this workspace: save its Stripe keys below. Records can still be marked paid by hand.'}
        </p>
      )}
      <dl className="details details-grid" data-testid="stripe-status">
        <div>
          <dt>Key</dt>
          <dd>
            {key ? (
              <>
                {key.kind === 'restricted' ? 'Restricted key' : 'Secret key'} <code className="event-id">…{key.last4}</code>
              </>
            ) : (
              <span className="muted">None saved</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{key ? <span className={`badge ${key.mode === 'live' ? 'badge-danger' : 'badge-warning'}`}>{key.mode}</span> : <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt>Verified</dt>
          <dd>
            {!key ? (
              <span className="muted">—</span>
            ) : key.verified ? (
              <>
                <span className="badge badge-success">verified</span>{' '}
                <span className="muted small">
                  <DateTime value={key.verifiedAt} />
                </span>
              </>
            ) : (
              <span className="badge badge-warning" title="Stripe could not be reached when the key was saved">
                not verified
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>Stripe account</dt>
          <dd>{key?.stripeAccountId ? <code className="event-id">{key.stripeAccountId}</code> : <span className="muted">—</span>}</dd>
        </div>
        <div>
          <dt>Saved</dt>
          <dd>
            {key ? (
              <>
                <DateTime value={key.savedAt} />
                {key.savedByEmail && <span className="muted small"> by {key.savedByEmail}</span>}
              </>
            ) : (
              <span className="muted">—</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Webhook secret</dt>
          <dd>{s.webhookSecret ? <code className="event-id">…{s.webhookSecret.last4}</code> : <span className="muted">None saved</span>}</dd>
        </div>
        <div>
          <dt>Webhook endpoint</dt>
          <dd>
            {s.webhookEndpoint ? (
              <>
                <code className="event-id">{s.webhookEndpoint.id}</code>{' '}
                <span className="muted small">
                  registered <DateTime value={s.webhookEndpoint.registeredAt} />
                </span>
              </>
            ) : (
              <span className="muted">Not registered</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Last signed event</dt>
          <dd data-testid="stripe-last-event">{s.lastEventAt ? <DateTime value={s.lastEventAt} /> : <span className="muted">None received yet</span>}</dd>
        </div>
      </dl>
    </section>
  );
}

function KeysCard({ settings: s }: { settings: StripeSettings }) {
  const [secretKey, setSecretKey] = useState('');
  const [webhookSecret, setWebhookSecret] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [saved, setSaved] = useState<'verified' | 'unverified' | null>(null);
  const [confirmClear, setConfirmClear] = useState(false);
  const utils = trpc.useUtils();
  const save = trpc.settings.stripe.save.useMutation({
    onSuccess: ({ verification, ...view }) => {
      utils.settings.stripe.get.setData(undefined, view);
      setSaved(verification);
      void utils.audit.invalidate();
    },
    // Whatever the answer, the pasted values leave the page.
    onSettled: () => {
      setSecretKey('');
      setWebhookSecret('');
    },
  });
  const clear = trpc.settings.stripe.clear.useMutation({
    onSuccess: (view) => {
      utils.settings.stripe.get.setData(undefined, view);
      setSaved(null);
      setConfirmClear(false);
      void utils.audit.invalidate();
    },
  });
  const disabled = !s.encryptionAvailable;

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    save.reset();
    const key = secretKey.trim();
    const whsec = webhookSecret.trim();
    if (!/^(sk|rk)_(test|live)_\S+$/.test(key)) return setInvalid('Paste a secret key (sk_test_…, sk_live_…) or a restricted key (rk_…).');
    if (whsec && !/^whsec_\S+$/.test(whsec)) return setInvalid('A webhook signing secret starts with whsec_.');
    setInvalid(null);
    save.mutate({ secretKey: key, webhookSecret: whsec || undefined });
  }

  return (
    <section className="card" aria-labelledby="stripe-keys-title">
      <h2 id="stripe-keys-title" className="card-title">
        {s.key ? 'Replace the keys' : 'Connect a Stripe account'}
      </h2>
      {disabled && (
        <div className="alert alert-error" role="alert" data-testid="encryption-unavailable">
          <div>
            <strong className="alert-title">Keys cannot be stored on this server</strong>
            <span>
              TALLY_SECRET_ENCRYPTION_KEY isn’t set, and Tally never stores Stripe keys unencrypted. Set it on the server (generate one with{' '}
              <code>openssl rand -base64 32</code>) and restart.
            </span>
          </div>
        </div>
      )}
      <form className="form" onSubmit={onSubmit} noValidate autoComplete="off">
        <fieldset className="plain-fieldset" disabled={disabled || save.isPending}>
          <div className="form">
            <div className="field">
              <label htmlFor="stripe-secret-key">Secret or restricted key</label>
              <input
                id="stripe-secret-key"
                type="password"
                autoComplete="off"
                spellCheck={false}
                placeholder="sk_test_…"
                value={secretKey}
                onChange={(e) => setSecretKey(e.target.value)}
              />
              <p className="field-hint">Stripe Dashboard → Developers → API keys. Checked against Stripe before it is saved.</p>
            </div>
            <div className="field">
              <label htmlFor="stripe-webhook-secret">Webhook signing secret (optional)</label>
              <input
                id="stripe-webhook-secret"
                type="password"
                autoComplete="off"
                spellCheck={false}
                placeholder="whsec_…"
                value={webhookSecret}
                onChange={(e) => setWebhookSecret(e.target.value)}
              />
              <p className="field-hint">From your endpoint in the Dashboard or from stripe listen; not needed when you register the endpoint here.</p>
            </div>
          </div>
        </fieldset>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
        {save.error && <ErrorMessage error={save.error} title="The keys were not saved" />}
        {saved === 'verified' && (
          <div className="alert alert-success" role="status" data-testid="stripe-saved">
            <span>Saved and verified with Stripe.</span>
          </div>
        )}
        {saved === 'unverified' && (
          <div className="alert alert-info" role="status" data-testid="stripe-saved">
            <span>Saved, but Stripe could not be reached to check the key: it is marked not verified.</span>
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={disabled || save.isPending}>
            {save.isPending ? 'Checking with Stripe…' : 'Save keys'}
          </button>
          {s.key && (
            <button type="button" className="button button-ghost" onClick={() => setConfirmClear(true)}>
              Clear keys
            </button>
          )}
        </div>
      </form>
      {confirmClear && (
        <Dialog title="Clear this workspace’s Stripe keys?" onClose={() => setConfirmClear(false)}>
          <p className="small">
            The saved key and webhook secret are deleted. Payments then use {DEPLOYMENT_MODE[s.deploymentMode]}, and events sent to this workspace’s
            webhook URL are refused until new keys are saved.
          </p>
          {clear.error && <ErrorMessage error={clear.error} title="Could not clear the keys" />}
          <div className="dialog-actions">
            <button type="button" className="button button-ghost" onClick={() => setConfirmClear(false)}>
              Cancel
            </button>
            <button type="button" className="button button-danger" disabled={clear.isPending} onClick={() => clear.mutate()}>
              {clear.isPending ? 'Clearing…' : 'Clear keys'}
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}

function WebhookCard({ settings: s }: { settings: StripeSettings }) {
  const utils = trpc.useUtils();
  const [registered, setRegistered] = useState(false);
  const register = trpc.settings.stripe.registerWebhookEndpoint.useMutation({
    onSuccess: (view) => {
      utils.settings.stripe.get.setData(undefined, view);
      setRegistered(true);
      void utils.audit.invalidate();
    },
  });
  return (
    <section className="card" aria-labelledby="stripe-webhook-title">
      <h2 id="stripe-webhook-title" className="card-title">
        Webhooks
      </h2>
      <p className="small">Stripe tells Tally about payments by calling this workspace’s webhook URL, signed with its webhook secret.</p>
      <div className="field">
        <span className="field-label">Webhook URL</span>
        <div className="code-line">
          <code data-testid="webhook-url">{s.webhookUrl}</code>
          <CopyButton text={s.webhookUrl} />
        </div>
      </div>
      <div className="field">
        <span className="field-label">Forward with the Stripe CLI</span>
        <div className="code-line">
          <code data-testid="listen-command">{s.listenCommand}</code>
          <CopyButton text={s.listenCommand} />
        </div>
        <p className="field-hint">Then paste the whsec_ secret it prints as the webhook signing secret.</p>
      </div>
      <div className="form-divided form">
        <p className="small">
          Or let Tally create the endpoint on this workspace’s Stripe account, with the events it handles, and store its signing secret.
        </p>
        {register.error && <ErrorMessage error={register.error} title="Could not register the endpoint" />}
        {registered && s.webhookEndpoint && (
          <div className="alert alert-success" role="status" data-testid="webhook-registered">
            <span>
              Endpoint <code>{s.webhookEndpoint.id}</code> registered; its signing secret is stored.
            </span>
          </div>
        )}
        <button type="button" className="button" disabled={!s.key || register.isPending} onClick={() => register.mutate()}>
          {register.isPending ? 'Registering…' : s.webhookEndpoint ? 'Register webhook endpoint again' : 'Register webhook endpoint'}
        </button>
        {!s.key && <p className="field-hint">Save this workspace’s secret key first.</p>}
      </div>
    </section>
  );
}
