import { containerSummary, isContainer, jsonEntries, openByDefault, scalarText } from './json-tree-model';

/**
 * A JSON value as a collapsible tree of native `<details>` (keyboard and screen readers come
 * from the browser): the first levels and the event's `data.object` open, the rest collapsed.
 * Styles in styles/events.css.
 */
export function JsonTree({ value, label = 'payload' }: { value: unknown; label?: string }) {
  return (
    <div className="json-tree" role="tree" aria-label={label}>
      <JsonNode name={null} value={value} depth={0} path="" />
    </div>
  );
}

function JsonNode({ name, value, depth, path }: { name: string | null; value: unknown; depth: number; path: string }) {
  const key = name === null ? null : <span className="json-key">{name}</span>;
  if (!isContainer(value)) {
    const { text, kind } = scalarText(value);
    return (
      <div className="json-leaf" role="treeitem" aria-selected={false}>
        {key}
        {key && <span className="json-colon">: </span>}
        <span className={`json-value json-${kind}`}>{text}</span>
      </div>
    );
  }
  return (
    <details className="json-node" open={openByDefault(depth, path)} role="treeitem" aria-selected={false}>
      <summary>
        {key}
        {key && <span className="json-colon">: </span>}
        <span className="json-summary">{containerSummary(value)}</span>
      </summary>
      <div className="json-children" role="group">
        {jsonEntries(value).map((entry) => (
          <JsonNode key={entry.key} name={entry.key} value={entry.value} depth={depth + 1} path={path ? `${path}.${entry.key}` : entry.key} />
        ))}
      </div>
    </details>
  );
}
