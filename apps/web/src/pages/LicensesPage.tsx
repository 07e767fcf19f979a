import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { Dialog } from '../components/Dialog';
import { ErrorMessage } from '../components/ErrorMessage';
import { LicenseTable } from '../components/LicenseTable';
import { Loading } from '../components/Loading';
import { rememberRevealedKeys, useRevealedKeys } from '../lib/revealed-license-keys';
import { trpc, type RouterOutputs } from '../trpc';

type License = RouterOutputs['license']['list'][number];

/**
 * The customer's license keys. The server sends a key in full only in the first list after it
 * was issued (then stores only its hash and last group), so this page keeps the keys it was
 * shown (lib/revealed-license-keys.ts) and says to copy them now; every later view is masked.
 */
export function LicensesPage() {
  const licenses = trpc.license.list.useQuery(undefined, {
    // A refetch would not lose a key (they are kept aside), but there is no reason to ask often.
    refetchOnWindowFocus: false,
    staleTime: 30_000,
    // An answer that arrived while nobody was watching keeps its keys until this page shows them.
    gcTime: Infinity,
  });
  useEffect(() => {
    if (licenses.data) rememberRevealedKeys(licenses.data);
  }, [licenses.data]);
  const revealed = useRevealedKeys();
  const [resetting, setResetting] = useState<License | null>(null);
  const list = licenses.data ?? [];
  const shownNow = list.filter((l) => (l.fullKey ?? revealed.get(l.id)) && l.status !== 'revoked');

  return (
    <main className="page">
      <div className="page-head">
        <h1 className="page-title">Licenses</h1>
        <p className="muted">
          One license key per seat of a plan that includes them. Your software checks its key with Tally; a key works while your subscription is active or in
          its trial.
        </p>
      </div>

      {shownNow.length > 0 && (
        <div className="alert alert-warning" role="status" data-testid="license-once-notice">
          <div>
            <strong className="alert-title">
              {shownNow.length === 1 ? 'Your new license key is shown once: copy it now' : `Your ${shownNow.length} new license keys are shown once: copy them now`}
            </strong>
            <span>Tally keeps only a fingerprint of each key. After you reload or sign out, only its last four characters are shown.</span>
          </div>
        </div>
      )}

      <section className="card card-flush" aria-labelledby="licenses-title">
        <div className="card-header card-pad">
          <h2 id="licenses-title" className="card-title">
            Your license keys
          </h2>
        </div>
        {licenses.isPending ? (
          <Loading label="Loading your licenses" />
        ) : licenses.isError ? (
          <div className="card-pad">
            <ErrorMessage error={licenses.error} title="Could not load your licenses" onRetry={() => void licenses.refetch()} />
          </div>
        ) : list.length === 0 ? (
          <p className="empty muted">
            No license keys yet. Plans that include them issue one per seat when you subscribe: <Link to="/subscription">see the plans</Link>.
          </p>
        ) : (
          <LicenseTable licenses={list} revealed={revealed} caption="License keys" onReset={(l) => setResetting(l as License)} />
        )}
      </section>
      {resetting && <ResetDialog license={resetting} onClose={() => setResetting(null)} />}
    </main>
  );
}

function ResetDialog({ license, onClose }: { license: License; onClose: () => void }) {
  const utils = trpc.useUtils();
  const reset = trpc.license.resetFingerprint.useMutation({
    onSuccess: async () => {
      await utils.license.list.invalidate();
      onClose();
    },
  });
  return (
    <Dialog title={`Release license #${license.sequence} from its machine?`} onClose={onClose}>
      <p>The key keeps working; the next machine that checks it is bound to it instead. Do this when you move your software to another computer.</p>
      {reset.error && <ErrorMessage error={reset.error} title="Could not release the machine" />}
      <div className="dialog-actions">
        <button type="button" className="button button-ghost" onClick={onClose}>
          Keep it
        </button>
        <button type="button" className="button button-primary" disabled={reset.isPending} onClick={() => reset.mutate({ licenseId: license.id })}>
          {reset.isPending ? 'Releasing…' : 'Release machine'}
        </button>
      </div>
    </Dialog>
  );
}
