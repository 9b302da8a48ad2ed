import { mkdtemp, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import type { QueryResultRow } from '../src/rows/flatten-row.js';
import { main } from '../src/cli/main.js';
import { exportQuery } from '../src/export/export-query.js';
import type { Manifest } from '../src/dataset/manifest.js';
import { captureIO, emulatorEnv, withEmulator } from './support/lake.js';
import { duckdb, query } from './support/duckdb.js';
import { emulatorOptions, lakeRows } from './support/lake-rows.js';

/** The source rows as DuckDB returns them from a dataset, keyed for comparison. */
function expected(rows: QueryResultRow[]) {
  return rows.map((row) => {
    const cells = Object.assign({}, ...row) as Record<string, string>;
    return { eventID: cells.eventID!, seq: cells.seq!, awsRegion: cells.awsRegion!, eventName: cells.eventName!, errorCode: cells.errorCode ?? null, day: cells.eventTime!.slice(0, 10) };
  });
}

describe('export to a local dataset', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let queryId: string;
  const source = lakeRows(3000);
  beforeAll(async () => {
    emulator = await withEmulator();
    queryId = emulator.addQuery({ rows: source, sql: 'SELECT * FROM lake', bytesScanned: 123456 });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-dataset-'));
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('partitions by day, rolls files, and commits a manifest that adds up to TotalResultsCount', async () => {
    const out = path.join(dir, 'logins') + '/';
    const { io, stderr } = captureIO(emulatorEnv(emulator));
    const code = await main(['export', '--query-id', queryId, '--out', out, '--partition-by', 'eventTime:day', '--max-rows-per-file', '250', '--row-group-rows', '100'], io);
    expect(stderr()).toMatch(/3000 rows/);
    expect(code).toBe(0);
    const names = (await readdir(out, { recursive: true })).filter((n) => n.endsWith('.parquet')).sort();
    expect(names[0]).toBe(`eventdate=2024-05-01/part-00000-${queryId}.parquet`);
    // 600 rows a day, 250 a file: three parts a day.
    expect(names).toHaveLength(15);
    const manifest = JSON.parse(await readFile(path.join(out, '_manifest.json'), 'utf8')) as Manifest;
    const entry = manifest.exports[0]!;
    expect(entry.queryId).toBe(queryId);
    expect(entry.sql).toBe('SELECT * FROM lake');
    expect(entry.totalResultsCount).toBe(3000);
    expect(entry.files.reduce((n, f) => n + f.rows, 0)).toBe(3000);
    expect(entry.files.map((f) => f.path).sort()).toEqual(names);
    expect(entry.files[0]!.partition).toEqual({ eventdate: '2024-05-01' });
    expect(entry.schema?.map((c) => c.name)).toContain('eventTime');
    expect(await readFile(path.join(out, '_SUCCESS'), 'utf8')).toBe('');

    const rows = await query(
      db,
      `SELECT eventID, seq, awsRegion, eventName, errorCode, CAST(eventdate AS VARCHAR) AS day, strftime(eventTime AT TIME ZONE 'UTC', '%Y-%m-%d') AS fromTime
       FROM read_parquet('${out}**/*.parquet', hive_partitioning = true) ORDER BY CAST(seq AS INTEGER)`,
    );
    expect(rows.map((r) => r.day)).toEqual(rows.map((r) => r.fromTime));
    expect(rows.map(({ fromTime: _, ...r }) => r)).toEqual(expected(source));
  });

  it('writes a rerun to the same names, with no duplicates, and verify passes', async () => {
    const out = path.join(dir, 'rerun') + '/';
    const run = async (rowsPerFile: string) => {
      const { io } = captureIO(emulatorEnv(emulator));
      expect(await main(['export', '--query-id', queryId, '--out', out, '--format', 'ndjson', '--compression', 'gzip', '--partition-by', 'awsRegion', '--max-rows-per-file', rowsPerFile], io)).toBe(0);
      return (await readdir(out, { recursive: true })).filter((n) => n.includes('part-')).sort();
    };
    const first = await run('400');
    expect(first).toContain(`awsregion_part=eu-west-1/part-00000-${queryId}.ndjson.gz`);
    expect(first).toHaveLength(9);
    // A rerun that cuts fewer, larger files removes the parts it no longer writes.
    const second = await run('1000');
    expect(second).toHaveLength(3);
    const rows = await query(db, `SELECT count(*)::INTEGER AS n, count(DISTINCT eventID)::INTEGER AS ids FROM read_json('${out}**/*.ndjson.gz', hive_partitioning = true)`);
    expect(rows).toEqual([{ n: 3000, ids: 3000 }]);
    const { io, stdout } = captureIO({});
    expect(await main(['verify', out], io)).toBe(0);
    expect(stdout()).toMatch(/OK/);
  });

  it('keeps at most --max-open-files files open and still writes every row once', async () => {
    const out = path.join(dir, 'bounded') + '/';
    // Regions alternate row by row, so with two files open a third region always closes one.
    const summary = await exportQuery({ queryId, out, partitionBy: ['awsRegion'], maxOpenFiles: 2, format: 'ndjson', pageSize: 500, ...emulatorOptions(emulator) });
    expect(summary.rows).toBe(3000);
    expect(summary.files.length).toBeGreaterThan(3);
    const rows = await query(db, `SELECT count(*)::INTEGER AS n, count(DISTINCT seq)::INTEGER AS ids, count(DISTINCT awsregion)::INTEGER AS regions FROM read_json('${out}**/*.ndjson', hive_partitioning = true)`);
    expect(rows).toEqual([{ n: 3000, ids: 3000, regions: 3 }]);
    const seqs = await query(db, `SELECT seq FROM read_json('${out}awsregion_part=us-east-1/*.ndjson', filename = true) ORDER BY filename, CAST(seq AS INTEGER)`);
    // Within a partition, parts keep the rows in order: part-00000 first.
    expect(seqs.map((r) => Number(r.seq))).toEqual(source.map((_, i) => i).filter((i) => i % 3 === 0));
  });

  it('verify names a changed, a missing and an extra file, with exit code 5', async () => {
    const out = path.join(dir, 'tamper') + '/';
    await exportQuery({ queryId, out, partitionBy: ['eventTime:month'], format: 'ndjson', maxRowsPerFile: 1000, ...emulatorOptions(emulator) });
    const files = (await readdir(out, { recursive: true })).filter((n) => n.includes('part-')).sort();
    expect(files).toEqual([0, 1, 2].map((n) => `eventmonth=2024-05/part-0000${n}-${queryId}.ndjson`));
    await appendFile(path.join(out, files[0]!), '{"extra":"row"}\n');
    await rm(path.join(out, files[1]!));
    await writeFile(path.join(out, 'eventmonth=2024-05', 'stray.ndjson'), '{}\n');
    const { io, stdout, stderr } = captureIO({});
    expect(await main(['verify', out], io)).toBe(5);
    expect(stdout()).toContain(`${files[0]}: `);
    expect(stdout()).toContain(`${files[1]}: missing`);
    expect(stdout()).toContain('eventmonth=2024-05/stray.ndjson: not in the manifest');
    expect(stderr()).toMatch(/^ctlake: error: .*3 problems/m);
  });

  it('refuses a --partition-by column that the query does not have, leaving nothing (exit 2)', async () => {
    const out = path.join(dir, 'misspelt') + '/';
    const { io, stderr } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', out, '--partition-by', 'awsRegoin'], io)).toBe(2);
    expect(stderr()).toMatch(/^ctlake: error: --partition-by awsRegoin: the query has no column awsRegoin; its columns are eventTime, eventID, eventName, awsRegion, seq, errorCode$/m);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('leaves nothing, and no _SUCCESS, when the export is interrupted', async () => {
    const out = path.join(dir, 'interrupted') + '/';
    const controller = new AbortController();
    const slowId = emulator.addQuery({ rows: lakeRows(3000) });
    emulator.setFaults({ latencyMs: 30, operations: ['GetQueryResults'] });
    let pages = 0;
    const run = exportQuery({
      queryId: slowId,
      out,
      pageSize: 100,
      maxRowsPerFile: 100,
      partitionBy: ['eventTime:day'],
      signal: controller.signal,
      onPage: () => {
        if (++pages === 5) controller.abort();
      },
      ...emulatorOptions(emulator),
    });
    await expect(run).rejects.toMatchObject({ code: 'INTERRUPTED' });
    emulator.setFaults({});
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});

