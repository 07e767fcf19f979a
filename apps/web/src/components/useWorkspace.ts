import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { getSelectedWorkspaceId, setSelectedWorkspaceId } from '../lib/workspace-selection';
import { useMe } from './useMe';

/**
 * Switch the selected workspace: store it (sent as `X-Tally-Workspace` from the next request
 * on), drop every cached answer of the previous workspace and fetch again. A detail page of the
 * old workspace (a customer) would be NOT_FOUND in the new one, so it goes to its list.
 */
export function useSwitchWorkspace() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  return useCallback(
    async (workspaceId: string) => {
      setSelectedWorkspaceId(workspaceId);
      await queryClient.cancelQueries();
      if (/^\/admin\/customers\/[^/]+/.test(location.pathname)) navigate('/admin/customers', { replace: true });
      await queryClient.resetQueries();
    },
    [queryClient, navigate, location.pathname],
  );
}

/**
 * `me.get` answers `adminWorkspace: null` when the stored selection is not a workspace this
 * user administers (they lost the role, or someone else signed in on this browser): forget the
 * selection, so the server falls back to their first workspace, and fetch again.
 */
export function useForgetStaleWorkspace() {
  const me = useMe();
  const queryClient = useQueryClient();
  const data = me.data;
  useEffect(() => {
    const selected = getSelectedWorkspaceId();
    if (!data?.user || !selected) return;
    if (data.adminWorkspaces.some((w) => w.id === selected) && data.adminWorkspace?.id === selected) return;
    setSelectedWorkspaceId(null);
    void queryClient.resetQueries();
  }, [data, queryClient]);
}
