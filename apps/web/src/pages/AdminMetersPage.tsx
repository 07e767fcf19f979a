/** Placeholder (issue 9): replaced by the page itself. */
export function AdminMetersPage() {
  return (
    <main className="page">
      <h1 className="page-title">Meters</h1>
    </main>
  );
}
