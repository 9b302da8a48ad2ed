/**
 * Parquet's WebAssembly writer on a writer thread (parquetThread 'worker',
 * the default) against the same writer on the export's thread ('main'): the
 * same file, read back by DuckDB value by value; the source's own error,
 * unchanged; a reader that stops early or never reads; and a process that
 * ends by itself with its writer thread idle.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { isCtlakeError } from '../src/errors.js';
import { encodeParquet, type ParquetOptions, type ParquetThread } from '../src/formats/parquet.js';
import { workerFlags } from '../src/formats/parquet-writer-pool.js';
import type { FlatRecord } from '../src/rows/flatten-row.js';
import { duckdb, query } from './support/duckdb.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function options(thread: ParquetThread, rowGroupRows = 250): ParquetOptions {
  return {
    compression: 'zstd',
    rowGroupRows,
    typing: { columns: { n: 'int64' } },
    metadata: () => ({ 'ctlake.test': 'writer thread', 'ctlake.query_id': 'q' }),
    createdBy: 'ctlake test',
    thread,
  };
}

function record(i: number): FlatRecord {
  const cells: FlatRecord = {
    eventTime: `2024-01-${String((i % 28) + 1).padStart(2, '0')} 12:00:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}`,
    eventName: i % 7 === 0 ? null : `Name${i % 13} Zoë 🚀 "q" \\`,
    n: String(i * 1_000_003 - 7),
  };
  // A column named __proto__ is data (defined, as ColumnSet defines it: assigned, it would set the prototype).
  Object.defineProperty(cells, '__proto__', { value: `proto ${i}`, writable: true, enumerable: true, configurable: true });
  return cells;
}

async function* pages(count: number, pageSize: number, pulled?: { n: number }): AsyncGenerator<FlatRecord[]> {
  for (let start = 0; start < count; start += pageSize) {
    if (pulled) pulled.n++;
    yield Array.from({ length: Math.min(pageSize, count - start) }, (_, k) => record(start + k));
  }
}

async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return Buffer.concat(out);
}

let dir: string;
let db: DuckDBConnection;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ctlake-writer-thread-'));
  db = await duckdb();
});

afterAll(async () => {
  db.closeSync();
  await rm(dir, { recursive: true, force: true });
});

describe('Parquet writer thread', () => {
  it('writes the file the one-thread writer writes: every value, the schema and the footer metadata', async () => {
    const files: Record<ParquetThread, string> = { worker: path.join(dir, 'worker.parquet'), main: path.join(dir, 'main.parquet') };
    for (const thread of ['worker', 'main'] as const) await writeFile(files[thread], await bytesOf(encodeParquet(pages(2_000, 300), options(thread))));
    const rows = async (file: string) => query(db, `SELECT eventTime::VARCHAR AS t, eventName, n, "__proto__" AS p FROM read_parquet('${file}') ORDER BY n`);
    const worker = await rows(files.worker);
    expect(worker).toHaveLength(2_000);
    expect(worker).toEqual(await rows(files.main));
    expect(worker.find((r) => r.n === 999_996n)).toEqual({ t: '2024-01-02 12:00:01.001+00', eventName: 'Name1 Zoë 🚀 "q" \\', n: 999_996n, p: 'proto 1' });
    const schema = async (file: string) => query(db, `SELECT name, type, logical_type FROM parquet_schema('${file}') ORDER BY name`);
    expect(await schema(files.worker)).toEqual(await schema(files.main));
    const metadata = async (file: string) => (await query(db, `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}') ORDER BY k`)).filter((r) => String(r.k).startsWith('ctlake.'));
    expect(await metadata(files.worker)).toEqual([
      { k: 'ctlake.query_id', v: 'q' },
      { k: 'ctlake.test', v: 'writer thread' },
    ]);
    expect(await metadata(files.main)).toEqual(await metadata(files.worker));
    const groups = async (file: string) => query(db, `SELECT row_group_id, row_group_num_rows AS n FROM parquet_metadata('${file}') GROUP BY ALL ORDER BY row_group_id`);
    expect((await groups(files.worker)).map((g) => g.n)).toEqual(Array.from({ length: 8 }, () => 250n));
  });

  it('writes a file of no rows with its schema', async () => {
    const file = path.join(dir, 'empty.parquet');
    await writeFile(file, await bytesOf(encodeParquet(pages(0, 10), { ...options('worker'), typing: { columns: { n: 'int64', eventName: 'string' } } })));
    expect(await query(db, `SELECT count(*) AS c FROM read_parquet('${file}')`)).toEqual([{ c: 0n }]);
  });

  it("ends with the source's own error, and the thread writes the next file", async () => {
    const failure = new Error('the page source failed');
    async function* failing(): AsyncGenerator<FlatRecord[]> {
      yield* pages(600, 300);
      throw failure;
    }
    await expect(bytesOf(encodeParquet(failing(), options('worker')))).rejects.toBe(failure);
    const late = async function* (): AsyncGenerator<FlatRecord[]> {
      yield [{ a: '1' }];
      yield [{ a: '2', b: 'late' }];
    };
    const error = await bytesOf(encodeParquet(late(), { ...options('worker'), typing: {} })).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'SCHEMA_CHANGED')).toBe(true);
    expect((error as Error).message).toContain('column b first appears at row 2');
    const file = path.join(dir, 'after.parquet');
    await writeFile(file, await bytesOf(encodeParquet(pages(100, 30), options('worker'))));
    expect(await query(db, `SELECT count(*) AS c, sum(n) AS s FROM read_parquet('${file}')`)).toEqual([{ c: 100n, s: BigInt(Array.from({ length: 100 }, (_, i) => i * 1_000_003 - 7).reduce((a, b) => a + b, 0)) }]);
  });

  it('reads no further ahead of a reader that stops than the one-thread writer, and returns the source when the reader leaves', async () => {
    const aheadOf = async (thread: ParquetThread): Promise<{ pulled: number; returned: () => boolean }> => {
      const pulled = { n: 0 };
      let returned = false;
      async function* counted(): AsyncGenerator<FlatRecord[]> {
        try {
          for (let i = 0; ; i++) {
            pulled.n++;
            yield Array.from({ length: 1_000 }, (_, k) => ({ a: `row ${i}-${k} `.repeat(10), n: String(k) }));
          }
        } finally {
          returned = true;
        }
      }
      const iterator = encodeParquet(counted(), { ...options(thread, 5_000), typing: { columns: { n: 'int64' } } })[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      // The reader stops: wait until the source is no longer read.
      let seen = -1;
      for (let i = 0; i < 50 && pulled.n !== seen; i++) {
        seen = pulled.n;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const ahead = pulled.n;
      await iterator.return!(undefined);
      for (let i = 0; i < 50 && !returned; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      return { pulled: ahead, returned: () => returned };
    };
    const main = await aheadOf('main');
    const worker = await aheadOf('worker');
    // parquet-wasm reads a few row groups ahead of its reader; the thread adds at most the batch it holds, the next, and the one being built.
    expect(main.pulled).toBeLessThan(100);
    expect(worker.pulled).toBeLessThanOrEqual(main.pulled + 3);
    expect({ main: main.returned(), worker: worker.returned() }).toEqual({ main: true, worker: true });
  });

  it('lets a process end by itself with its writer thread idle', () => {
    const script = `
      import { encodeParquet } from './dist/formats/parquet.js';
      let bytes = 0;
      async function* batches() { yield [{ a: 'x' }, { a: 'y' }]; }
      for await (const chunk of encodeParquet(batches(), { compression: 'zstd', rowGroupRows: 10, typing: {}, metadata: () => ({}), createdBy: 't', thread: 'worker' })) bytes += chunk.length;
      process.stderr.write('bytes ' + bytes + '\\n');
    `;
    // --input-type and -e, which a worker thread refuses to inherit, and --expose-gc, which it refuses to be given.
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(child.error).toBeUndefined();
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('');
    expect(child.stderr).toMatch(/^bytes \d+\n$/);
  });

  it("gives the thread the process's flags but those that name the main script's source", () => {
    expect(workerFlags(['--expose-gc', '--input-type=module', '-e', 'code', '--import', 'hook.mjs'])).toEqual(['--expose-gc', '--import', 'hook.mjs']);
    expect(workerFlags(['--input-type', 'module', '--print', '1', '-p', '2', '--eval=3', '--cpu-prof'])).toEqual(['--cpu-prof']);
    expect(workerFlags(['--max-old-space-size=4096'])).toEqual(['--max-old-space-size=4096']);
  });
});
