/** Placeholder (issue 9): replaced by the page itself. */
export function UsagePage() {
  return (
    <main className="page">
      <h1 className="page-title">Usage</h1>
    </main>
  );
}
