import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ColumnSet, firstName, flattenRow, looksGenerated, type QueryResultRow } from '../src/rows/flatten-row.js';
import { exportQuery } from '../src/export/export-query.js';
import { withEmulator } from './support/lake.js';
import { emulatorOptions } from './support/lake-rows.js';

/**
 * A literal column whose name equals a generated one (a real `arn_2` beside
 * two `arn` keys) must not make names depend on the row's shape: a key's
 * k-th occurrence always gets the same column, and no value lands in
 * another's column or is overwritten.
 */

/** Deterministic pseudo-random numbers, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const KEYS = ['arn', 'arn_2', 'arn_3', 'arn_2_1', 'arn_1', 'arn_2_2', 'arn_10', 'arn_02', '_2', '', '_1', 'x_2_1_1', '_col0'];

/** The (key, occurrence) of every cell of a row, in order. */
function occurrences(row: QueryResultRow): Array<[string, number]> {
  const seen = new Map<string, number>();
  const out: Array<[string, number]> = [];
  for (const cell of row) {
    for (const key of Object.keys(cell)) {
      const k = (seen.get(key) ?? 0) + 1;
      seen.set(key, k);
      out.push([key, k]);
    }
  }
  return out;
}

describe('generated names never collide with literal ones', () => {
  it('a literal arn_2 beside two arn keys maps the same way whatever the order', () => {
    const orders: QueryResultRow[] = [
      [{ arn: 'a' }, { arn: 'b' }, { arn_2: 'c' }],
      [{ arn_2: 'c' }, { arn: 'a' }, { arn: 'b' }],
      [{ arn: 'a' }, { arn_2: 'c' }, { arn: 'b' }],
    ];
    for (const row of orders) {
      expect(Object.fromEntries(flattenRow(row))).toEqual({ arn: 'a', arn_2: 'b', arn_2_1: 'c' });
    }
    const columns = new ColumnSet();
    for (const row of orders) {
      const record = columns.toRecord(row);
      expect(record).toEqual({ arn: 'a', arn_2: 'b', arn_2_1: 'c' });
    }
  });

  it('keeps ordinary names as they were: arn, arn_2, arn_3; arn_1, arn_02 and _col0 are not generated-looking', () => {
    expect(flattenRow([{ arn: '1' }, { arn: '2' }, { arn: '3' }]).map(([n]) => n)).toEqual(['arn', 'arn_2', 'arn_3']);
    for (const key of ['arn', 'arn_1', 'arn_02', '_col0', '_col12', 'a_b', '', '_', '_1', 'x_1_1', 'ipv4']) expect(firstName(key)).toBe(key);
    for (const key of ['arn_2', 'arn_9', 'arn_10', 'arn_2_1', 'arn_2_1_1', '_2', 'x__3']) expect(firstName(key)).toBe(`${key}_1`);
  });

  it('looksGenerated is exactly /_(?:[2-9]|[1-9][0-9]+)(?:_1)*$/ (a name of a repeat, possibly escaped)', () => {
    const rule = /_(?:[2-9]|[1-9][0-9]+)(?:_1)*$/;
    const next = random(7);
    const alphabet = ['_', '1', '2', '0', '9', 'a'];
    for (let i = 0; i < 20_000; i++) {
      let key = '';
      for (let n = Math.floor(next() * 8); n > 0; n--) key += alphabet[Math.floor(next() * alphabet.length)];
      expect(looksGenerated(key), key).toBe(rule.test(key));
    }
  });

  it('over random rows, every (key, occurrence) has one name, names are unique in a row, and ColumnSet agrees with flattenRow', () => {
    const next = random(42);
    const nameOf = new Map<string, string>();
    const ownerOf = new Map<string, string>();
    const columns = new ColumnSet();
    for (let r = 0; r < 2_000; r++) {
      const row: QueryResultRow = Array.from({ length: Math.floor(next() * 7) }, (_, c) => ({ [KEYS[Math.floor(next() * KEYS.length)]!]: `r${r}c${c}` }));
      const cells = flattenRow(row);
      const pairs = occurrences(row);
      expect(new Set(cells.map(([n]) => n)).size).toBe(cells.length);
      cells.forEach(([name, value], i) => {
        const pair = JSON.stringify(pairs[i]);
        expect(nameOf.get(pair) ?? name, pair).toBe(name);
        expect(ownerOf.get(name) ?? pair, name).toBe(pair);
        nameOf.set(pair, name);
        ownerOf.set(name, pair);
        expect(value).toBe(Object.values(row[i]!)[0]);
      });
      const record = columns.toRecord(row);
      expect(Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null))).toEqual(Object.fromEntries(cells));
    }
  });

  it('an export puts each value in its own column whatever the row order (NDJSON, library)', async () => {
    const emulator = await withEmulator();
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-generated-names-'));
    try {
      const queryId = emulator.addQuery({
        rows: [
          [{ arn: 'a1' }, { arn: 'b1' }, { arn_2: 'c1' }],
          [{ arn_2: 'c2' }, { arn: 'a2' }, { arn: 'b2' }],
          [{ arn: 'a3' }, { arn: 'b3' }],
        ],
      });
      const out = path.join(dir, 'out.ndjson');
      await exportQuery({ queryId, out, ...emulatorOptions(emulator) });
      expect(await readFile(out, 'utf8')).toBe(
        ['{"arn":"a1","arn_2":"b1","arn_2_1":"c1"}', '{"arn":"a2","arn_2":"b2","arn_2_1":"c2"}', '{"arn":"a3","arn_2":"b3","arn_2_1":null}', ''].join('\n'),
      );
    } finally {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
