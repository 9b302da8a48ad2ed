import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ColumnSet, flattenRow, type QueryResultRow } from '../src/rows/flatten-row.js';

describe('flattenRow', () => {
  it('keeps cells in order, values as strings', () => {
    expect(flattenRow([{ eventTime: '2023-01-22 16:53:53.000' }, { eventName: 'GetObject' }])).toEqual([
      ['eventTime', '2023-01-22 16:53:53.000'],
      ['eventName', 'GetObject'],
    ]);
  });

  it('keeps a repeated key under stable names instead of overwriting it', () => {
    const row: QueryResultRow = [{ arn: 'a1' }, { eventName: 'x' }, { arn: 'a2' }, { arn: 'a3' }];
    expect(flattenRow(row)).toEqual([
      ['arn', 'a1'],
      ['eventName', 'x'],
      ['arn_2', 'a2'],
      ['arn_3', 'a3'],
    ]);
  });

  it('does not collide with a real column that already has the suffixed name', () => {
    // A literal key shaped like a repeat's name is `KEY_1` (see firstName), so the second `arn` stays `arn_2`.
    expect(flattenRow([{ arn_2: 'real' }, { arn: 'a1' }, { arn: 'a2' }])).toEqual([
      ['arn_2_1', 'real'],
      ['arn', 'a1'],
      ['arn_2', 'a2'],
    ]);
  });

  it('reads every key of a map that has more than one', () => {
    expect(flattenRow([{ a: '1', b: '2' }])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });
});

describe('ColumnSet', () => {
  it('gives every record all columns seen so far, null where absent, in first-seen order', () => {
    const columns = new ColumnSet();
    expect(columns.toRecord([{ a: '1' }, { b: '2' }])).toEqual({ a: '1', b: '2' });
    const second = columns.toRecord([{ b: '3' }, { c: '4' }]);
    expect(second).toEqual({ a: null, b: '3', c: '4' });
    expect(Object.keys(second)).toEqual(['a', 'b', 'c']);
    expect(columns.names).toEqual(['a', 'b', 'c']);
  });

  it('flattens a recorded Lake page to the expected records (golden fixture)', () => {
    const page = JSON.parse(readFileSync(new URL('./fixtures/lake-page-nested.json', import.meta.url), 'utf8')) as { QueryResultRows: QueryResultRow[] };
    const expected = readFileSync(new URL('./fixtures/lake-page-nested.expected.ndjson', import.meta.url), 'utf8');
    const columns = new ColumnSet();
    const actual = page.QueryResultRows.map((row) => JSON.stringify(columns.toRecord(row)) + '\n').join('');
    expect(actual).toBe(expected);
  });

  it('names repeated keys exactly as flattenRow does, row after row', () => {
    const rows: QueryResultRow[] = [
      [{ arn: 'a1' }, { arn: 'a2' }, { arn_2: 'x' }],
      [{ arn_2: 'y' }, { arn: 'b1' }],
      [{ arn: 'c1' }, { arn: 'c2' }, { arn: 'c3' }, { type: 't' }],
      [],
    ];
    const columns = new ColumnSet();
    for (const row of rows) {
      const record = columns.toRecord(row);
      expect(Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null))).toEqual(Object.fromEntries(flattenRow(row)));
      expect(Object.keys(record)).toEqual(columns.names);
    }
    expect(columns.names).toEqual(['arn', 'arn_2', 'arn_2_1', 'arn_3', 'type']);
  });

  it('keeps a column named __proto__ as data', () => {
    const columns = new ColumnSet();
    const first = columns.toRecord([{ ['__proto__']: 'p1' }, { a: '1' }] as QueryResultRow);
    const second = columns.toRecord([JSON.parse('{"__proto__":"p2"}')] as QueryResultRow);
    expect(JSON.stringify(first)).toBe('{"__proto__":"p1","a":"1"}');
    expect(JSON.stringify(second)).toBe('{"__proto__":"p2","a":null}');
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
  });
});
