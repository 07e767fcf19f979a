import { describe, expect, it } from 'vitest';
import { compactJson, diffJson } from './json-diff';

describe('diffJson', () => {
  it('lists changed, added and removed paths only', () => {
    expect(diffJson({ status: 'DUE', amountMinor: 120000, note: 'x' }, { status: 'PAID', amountMinor: 120000, method: 'bank_transfer' })).toEqual([
      { path: 'method', after: '"bank_transfer"' },
      { path: 'note', before: '"x"' },
      { path: 'status', before: '"DUE"', after: '"PAID"' },
    ]);
  });
  it('flattens nested objects and compares arrays whole', () => {
    expect(diffJson({ key: { last4: 'abcd', mode: 'test' }, tags: [1, 2] }, { key: { last4: 'wxyz', mode: 'test' }, tags: [1, 2] })).toEqual([
      { path: 'key.last4', before: '"abcd"', after: '"wxyz"' },
    ]);
    expect(diffJson({ tags: [1] }, { tags: [1, 2] })).toEqual([{ path: 'tags', before: '[1]', after: '[1,2]' }]);
  });
  it('handles null on either side (a creation or a deletion)', () => {
    expect(diffJson(null, { id: 'r1', status: 'DUE' })).toEqual([
      { path: 'id', after: '"r1"' },
      { path: 'status', after: '"DUE"' },
    ]);
    expect(diffJson({ last4: 'abcd' }, null)).toEqual([{ path: 'last4', before: '"abcd"' }]);
    expect(diffJson(null, null)).toEqual([]);
  });
  it('compares scalars at the root', () => {
    expect(diffJson(1, 2)).toEqual([{ path: '', before: '1', after: '2' }]);
    expect(diffJson('same', 'same')).toEqual([]);
  });
  it('shows Dates as ISO strings', () => {
    expect(compactJson(new Date('2030-04-01T00:00:00Z'))).toBe('"2030-04-01T00:00:00.000Z"');
  });
});
