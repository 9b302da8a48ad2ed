import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { exportQuery } from '../src/export/export-query.js';
import type { Manifest } from '../src/dataset/manifest.js';
import { captureIO, emulatorEnv, parseNdjson, withEmulator } from './support/lake.js';
import { duckdb, query } from './support/duckdb.js';
import { startS3, type TestS3 } from './support/s3.js';
import { emulatorOptions, lakeRows } from './support/lake-rows.js';

const MIB = 1024 * 1024;

describe('export to S3', () => {
  let emulator: Emulator;
  let s3: TestS3;
  let db: DuckDBConnection;
  let dir: string;
  let queryId: string;
  let bigId: string;
  const source = lakeRows(3000);
  // About 9 MiB of NDJSON: two 5 MiB parts, so a real multipart upload.
  const big = lakeRows(60_000);
  beforeAll(async () => {
    emulator = await withEmulator();
    s3 = await startS3();
    queryId = emulator.addQuery({ rows: source, sql: 'SELECT * FROM lake' });
    bigId = emulator.addQuery({ rows: big.map((row) => [...row, { padding: 'p'.repeat(100) }]) });
    db = await duckdb();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-s3-test-'));
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => s3.failWhen(undefined));

  const cli = (args: string[]) => {
    const captured = captureIO({ ...emulatorEnv(emulator), AWS_ENDPOINT_URL_S3: s3.url });
    return { ...captured, run: () => main(['export', '--s3-force-path-style', ...args], captured.io) };
  };

  /** Downloads every object under a prefix into a local folder, for DuckDB to read. */
  const download = async (prefix: string) => {
    const local = path.join(dir, prefix);
    for (const key of await s3.keys(prefix)) {
      await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
      await writeFile(path.join(dir, key), await s3.get(key));
    }
    return local;
  };

  it('writes one Parquet object that DuckDB reads back value by value', async () => {
    const { run, stderr } = cli(['--query-id', queryId, '--out', `s3://${s3.bucket}/audit/events.parquet`]);
    expect(await run()).toBe(0);
    expect(stderr()).toMatch(/3000 rows/);
    expect(await s3.keys()).toEqual(['audit/events.parquet']);
    const local = await download('audit/');
    const rows = await query(db, `SELECT eventID, seq, awsRegion, errorCode, strftime(eventTime AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g') AS t FROM '${local}/events.parquet' ORDER BY CAST(seq AS INTEGER)`);
    expect(rows).toEqual(
      source.map((row) => {
        const c = Object.assign({}, ...row) as Record<string, string>;
        return { eventID: c.eventID, seq: c.seq, awsRegion: c.awsRegion, errorCode: c.errorCode ?? null, t: c.eventTime };
      }),
    );
  });

  it('streams a large object as a multipart upload, with --sse and --storage-class', async () => {
    const { run } = cli(['--query-id', bigId, '--out', `s3://${s3.bucket}/big/events.ndjson.gz`, '--compression', 'none', '--s3-part-size', '5MiB', '--s3-queue-size', '2', '--sse', 'AES256', '--storage-class', 'STANDARD_IA']);
    expect(await run()).toBe(0);
    const parts = s3.requests.filter((r) => r.method === 'PUT' && /partNumber=/.test(r.url));
    expect(parts.length).toBeGreaterThanOrEqual(2);
    const text = (await s3.get('big/events.ndjson.gz')).toString('utf8');
    expect(text.length).toBeGreaterThan(5 * MIB);
    const seqs = parseNdjson(text).map((r) => Number(r.seq));
    expect(seqs).toEqual(big.map((_, i) => i));
  });

  it('leaves no object and aborts the multipart upload when S3 fails in the middle', async () => {
    // Part 2 fails every time: the SDK's retries run out and the export fails.
    s3.failWhen((r) => r.method === 'PUT' && /partNumber=2(&|$)/.test(r.url));
    const { run, stderr, stdout } = cli(['--query-id', bigId, '--out', `s3://${s3.bucket}/broken/events.ndjson`, '--s3-part-size', '5MiB']);
    expect(await run()).toBe(1);
    expect(stderr()).toMatch(/^ctlake: error: cannot write s3:\/\/lake\/broken\/events\.ndjson: InternalError .*; rerun/m);
    expect(stderr().trim().split('\n').filter((l) => l.includes('error'))).toHaveLength(1);
    expect(stdout()).toBe('');
    expect(await s3.keys('broken/')).toEqual([]);
    const started = s3.requests.find((r) => r.method === 'POST' && r.url.startsWith('/lake/broken/events.ndjson?uploads'));
    expect(started).toBeDefined();
    expect(s3.requests.some((r) => r.method === 'DELETE' && r.url.startsWith('/lake/broken/events.ndjson?uploadId='))).toBe(true);
    s3.failWhen(undefined);
    // A rerun then succeeds.
    expect(await cli(['--query-id', bigId, '--out', `s3://${s3.bucket}/broken/events.ndjson`, '--s3-part-size', '5MiB']).run()).toBe(0);
    expect(await s3.keys('broken/')).toEqual(['broken/events.ndjson']);
  });

  it('fails at once, before any query starts, when the bucket does not exist', async () => {
    const before = emulator.requests.length;
    const { run, stderr } = cli(['--sql', 'SELECT 1', '--out', 's3://no-such-bucket/x.parquet']);
    expect(await run()).toBe(1);
    expect(stderr()).toMatch(/^ctlake: error: cannot write s3:\/\/no-such-bucket\/: NoSuchBucket .*; check the bucket name in --out$/m);
    expect(emulator.requests.slice(before).map((r) => r.operation)).not.toContain('StartQuery');
  });

  it('writes a partitioned dataset with manifest and _SUCCESS last, read back by DuckDB, and verify passes', async () => {
    const prefix = 'lake/logins/';
    const { run } = cli(['--query-id', queryId, '--out', `s3://${s3.bucket}/${prefix}`, '--partition-by', 'eventTime:day', '--max-rows-per-file', '1000']);
    const from = s3.requests.length;
    expect(await run()).toBe(0);
    const keys = await s3.keys(prefix);
    expect(keys).toContain(`${prefix}eventdate=2024-05-03/part-00000-${queryId}.parquet`);
    expect(keys.slice(0, 2)).toEqual([`${prefix}_SUCCESS`, `${prefix}_manifest.json`]);
    // Data files first, then the manifest, then _SUCCESS.
    const puts = s3.requests.slice(from).filter((r) => r.method === 'PUT' || (r.method === 'POST' && r.url.includes('uploadId'))).map((r) => r.url.replace(/\?.*$/, ''));
    expect(puts.at(-1)).toMatch(/_SUCCESS$/);
    expect(puts.at(-2)).toMatch(/_manifest\.json$/);
    const manifest = JSON.parse((await s3.get(`${prefix}_manifest.json`)).toString('utf8')) as Manifest;
    expect(manifest.exports[0]!.files.reduce((n, f) => n + f.rows, 0)).toBe(manifest.exports[0]!.totalResultsCount);
    const local = await download(prefix);
    const rows = await query(db, `SELECT seq, eventID, CAST(eventdate AS VARCHAR) AS d FROM read_parquet('${local}**/*.parquet', hive_partitioning = true) ORDER BY CAST(seq AS INTEGER)`);
    expect(rows).toEqual(source.map((row) => {
      const c = Object.assign({}, ...row) as Record<string, string>;
      return { seq: c.seq, eventID: c.eventID, d: c.eventTime!.slice(0, 10) };
    }));
    const verify = captureIO({ AWS_ENDPOINT_URL_S3: s3.url, AWS_REGION: 'us-east-1' });
    expect(await main(['verify', `s3://${s3.bucket}/${prefix}`, '--s3-force-path-style'], verify.io)).toBe(0);
    expect(verify.stdout()).toMatch(/^OK s3:\/\/lake\/lake\/logins\/: 1 exports, 5 files, 3000 rows/);
  });

  it('leaves no object and no _SUCCESS when a dataset upload fails in the middle', async () => {
    const prefix = 'lake/failed/';
    let puts = 0;
    // The third data file's upload fails; two files were already complete.
    s3.failWhen((r) => r.method === 'PUT' && r.url.includes('/failed/') && r.url.includes('part-') && ++puts >= 3);
    const summary = exportQuery({
      queryId,
      out: `s3://${s3.bucket}/${prefix}`,
      partitionBy: ['eventTime:day'],
      s3Client: s3.client,
      ...emulatorOptions(emulator),
    });
    await expect(summary).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
    s3.failWhen(undefined);
    expect(await s3.keys(prefix)).toEqual([]);
  });

  it('removes the data files when the manifest cannot be written', async () => {
    const prefix = 'lake/no-manifest/';
    s3.failWhen((r) => r.method === 'PUT' && r.url.includes(`${prefix}_manifest.json`));
    const run = exportQuery({ queryId, out: `s3://${s3.bucket}/${prefix}`, partitionBy: ['awsRegion'], s3Client: s3.client, ...emulatorOptions(emulator) });
    await expect(run).rejects.toMatchObject({ code: 'DESTINATION_FAILED', message: expect.stringMatching(/_manifest\.json: InternalError/) });
    s3.failWhen(undefined);
    expect(await s3.keys(prefix)).toEqual([]);
  });

  it('reads gzip NDJSON datasets from S3 too', async () => {
    const prefix = 'lake/ndjson/';
    expect(await cli(['--query-id', queryId, '--out', `s3://${s3.bucket}/${prefix}`, '--format', 'ndjson', '--compression', 'gzip', '--partition-by', 'awsRegion']).run()).toBe(0);
    const key = `${prefix}awsregion_part=eu-west-1/part-00000-${queryId}.ndjson.gz`;
    const rows = parseNdjson(gunzipSync(await s3.get(key)).toString('utf8'));
    expect(rows).toHaveLength(1000);
    expect(rows.every((r) => r.awsRegion === 'eu-west-1')).toBe(true);
  });
});
