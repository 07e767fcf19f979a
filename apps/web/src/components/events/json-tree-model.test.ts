import { describe, expect, it } from 'vitest';
import { containerSummary, isContainer, jsonEntries, openByDefault, scalarText } from './json-tree-model';

describe('the event payload tree', () => {
  it('lists object keys in payload order and array items by index', () => {
    expect(jsonEntries({ id: 'evt_1', data: { object: {} }, livemode: false })).toEqual([
      { key: 'id', value: 'evt_1' },
      { key: 'data', value: { object: {} } },
      { key: 'livemode', value: false },
    ]);
    expect(jsonEntries(['a', 2])).toEqual([
      { key: '0', value: 'a' },
      { key: '1', value: 2 },
    ]);
    expect(jsonEntries('x')).toEqual([]);
  });

  it('expands only non-empty containers; summarizes them, naming a Stripe object', () => {
    expect(isContainer({ a: 1 })).toBe(true);
    expect(isContainer([1])).toBe(true);
    expect(isContainer({})).toBe(false);
    expect(isContainer([])).toBe(false);
    expect(isContainer(null)).toBe(false);
    expect(containerSummary({ id: 'cs_1', object: 'checkout.session', amount_total: 500 })).toBe('{checkout.session, 3 keys}');
    expect(containerSummary({ a: 1 })).toBe('{1 key}');
    expect(containerSummary([1, 2])).toBe('[2 items]');
    expect(containerSummary(['x'])).toBe('[1 item]');
  });

  it('shows scalars as JSON with their kind', () => {
    expect(scalarText('say "hi"')).toEqual({ text: '"say \\"hi\\""', kind: 'string' });
    expect(scalarText(4242)).toEqual({ text: '4242', kind: 'number' });
    expect(scalarText(false)).toEqual({ text: 'false', kind: 'boolean' });
    expect(scalarText(null)).toEqual({ text: 'null', kind: 'null' });
    expect(scalarText({})).toEqual({ text: '{}', kind: 'empty' });
    expect(scalarText([])).toEqual({ text: '[]', kind: 'empty' });
  });

  it('opens the first two levels and the event object, the rest starts collapsed', () => {
    expect(openByDefault(0, '')).toBe(true);
    expect(openByDefault(1, 'data')).toBe(true);
    expect(openByDefault(2, 'data.object')).toBe(true);
    expect(openByDefault(3, 'data.object.metadata')).toBe(false);
    expect(openByDefault(2, 'request.idempotency_key')).toBe(false);
  });
});
