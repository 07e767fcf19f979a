import { useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { authClient } from '../auth';
import { useMe, useRefreshSession } from './useMe';

export function Layout() {
  const me = useMe();
  const navigate = useNavigate();
  const refreshSession = useRefreshSession();
  const [signingOut, setSigningOut] = useState(false);
  const data = me.data;
  const isCustomer = (data?.customers.length ?? 0) > 0;

  async function signOut() {
    setSigningOut(true);
    try {
      await authClient.signOut();
      await refreshSession();
      navigate('/sign-in', { replace: true });
    } finally {
      setSigningOut(false);
    }
  }

  return (
    <div className="shell">
      <header className="app-header">
        <div className="app-header-inner">
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
                <NavLink to="/ledger" className="nav-link">
                  Ledger
                </NavLink>
              </>
            )}
            {data?.adminWorkspace && (
              <>
                <NavLink to="/admin" end className="nav-link">
                  Activity
                </NavLink>
                <NavLink to="/admin/emails" className="nav-link">
                  Emails
                </NavLink>
              </>
            )}
          </nav>
          <div className="account">
            <span className="account-email" title={data?.user?.email}>
              {data?.user?.email}
            </span>
            <button type="button" className="button button-small button-ghost" onClick={() => void signOut()} disabled={signingOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <Outlet />
    </div>
  );
}
