import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import { exportQuery } from '../src/export/export-query.js';
import { footerRows } from '../src/formats/parquet-footer.js';
import { duckdb, query } from './support/duckdb.js';
import { withEmulator } from './support/lake.js';
import { emulatorOptions, lakeRows } from './support/lake-rows.js';

describe('Parquet footer row count', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let file: string;
  let bytes: Buffer;
  beforeAll(async () => {
    emulator = await withEmulator();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-footer-'));
    db = await duckdb();
    const queryId = emulator.addQuery({ rows: lakeRows(5000) });
    file = path.join(dir, 'x.parquet');
    // Many small row groups: a footer with many entries, and page indexes far from the end.
    await exportQuery({ queryId, out: file, rowGroupRows: 100, ...emulatorOptions(emulator) });
    bytes = await readFile(file);
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads num_rows from the footer alone, as DuckDB reads it from the whole file', async () => {
    const [meta] = await query(db, `SELECT num_rows::INTEGER AS n, num_row_groups::INTEGER AS groups FROM parquet_file_metadata('${file}')`);
    expect(meta).toEqual({ n: 5000, groups: 50 });
    expect(footerRows([bytes])).toBe(5000);
    // Only the footer and its 8-byte trailer, split across chunks: the page indexes are not in them.
    const length = bytes.readUInt32LE(bytes.length - 8);
    const tail = bytes.subarray(bytes.length - length - 8);
    expect(footerRows([tail.subarray(0, 7), tail.subarray(7, 100), tail.subarray(100)])).toBe(5000);
  });

  it('refuses what is not a whole footer', () => {
    expect(() => footerRows([bytes.subarray(0, bytes.length - 1)])).toThrow(/no PAR1 at the end/);
    expect(() => footerRows([bytes.subarray(bytes.length - 100)])).toThrow(/not within the bytes read/);
  });
});
