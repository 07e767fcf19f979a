/** The "Load more" footer of a cursor-paginated list (a TanStack infinite query). */
export function LoadMore({
  query,
  label = 'Load more',
  small = false,
}: {
  query: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown };
  label?: string;
  small?: boolean;
}) {
  if (!query.hasNextPage) return null;
  return (
    <div className={small ? 'load-more card-pad' : 'load-more'}>
      <button type="button" className={small ? 'button button-small' : 'button'} onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
        {query.isFetchingNextPage ? 'Loading…' : label}
      </button>
    </div>
  );
}
