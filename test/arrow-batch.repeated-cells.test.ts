import { MapRow, StructRow, Vector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { isCtlakeError } from '../src/errors.js';
import { arrowSchema, recordBatch } from '../src/formats/arrow-batch.js';
import type { FlatRecord } from '../src/rows/flatten-row.js';
import { parseLakeType } from '../src/rows/lake-type.js';
import type { ColumnSchema } from '../src/rows/schema.js';
import { unparsedColumn } from '../src/rows/unparsed-column.js';

// recordBatch reads each distinct text of a nested column once per batch and
// shares the value among the rows that hold it: every row must still get its
// own slot, and every row whose text does not read its own fallback entry.

const identity: ColumnSchema = {
  source: 'userIdentity',
  name: 'useridentity',
  type: 'nested',
  lakeType: parseLakeType('struct<type:string,arn:string,tags:array<string>,attrs:map<string,string>>'),
  fallback: true,
};

function plain(v: unknown): unknown {
  if (v instanceof MapRow) return [...(v as Iterable<[unknown, unknown]>)].map(([k, x]) => [k, plain(x)]);
  if (v instanceof StructRow) return Object.fromEntries([...(v as Iterable<[string, unknown]>)].map(([k, x]) => [k, plain(x)]));
  if (v instanceof Vector) return [...v].map(plain);
  return v;
}

function column(columns: readonly ColumnSchema[], records: FlatRecord[], name: string): unknown[] {
  const batch = recordBatch(arrowSchema(columns), columns, records, 1);
  return [...batch.getChild(name)!].map(plain);
}

const GOOD = '{type=Role, arn=arn:aws:iam::1:role/r, tags=[a, b], attrs={k=v}}';
const OTHER = '{type=Root, arn=null, tags=[], attrs={}}';
const BAD = '{type=Role, region=us-east-1}'; // region is not a field: it falls back

describe('recordBatch on a nested column whose texts repeat', () => {
  const records: FlatRecord[] = [GOOD, OTHER, null, GOOD, BAD, GOOD, BAD, OTHER].map((text) => ({ userIdentity: text }));
  const good = { type: 'Role', arn: 'arn:aws:iam::1:role/r', tags: ['a', 'b'], attrs: [['k', 'v']] };
  const other = { type: 'Root', arn: null, tags: [], attrs: [] };

  it('gives every row its own slot, equal to reading its text alone', () => {
    const columns = [identity, unparsedColumn()];
    expect(column(columns, records, 'useridentity')).toEqual([good, other, null, good, null, good, null, other]);
    // Each row alone reads the same as in the batch.
    for (let i = 0; i < records.length; i++) expect(column(columns, [records[i]!], 'useridentity')[0]).toEqual([good, other, null, good, null, good, null, other][i]);
  });

  it('keeps the text of every row that does not read in its own fallback map', () => {
    const unparsed = column([identity, unparsedColumn()], records, 'ctlake_unparsed');
    expect(unparsed).toEqual([null, null, null, null, [['useridentity', BAD]], null, [['useridentity', BAD]], null]);
  });

  it('without a fallback column, fails at the first row whose text does not read', () => {
    let error: unknown;
    try {
      recordBatch(arrowSchema([identity]), [identity], records, 101);
    } catch (caught) {
      error = caught;
    }
    expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/^column userIdentity, row 105: /);
  });

  it('reads the same texts in different batches alike', () => {
    const columns = [identity, unparsedColumn()];
    const once = column(columns, records.slice(0, 4), 'useridentity');
    expect(column(columns, records.slice(0, 4), 'useridentity')).toEqual(once);
    expect(column(columns, [...records.slice(0, 4), ...records.slice(0, 4)], 'useridentity')).toEqual([...once, ...once]);
  });
});
