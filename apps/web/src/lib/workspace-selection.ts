/**
 * The workspace an admin of several selected in the switcher: kept in localStorage under
 * `tally.workspaceId` and sent on every tRPC request as `X-Tally-Workspace` (trpc.ts). The
 * server checks it on every admin call; this is only the browser's memory of the choice.
 */
export const WORKSPACE_STORAGE_KEY = 'tally.workspaceId';
/** The request header (the server's WORKSPACE_HEADER). */
export const WORKSPACE_HEADER_NAME = 'X-Tally-Workspace';

type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** localStorage, or null where it is unavailable (disabled storage, tests in node). */
function defaultStore(): KeyValueStore | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function getSelectedWorkspaceId(store: KeyValueStore | null = defaultStore()): string | null {
  try {
    const value = store?.getItem(WORKSPACE_STORAGE_KEY)?.trim();
    return value ? value : null;
  } catch {
    return null;
  }
}

export function setSelectedWorkspaceId(id: string | null, store: KeyValueStore | null = defaultStore()): void {
  try {
    if (id) store?.setItem(WORKSPACE_STORAGE_KEY, id);
    else store?.removeItem(WORKSPACE_STORAGE_KEY);
  } catch {
    // Storage full or disabled: the selection lasts for this page only.
  }
}

/** The headers for one tRPC request: the selection, when there is one. */
export function workspaceHeaders(store: KeyValueStore | null = defaultStore()): Record<string, string> {
  const id = getSelectedWorkspaceId(store);
  return id ? { [WORKSPACE_HEADER_NAME]: id } : {};
}

/** Whether an API error is the server refusing the selected workspace (the selection is stale). */
export function isStaleWorkspaceError(code: string | undefined, message: string): boolean {
  return code === 'FORBIDDEN' && /selected workspace/i.test(message);
}
