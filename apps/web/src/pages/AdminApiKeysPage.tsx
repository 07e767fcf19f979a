import { API_KEY_NAME_MAX } from '@tally/api/schemas';
import { useState, type FormEvent } from 'react';
import { CopyButton } from '../components/CopyButton';
import { DateTime } from '../components/DateTime';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { trpc, type RouterOutputs } from '../trpc';

type CreatedKey = RouterOutputs['apiKey']['create'];

/** Workspace API keys for other backends (`Authorization: Bearer tly_...` on `/api/v1`). */
export function AdminApiKeysPage() {
  const keys = trpc.apiKey.list.useQuery();
  const utils = trpc.useUtils();
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const revoke = trpc.apiKey.revoke.useMutation({ onSuccess: () => utils.apiKey.list.invalidate() });

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">API keys</h1>
        <p className="muted">
          Your other backends call Tally with a key, e.g. <code className="event-id">GET /api/v1/customers/&lt;id&gt;/access</code> with{' '}
          <code className="event-id">Authorization: Bearer tly_…</code>. A key is shown once, when you create it; Tally keeps only its hash.
        </p>
      </div>
      <CreateKeyCard onCreated={setCreated} />
      {created && (
        <div className="alert alert-warning" role="status">
          <div>
            <strong className="alert-title">Copy the key for “{created.name}” now: it is shown only once</strong>
            <span className="license-key">
              <code className="event-id nowrap">{created.key}</code> <CopyButton text={created.key} />
            </span>
          </div>
          <button type="button" className="button button-small button-ghost" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <section className="card card-flush" aria-labelledby="api-keys-title">
        <div className="card-header card-pad">
          <div className="card-header-title">
            <h2 id="api-keys-title" className="card-title">
              Keys
            </h2>
          </div>
        </div>
        {keys.isPending && <Loading label="Loading API keys" />}
        {keys.isError && <ErrorMessage error={keys.error} title="Could not load API keys" onRetry={() => void keys.refetch()} />}
        {revoke.error && <ErrorMessage error={revoke.error} title="Could not revoke the key" />}
        {keys.data && keys.data.length === 0 && <p className="empty">No API keys yet.</p>}
        {keys.data && keys.data.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.map((k) => (
                  <tr key={k.id} data-testid="api-key">
                    <td>{k.name}</td>
                    <td>
                      <code className="event-id nowrap">{k.displayPrefix}…</code>
                    </td>
                    <td>
                      <DateTime value={k.createdAt} />
                    </td>
                    <td>{k.lastUsedAt ? <DateTime value={k.lastUsedAt} /> : 'Never'}</td>
                    <td>
                      <span className={`badge badge-${k.revokedAt ? 'neutral' : 'success'}`}>{k.revokedAt ? 'revoked' : k.mode}</span>
                    </td>
                    <td className="num">
                      {!k.revokedAt && (
                        <button
                          type="button"
                          className="button button-small button-ghost"
                          disabled={revoke.isPending}
                          onClick={() => {
                            if (window.confirm(`Revoke “${k.name}”? Calls with it answer 401 from now on.`)) revoke.mutate({ keyId: k.id });
                          }}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </main>
  );
}

function CreateKeyCard({ onCreated }: { onCreated: (key: CreatedKey) => void }) {
  const utils = trpc.useUtils();
  const [name, setName] = useState('');
  const [mode, setMode] = useState<'test' | 'live'>('test');
  const [invalid, setInvalid] = useState<string | null>(null);
  const create = trpc.apiKey.create.useMutation({
    onSuccess: async (key) => {
      onCreated(key);
      setName('');
      await utils.apiKey.list.invalidate();
    },
  });
  function onSubmit(e: FormEvent) {
    e.preventDefault();
    create.reset();
    if (!name.trim()) return setInvalid('Name the key after what uses it, like "voice backend".');
    setInvalid(null);
    create.mutate({ name: name.trim(), mode });
  }
  return (
    <section className="card" aria-labelledby="create-key-title">
      <h2 id="create-key-title" className="card-title">
        New API key
      </h2>
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="api-key-name">Name</label>
            <input id="api-key-name" type="text" maxLength={API_KEY_NAME_MAX} value={name} onChange={(e) => setName(e.target.value)} placeholder="voice backend" />
          </div>
          <div className="field field-narrow">
            <label htmlFor="api-key-mode">Mode</label>
            <select id="api-key-mode" value={mode} onChange={(e) => setMode(e.target.value === 'live' ? 'live' : 'test')}>
              <option value="test">test</option>
              <option value="live">live</option>
            </select>
          </div>
        </div>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
        {create.error && <ErrorMessage error={create.error} title="Could not create the key" />}
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create key'}
        </button>
      </form>
    </section>
  );
}
