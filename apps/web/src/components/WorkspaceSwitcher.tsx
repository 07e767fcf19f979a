import { useId, useState } from 'react';
import { useMe } from './useMe';
import { useSwitchWorkspace } from './useWorkspace';

/**
 * The admin's workspace: a select for admins of several (every admin page then acts on the
 * chosen one, checked by the server), just its name for admins of one.
 */
export function WorkspaceSwitcher() {
  const me = useMe();
  const id = useId();
  const switchWorkspace = useSwitchWorkspace();
  const [switching, setSwitching] = useState(false);
  const workspaces = me.data?.adminWorkspaces ?? [];
  const current = me.data?.adminWorkspace;
  if (!current) return null;
  if (workspaces.length <= 1) {
    return (
      <span className="workspace-name" title="Workspace">
        {current.name}
      </span>
    );
  }
  return (
    <div className="workspace-switcher">
      <label htmlFor={id} className="sr-only">
        Workspace
      </label>
      <select
        id={id}
        value={current.id}
        disabled={switching}
        onChange={(e) => {
          setSwitching(true);
          void switchWorkspace(e.target.value).finally(() => setSwitching(false));
        }}
      >
        {workspaces.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </select>
    </div>
  );
}
