import type Stripe from 'stripe';
import { invalidRequest } from './errors';

/** Cursor pagination parameters (https://docs.stripe.com/api/pagination). */
export interface ListQuery {
  /** 1 to 100, default 10. */
  limit?: number | undefined;
  starting_after?: string | undefined;
  ending_before?: string | undefined;
}

/**
 * Stripe's list object for one page of `items` (already filtered, newest first):
 * `starting_after` pages towards older objects, `ending_before` towards newer ones.
 * `url` is the list's path, e.g. `/v1/customers`.
 */
export function paginate<T extends { id: string }>(items: readonly T[], query: ListQuery, url: string): Stripe.ApiList<T> {
  const limit = query.limit ?? 10;
  const indexOf = (id: string, param: string) => {
    const index = items.findIndex((item) => item.id === id);
    if (index < 0) throw invalidRequest(`No such object: '${id}'`, { param, code: 'resource_missing' });
    return index;
  };
  let data: T[];
  let hasMore: boolean;
  if (query.starting_after !== undefined) {
    const start = indexOf(query.starting_after, 'starting_after') + 1;
    data = items.slice(start, start + limit);
    hasMore = start + limit < items.length;
  } else if (query.ending_before !== undefined) {
    const end = indexOf(query.ending_before, 'ending_before');
    data = items.slice(Math.max(0, end - limit), end);
    hasMore = end - limit > 0;
  } else {
    data = items.slice(0, limit);
    hasMore = limit < items.length;
  }
  return { object: 'list', data, has_more: hasMore, url };
}
