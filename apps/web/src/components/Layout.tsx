import { useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { authClient } from '../auth';
import { trpc } from '../trpc';
import { BillingStreamProvider } from '../lib/billing-stream-provider';
import { setSelectedWorkspaceId } from '../lib/workspace-selection';
import { PastDueBanner } from './PastDueBanner';
import { useMe, useRefreshSession } from './useMe';
import { useForgetStaleWorkspace } from './useWorkspace';
import { WorkspaceSwitcher } from './WorkspaceSwitcher';

export function Layout() {
  const me = useMe();
  const navigate = useNavigate();
  const refreshSession = useRefreshSession();
  const [signingOut, setSigningOut] = useState(false);
  useForgetStaleWorkspace();
  const data = me.data;
  const isCustomer = (data?.customers.length ?? 0) > 0;
  const showLicenses = useShowLicenses(isCustomer);

  async function signOut() {
    setSigningOut(true);
    try {
      await authClient.signOut();
      // The next person on this browser starts from their own default workspace.
      setSelectedWorkspaceId(null);
      await refreshSession();
      navigate('/sign-in', { replace: true });
    } finally {
      setSigningOut(false);
    }
  }

  // One live billing subscription per signed-in tab, shared by every page under this shell.
  return (
    <BillingStreamProvider>
      <div className="shell">
        <header className="app-header">
          <div className={`app-header-inner${data?.adminWorkspace ? ' app-header-two-rows' : ''}`}>
            <NavLink to={isCustomer ? '/' : '/admin'} className="brand" aria-label="Tally home">
              <span className="brand-mark" aria-hidden="true">T</span>
              <span className="brand-name">Tally</span>
            </NavLink>
            <nav className="nav" aria-label="Main">
              {isCustomer && (
                <>
                  <NavLink to="/" end className="nav-link">
                    Balance
                  </NavLink>
                  <NavLink to="/billing" className="nav-link">
                    Billing
                  </NavLink>
                  <NavLink to="/ledger" className="nav-link">
                    Ledger
                  </NavLink>
                  <NavLink to="/subscription" className="nav-link">
                    Plans
                  </NavLink>
                  <NavLink to="/usage" className="nav-link">
                    Usage
                  </NavLink>
                  <NavLink to="/invoices" className="nav-link">
                    Invoices
                  </NavLink>
                  {showLicenses && (
                    <NavLink to="/licenses" className="nav-link">
                      Licenses
                    </NavLink>
                  )}
                </>
              )}
              {data?.adminWorkspace && (
                <>
                  <NavLink to="/admin" end className="nav-link">
                    Activity
                  </NavLink>
                  <NavLink to="/admin/customers" className="nav-link">
                    Customers
                  </NavLink>
                  <NavLink to="/admin/billing-records" className="nav-link">
                    Billing records
                  </NavLink>
                  <NavLink to="/admin/plans" className="nav-link">
                    Plans
                  </NavLink>
                  <NavLink to="/admin/meters" className="nav-link">
                    Meters
                  </NavLink>
                  <NavLink to="/admin/usage" className="nav-link">
                    Usage
                  </NavLink>
                  <NavLink to="/admin/audit" className="nav-link">
                    Audit
                  </NavLink>
                  <NavLink to="/admin/emails" className="nav-link">
                    Emails
                  </NavLink>
                  <NavLink to="/admin/api-keys" className="nav-link">
                    API keys
                  </NavLink>
                  <NavLink to="/admin/settings/stripe" className="nav-link">
                    Settings
                  </NavLink>
                </>
              )}
            </nav>
            <div className="account">
              <WorkspaceSwitcher />
              <span className="account-email" title={data?.user?.email}>
                {data?.user?.email}
              </span>
              <button type="button" className="button button-small button-ghost" onClick={() => void signOut()} disabled={signingOut}>
                Sign out
              </button>
            </div>
          </div>
        </header>
        {isCustomer && <PastDueBanner />}
        <Outlet />
      </div>
    </BillingStreamProvider>
  );
}

/**
 * Whether a customer's nav shows Licenses: their subscription's plan issues licenses, or a plan
 * they can subscribe to does (a workspace without licensing plans never shows it).
 */
function useShowLicenses(isCustomer: boolean): boolean {
  const state = trpc.subscription.get.useQuery(undefined, { enabled: isCustomer, refetchInterval: 60_000 });
  const plans = trpc.plan.list.useQuery(undefined, { enabled: isCustomer, staleTime: 5 * 60_000 });
  if (!isCustomer) return false;
  return !!state.data?.subscription?.plan?.issuesLicenses || !!plans.data?.some((p) => p.issuesLicenses);
}
