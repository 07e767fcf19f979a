import { Navigate, Outlet, useLocation } from 'react-router';
import { ErrorMessage } from './ErrorMessage';
import { Loading } from './Loading';
import { useMe } from './useMe';

/** Signed-out users go to sign-in, remembering where they were headed. */
export function RequireAuth() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading label="Loading your account" fullPage />;
  if (me.isError) {
    return (
      <main className="page page-narrow">
        <ErrorMessage title="Tally is unreachable" error={me.error} onRetry={() => void me.refetch()} />
      </main>
    );
  }
  if (!me.data.user) {
    const next = location.pathname + location.search;
    return <Navigate to={next === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}

/** Customer pages: admins without a customer land on Activity. */
export function RequireCustomer() {
  const me = useMe();
  if (!me.data) return null;
  if (me.data.customers.length === 0) {
    if (me.data.adminWorkspace) return <Navigate to="/admin" replace />;
    return (
      <main className="page page-narrow">
        <div className="card empty-state">
          <h1>No billing account yet</h1>
          <p className="muted">Your sign-in is not linked to a customer account. Ask the workspace admin to add you.</p>
        </div>
      </main>
    );
  }
  return <Outlet />;
}

/** Workspace admins only. */
export function RequireAdmin() {
  const me = useMe();
  if (!me.data) return null;
  if (!me.data.adminWorkspace) {
    return (
      <main className="page page-narrow">
        <div className="card empty-state">
          <h1>Admins only</h1>
          <p className="muted">Billing activity is visible to workspace admins.</p>
        </div>
      </main>
    );
  }
  return <Outlet />;
}
