import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <main className="page page-narrow">
      <section className="card result-card">
        <h1>Page not found</h1>
        <p className="muted">There is nothing at this address.</p>
        <Link to="/" className="button">
          Go home
        </Link>
      </section>
    </main>
  );
}
