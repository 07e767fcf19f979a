import { describe, expect, it } from 'vitest';
import { getSelectedWorkspaceId, isStaleWorkspaceError, setSelectedWorkspaceId, WORKSPACE_STORAGE_KEY, workspaceHeaders } from './workspace-selection';

function memoryStore() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

describe('workspace selection', () => {
  it('stores, sends and clears the selection', () => {
    const store = memoryStore();
    expect(workspaceHeaders(store)).toEqual({});
    setSelectedWorkspaceId('0190a1b2-0000-7000-8000-000000000001', store);
    expect(store.map.get(WORKSPACE_STORAGE_KEY)).toBe('0190a1b2-0000-7000-8000-000000000001');
    expect(workspaceHeaders(store)).toEqual({ 'X-Tally-Workspace': '0190a1b2-0000-7000-8000-000000000001' });
    setSelectedWorkspaceId(null, store);
    expect(getSelectedWorkspaceId(store)).toBeNull();
    expect(workspaceHeaders(store)).toEqual({});
  });
  it('survives missing or throwing storage', () => {
    expect(getSelectedWorkspaceId(null)).toBeNull();
    const throwing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); }, removeItem: () => undefined };
    expect(getSelectedWorkspaceId(throwing)).toBeNull();
    expect(() => setSelectedWorkspaceId('x', throwing)).not.toThrow();
  });
  it('recognizes the server refusing the selection', () => {
    expect(isStaleWorkspaceError('FORBIDDEN', 'You are not an admin of the selected workspace')).toBe(true);
    expect(isStaleWorkspaceError('FORBIDDEN', 'Workspace admins only')).toBe(false);
    expect(isStaleWorkspaceError('NOT_FOUND', 'selected workspace')).toBe(false);
  });
});
