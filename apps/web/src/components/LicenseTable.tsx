import type { AdminLicenseView, LicenseView } from '@tally/api/schemas';
import { CopyButton } from './CopyButton';
import { DateTime } from './DateTime';
import { StatusBadge } from './StatusBadge';

type AnyLicense = (LicenseView | AdminLicenseView) & { fullKey?: string | null };

/**
 * License keys: the full key (with Copy) where this tab was shown it (`revealed`), else the
 * masked one; status, machine binding, last verification. `onReset` adds "Release machine"
 * to bound licenses (customers).
 */
export function LicenseTable({
  licenses,
  revealed,
  caption,
  onReset,
}: {
  licenses: AnyLicense[];
  revealed?: ReadonlyMap<string, string>;
  caption: string;
  onReset?: (license: AnyLicense) => void;
}) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">License</th>
            <th scope="col">Key</th>
            <th scope="col">Status</th>
            <th scope="col">Machine</th>
            <th scope="col">Last verified</th>
          </tr>
        </thead>
        <tbody>
          {licenses.map((l) => {
            const full = l.fullKey ?? revealed?.get(l.id) ?? null;
            return (
              <tr key={l.id} data-testid="license-row">
                <td className="nowrap">
                  <div className="event-type">
                    {l.plan?.name ?? 'License'} #{l.sequence}
                  </div>
                  <div className="muted small">
                    Issued <DateTime value={l.createdAt} />
                  </div>
                </td>
                <td>
                  {full && l.status !== 'revoked' ? (
                    <div className="code-line license-key">
                      <code data-testid="license-full-key">{full}</code>
                      <CopyButton text={full} />
                    </div>
                  ) : (
                    <code className="license-masked" data-testid="license-masked-key">
                      {l.maskedKey}
                    </code>
                  )}
                </td>
                <td>
                  <StatusBadge status={l.status} />
                </td>
                <td>
                  {l.fingerprintBound ? (
                    <div className="row-actions row-actions-start">
                      <span className="small">Bound to a machine</span>
                      {onReset && l.status !== 'revoked' && (
                        <button type="button" className="button button-small button-ghost" onClick={() => onReset(l)} aria-label={`Release the machine of license #${l.sequence}`}>
                          Release
                        </button>
                      )}
                    </div>
                  ) : (
                    <span className="muted small nowrap">Not bound yet</span>
                  )}
                </td>
                <td className="nowrap">
                  <DateTime value={l.lastVerifiedAt} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
