import { Link } from 'react-router';
import { useMe } from '../components/useMe';

export function TopupCancelledPage() {
  const me = useMe();
  const isCustomer = (me.data?.customers.length ?? 0) > 0;
  return (
    <main className="page page-narrow">
      <section className="card result-card">
        <div className="result-icon result-icon-neutral" aria-hidden="true">
          ×
        </div>
        <h1>Top-up cancelled — you were not charged.</h1>
        <p className="muted">You left Stripe Checkout before paying. Your balance is unchanged.</p>
        <Link to={isCustomer ? '/' : '/admin'} className="button">
          Back to account
        </Link>
      </section>
    </main>
  );
}
