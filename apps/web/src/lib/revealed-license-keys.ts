/**
 * Full license keys the server revealed to this tab. `license.list` answers a key in full only
 * once (the first list after it is issued; then the server erases it and later answers are
 * masked), so the SPA keeps what it was shown here, in memory, until the tab reloads or the
 * session changes (`forgetRevealedKeys`, called by `useRefreshSession`). Never persisted.
 */
import { useSyncExternalStore } from 'react';

let keys: ReadonlyMap<string, string> = new Map();
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());

/** Remember the full keys of `licenses` (those with `fullKey`), by license id. */
export function rememberRevealedKeys(licenses: ReadonlyArray<{ id: string; fullKey: string | null }>): void {
  const fresh = licenses.filter((l): l is { id: string; fullKey: string } => !!l.fullKey && keys.get(l.id) !== l.fullKey);
  if (fresh.length === 0) return;
  const next = new Map(keys);
  for (const l of fresh) next.set(l.id, l.fullKey);
  keys = next;
  notify();
}

/** Drop every remembered key (sign-in, sign-out). */
export function forgetRevealedKeys(): void {
  if (keys.size === 0) return;
  keys = new Map();
  notify();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The remembered keys now, by license id. */
export function revealedKeysSnapshot(): ReadonlyMap<string, string> {
  return keys;
}

/** The remembered keys, by license id (re-renders when one is added). */
export function useRevealedKeys(): ReadonlyMap<string, string> {
  return useSyncExternalStore(
    subscribe,
    () => keys,
    () => keys,
  );
}
