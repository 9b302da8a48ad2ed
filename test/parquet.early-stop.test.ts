/**
 * encodeParquet and a reader that stops: parquet-wasm reads on to three
 * row groups and no further (docs/types-and-parquet.md states that bound), and a reader that leaves early gets the
 * source returned (its finally runs: an in-flight page ends, a lock is let
 * go), although parquet-wasm does not cancel its input itself.
 */
import { describe, expect, it } from 'vitest';
import { encodeParquet } from '../src/formats/parquet.js';
import type { FlatRecord } from '../src/rows/flatten-row.js';

describe('encodeParquet with a reader that stops', () => {
  it('reads a bounded way ahead, and returns the source when the reader leaves', async () => {
    const pulled = { n: 0 };
    let returned = false;
    async function* source(): AsyncGenerator<FlatRecord[]> {
      try {
        for (let i = 0; ; i++) {
          pulled.n++;
          yield Array.from({ length: 1_000 }, (_, k) => ({ a: `row ${i}-${k} `.repeat(10), n: String(k) }));
        }
      } finally {
        returned = true;
      }
    }
    const iterator = encodeParquet(source(), { compression: 'zstd', rowGroupRows: 5_000, typing: { columns: { n: 'int64' } }, metadata: () => ({}), createdBy: 'ctlake test' })[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    // The reader stops: wait until the source is no longer read.
    let seen = -1;
    for (let i = 0; i < 50 && pulled.n !== seen; i++) {
      seen = pulled.n;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // parquet-wasm reads on to three 5-batch row groups (15 batches, measured) and stops: never the whole unending source.
    expect(pulled.n).toBeLessThanOrEqual(16);
    expect(returned).toBe(false);
    await iterator.return!(undefined);
    for (let i = 0; i < 50 && !returned; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(returned).toBe(true);
  });
});
