/**
 * Issue 15's first "Done when", end to end: a store whose rare columns
 * (errorCode, sessionCredentialFromConsole, addendum, tlsDetails, ...) first
 * appear on day 3, exported with `SELECT *` through the built CLI by day and
 * by hour in many pages and parts, reads back in DuckDB with
 * `hive_partitioning = true` and no `union_by_name`: every row, every column,
 * every value, and one schema in every file. The values are checked against
 * Lake's own rows (raw NDJSON of the same query): each typed cell printed
 * back as Presto text (test/support/presto-render.ts) must equal Lake's
 * text, or be NULL with that exact text in `ctlake_unparsed`.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import type { Manifest } from '../src/dataset/manifest.js';
import { lakeSchema } from '../src/rows/lake-schema.js';
import { main } from '../src/cli/main.js';
import { runCli, type ProcessResult } from './support/cli-process.js';
import { duckdb, query } from './support/duckdb.js';
import { captureIO, emulatorEnv, parseNdjson } from './support/lake.js';
import { awkwardEvents, DAY_MS, LATE_KEYS, START_MS, writeTrailLog } from './support/awkward-events.js';
import { differences, type LakeRow } from './support/presto-render.js';

const EVENTS = 720; // ten an hour for three days: the third day starts at row 480
const PAGE = ['--page-size', '50'];
const COLUMNS = lakeSchema('cloudtrail-events').columns;

type Row = Record<string, unknown>;

/** `ctlake verify DIR` in-process: its exit code and stdout. */
async function verify(dir: string): Promise<{ code: number; stdout: string }> {
  const { io, stdout, stderr } = captureIO({});
  const code = await main(['verify', dir], io);
  return { code, stdout: stdout() + stderr() };
}

/** The dataset's rows, as DuckDB reads them the way the README says. */
const hiveRows = (db: DuckDBConnection, dir: string) =>
  query(db, `SELECT * FROM read_parquet('${dir}**/*.parquet', hive_partitioning = true) ORDER BY eventtime, eventid`);

/** Every data file's Parquet schema (all of parquet_schema's columns but the file name), by file. */
async function fileSchemas(db: DuckDBConnection, dir: string): Promise<Map<string, string>> {
  const rows = await query(db, `SELECT * FROM parquet_schema('${dir}**/*.parquet')`);
  const byFile = new Map<string, Row[]>();
  for (const { file_name: file, ...rest } of rows) {
    if (!byFile.has(file as string)) byFile.set(file as string, []);
    byFile.get(file as string)!.push(rest);
  }
  return new Map([...byFile].map(([file, schema]) => [file, JSON.stringify(schema, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))]));
}

describe('SELECT * over a store whose rare columns appear on day 3, by day and by hour', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let env: Record<string, string>;
  let sql: string;
  const events = awkwardEvents(EVENTS);
  const out = (name: string) => path.join(dir, name) + '/';
  let lake: Map<string, LakeRow>;
  const runs: Record<string, ProcessResult> = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-one-schema-'));
    emulator = await startEmulator({ events: [await writeTrailLog(path.join(dir, 'trail.json'), events)] });
    env = emulatorEnv(emulator);
    sql = `SELECT * FROM ${emulator.eventDataStoreId} ORDER BY eventTime`;
    db = await duckdb();
    const exports: Record<string, string[]> = {
      raw: ['--out', '-', ...PAGE],
      day: ['--out', out('day'), '--partition-by', 'eventTime:day', '--max-rows-per-file', '40', ...PAGE],
      hour: ['--out', out('hour'), '--partition-by', 'eventTime:hour', '--max-rows-per-file', '6', ...PAGE],
      region: ['--out', out('region'), '--partition-by', 'awsRegion', '--max-rows-per-file', '100', '--page-size', '100'],
      text: ['--out', out('text'), '--partition-by', 'eventTime:day', '--nested', 'text', '--max-rows-per-file', '100', ...PAGE],
    };
    await Promise.all(Object.entries(exports).map(async ([name, args]) => (runs[name] = await runCli(['export', '--sql', sql, ...args], env))));
    for (const [name, run] of Object.entries(runs)) expect(run.status, `${name}: ${run.stderr}`).toBe(0);
    lake = new Map(parseNdjson(runs.raw!.stdout).map((row) => [row.eventid!, row]));
  });
  afterAll(async () => {
    db?.closeSync();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has the rare columns only from day 3, in many pages and parts', async () => {
    expect(lake.size).toBe(EVENTS);
    const raw = [...lake.values()];
    const firstLate = raw.findIndex((row) => LATE_KEYS.some((key) => row[key.toLowerCase()] != null));
    expect(firstLate).toBe(480);
    for (const key of LATE_KEYS) expect(raw.filter((row) => row[key.toLowerCase()] != null).length, key).toBeGreaterThan(0);
    expect(runs.day!.stderr).toMatch(/720 rows, 15 pages, .* written to 18 files/);
    const hourFiles = (await readdir(out('hour'), { recursive: true })).filter((n) => n.endsWith('.parquet'));
    expect(hourFiles).toHaveLength(72 * 2);
  });

  it('reads back every row with hive_partitioning and no union_by_name, one schema in every file', async () => {
    const day = await fileSchemas(db, out('day'));
    const hour = await fileSchemas(db, out('hour'));
    const region = await fileSchemas(db, out('region'));
    expect(day.size).toBe(18);
    expect(new Set([...day.values(), ...hour.values(), ...region.values()]).size).toBe(1);
    expect(new Set((await fileSchemas(db, out('text'))).values()).size).toBe(1);
    // The first file of day 1 has every late column, typed.
    const types = Object.fromEntries(
      (await query(db, `DESCRIBE SELECT * FROM read_parquet('${out('day')}eventdate=2024-05-01/part-00000-*.parquet', hive_partitioning = false)`)).map((r) => [r.column_name, r.column_type]),
    );
    expect(types).toMatchObject({
      errorcode: 'VARCHAR',
      errormessage: 'VARCHAR',
      sessioncredentialfromconsole: 'VARCHAR',
      vpcendpointid: 'VARCHAR',
      addendum: 'MAP(VARCHAR, VARCHAR)',
      additionaleventdata: 'MAP(VARCHAR, VARCHAR)',
      tlsdetails: 'STRUCT(tlsversion VARCHAR, ciphersuite VARCHAR, clientprovidedhostheader VARCHAR)',
      eventtime: 'TIMESTAMP WITH TIME ZONE',
      readonly: 'BOOLEAN',
      ctlake_unparsed: 'MAP(VARCHAR, VARCHAR)',
    });
    expect(Object.keys(types)).toEqual([...COLUMNS.map((c) => c.name), 'ctlake_unparsed']);

    for (const name of ['day', 'hour', 'region', 'text']) {
      const [counts] = await query(
        db,
        `SELECT count(*)::INTEGER AS n, count(DISTINCT eventid)::INTEGER AS ids, count(errorcode)::INTEGER AS errors
         FROM read_parquet('${out(name)}**/*.parquet', hive_partitioning = true)`,
      );
      const errors = [...lake.values()].filter((row) => row.errorcode != null).length;
      expect(counts, name).toEqual({ n: EVENTS, ids: EVENTS, errors });
    }
  });

  it('types the time partitions: eventdate a DATE, eventhour an integer, both from eventtime in UTC', async () => {
    const describe = async (name: string) =>
      Object.fromEntries((await query(db, `DESCRIBE SELECT * FROM read_parquet('${out(name)}**/*.parquet', hive_partitioning = true)`)).map((r) => [r.column_name, r.column_type]));
    expect((await describe('day')).eventdate).toBe('DATE');
    const hour = await describe('hour');
    expect(hour.eventdate).toBe('DATE');
    expect(hour.eventhour).toBe('BIGINT');
    const wrong = await query(
      db,
      `SELECT eventid FROM read_parquet('${out('hour')}**/*.parquet', hive_partitioning = true)
       WHERE eventdate <> CAST(timezone('UTC', eventtime) AS DATE) OR eventhour <> hour(timezone('UTC', eventtime))`,
    );
    expect(wrong).toEqual([]);
    const days = await query(db, `SELECT DISTINCT CAST(eventdate AS VARCHAR) AS d FROM read_parquet('${out('day')}**/*.parquet', hive_partitioning = true) ORDER BY d`);
    expect(days.map((r) => r.d)).toEqual(['2024-05-01', '2024-05-02', '2024-05-03']);
  });

  it("gives back every value of every column as Lake's rows said, or its exact text in ctlake_unparsed", async () => {
    for (const name of ['day', 'hour', 'text']) {
      const rows = await hiveRows(db, out(name));
      expect(rows, name).toHaveLength(EVENTS);
      expect(differences(rows, lake, COLUMNS), name).toEqual([]);
    }
    // The typed export did take nested cells apart, and kept a few as text.
    const typed = await hiveRows(db, out('day'));
    expect(typed.filter((r) => r.useridentity !== null).length).toBeGreaterThan(EVENTS / 2);
    expect(typed.filter((r) => r.ctlake_unparsed !== null).length).toBeGreaterThan(0);
    // --nested text keeps Lake's text as it is: no cell needs the fallback.
    const text = await hiveRows(db, out('text'));
    expect(text.filter((r) => r.ctlake_unparsed !== null)).toEqual([]);
    expect(text.find((r) => r.eventid === typed[1]!.eventid)!.useridentity).toBe(lake.get(String(typed[1]!.eventid))!.useridentity);
  });

  it("holds the late columns' values as the events have them, by hour", async () => {
    const rows = await query(
      db,
      `SELECT eventid, errorcode, errormessage, sessioncredentialfromconsole AS console, vpcendpointid AS vpce,
         tlsdetails.tlsversion AS tls, tlsdetails.clientprovidedhostheader AS host,
         additionaleventdata['bytesTransferredIn'] AS bytes_in, addendum['reason'] AS reason, addendum['updatedFields'] AS updated
       FROM read_parquet('${out('hour')}**/*.parquet', hive_partitioning = true) ORDER BY eventid`,
    );
    const text = (value: unknown) => (value === undefined || value === null ? null : String(value));
    const nested = (value: unknown, key: string) => text((value as Record<string, unknown> | undefined)?.[key]);
    expect(rows).toEqual(
      events.map((e) => ({
        eventid: e.eventID,
        errorcode: text(e.errorCode),
        errormessage: text(e.errorMessage),
        console: text(e.sessionCredentialFromConsole),
        vpce: text(e.vpcEndpointId),
        tls: nested(e.tlsDetails, 'tlsVersion'),
        host: nested(e.tlsDetails, 'clientProvidedHostHeader'),
        bytes_in: nested(e.additionalEventData, 'bytesTransferredIn'),
        reason: nested(e.addendum, 'reason'),
        updated: null,
      })),
    );
  });

  it('never lets a partition key shadow a column: awsregion in the file, awsregion_part in the path', async () => {
    const rows = await query(
      db,
      `SELECT eventid, awsregion, awsregion_part FROM read_parquet('${out('region')}**/*.parquet', hive_partitioning = true)`,
    );
    expect(rows).toHaveLength(EVENTS);
    for (const row of rows) {
      const text = lake.get(row.eventid as string)!.awsregion ?? null;
      expect(row.awsregion).toBe(text);
      // Hive's default partition stands for a null and for the empty text alike.
      expect(row.awsregion_part, String(text)).toBe(text === '' ? null : text);
    }
    expect(rows.some((r) => r.awsregion === 'null')).toBe(true);
    expect(rows.some((r) => r.awsregion === null)).toBe(true);
    const folders = (await readdir(out('region'))).filter((n) => n.startsWith('awsregion_part=')).sort();
    expect(folders).toContain('awsregion_part=__HIVE_DEFAULT_PARTITION__');
    expect(folders).toContain('awsregion_part=%6Eull');
  });

  it('records the schema, its source, the store type and typed partitions in the manifest, and verify passes', async () => {
    const manifests: Record<string, Manifest> = {};
    for (const name of ['day', 'hour', 'region', 'text']) {
      manifests[name] = JSON.parse(await readFile(path.join(out(name), '_manifest.json'), 'utf8')) as Manifest;
      const verified = await verify(out(name));
      expect(verified.code, `${name}: ${verified.stdout}`).toBe(0);
    }
    const [day, hour, region, text] = [manifests.day!, manifests.hour!, manifests.region!, manifests.text!].map((m) => {
      expect(m.exports).toHaveLength(1);
      return m.exports[0]!;
    }) as [Manifest['exports'][number], Manifest['exports'][number], Manifest['exports'][number], Manifest['exports'][number]];
    for (const entry of [day, hour, region, text]) {
      expect(entry).toMatchObject({ sql, schemaSource: 'sql', storeType: 'cloudtrail-events', rows: EVENTS, totalResultsCount: EVENTS });
      expect(entry.files.reduce((n, f) => n + f.rows, 0)).toBe(EVENTS);
    }
    expect(day.schema!.map((c) => c.name)).toEqual([...COLUMNS.map((c) => c.name), 'ctlake_unparsed']);
    expect(day.schema!.find((c) => c.name === 'useridentity')).toMatchObject({ type: 'nested', lakeType: COLUMNS.find((c) => c.name === 'useridentity')!.typeText });
    expect(day.schema!.find((c) => c.name === 'eventtime')).toMatchObject({ type: 'timestamp' });
    expect(hour.schema).toEqual(day.schema);
    expect(region.schema).toEqual(day.schema);
    expect(text.schema).not.toEqual(day.schema);
    expect(day.partitions).toEqual([{ key: 'eventdate', column: 'eventtime', type: 'date' }]);
    expect(hour.partitions).toEqual([
      { key: 'eventdate', column: 'eventtime', type: 'date' },
      { key: 'eventhour', column: 'eventtime', type: 'int' },
    ]);
    expect(region.partitions).toEqual([{ key: 'awsregion_part', column: 'awsregion', type: 'string' }]);
    expect(hour.files.find((f) => f.path.startsWith('eventdate=2024-05-02/eventhour=13/'))!.partition).toEqual({ eventdate: '2024-05-02', eventhour: '13' });
    expect(hour.files.find((f) => f.path.startsWith('eventdate=2024-05-02/eventhour=5/'))!.partition).toEqual({ eventdate: '2024-05-02', eventhour: '5' });
    const byFolder = (folder: string) => region.files.filter((f) => f.path.startsWith(`${folder}/`)).map((f) => f.partition);
    expect(byFolder('awsregion_part=__HIVE_DEFAULT_PARTITION__')).toEqual([{ awsregion_part: null }]);
    expect(byFolder('awsregion_part=%6Eull')).toEqual([{ awsregion_part: 'null' }]);
    expect(JSON.stringify(manifests)).not.toContain('__HIVE_DEFAULT_PARTITION__"');
  });

  it('refuses a different select list into the same dataset with exit 9, naming the difference, and leaves it as it was', async () => {
    const snapshot = async () => {
      const names = (await readdir(out('day'), { recursive: true })).sort();
      const files = await Promise.all(
        names.map(async (n) => {
          const info = await stat(path.join(out('day'), n));
          if (!info.isFile()) return `${n}/`;
          return `${n} ${info.mtimeMs} ${createHash('sha256').update(await readFile(path.join(out('day'), n))).digest('hex')}`;
        }),
      );
      return { files, manifest: await readFile(path.join(out('day'), '_manifest.json'), 'utf8') };
    };
    const before = await snapshot();
    const other = `SELECT eventTime, eventName, errorCode FROM ${emulator.eventDataStoreId} ORDER BY eventTime`;
    const into = ['--out', out('day'), '--partition-by', 'eventTime:day', ...PAGE];
    const [fewer, text] = await Promise.all([runCli(['export', '--sql', other, ...into], env), runCli(['export', '--sql', sql, ...into, '--nested', 'text'], env)]);
    expect(fewer.status, fewer.stderr).toBe(9);
    expect(fewer.stderr).toMatch(/^ctlake: error: .*schema differs from the dataset's \(export .*\): column 1 is eventTime here and eventversion there; export into a new dataset folder/m);
    // The same select list with another nested mode is another schema too.
    expect(text.status, text.stderr).toBe(9);
    expect(text.stderr).toMatch(/^ctlake: error: .*schema differs from the dataset's \(export .*\): column useridentity is .* here and "struct<type:string,/m);
    expect(await snapshot()).toEqual(before);
    const verified = await verify(out('day'));
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/OK/);
  });
});

// The day boundaries the generator promises, which the partition checks lean on.
it('spreads the events over three UTC days', () => {
  const events = awkwardEvents(EVENTS);
  expect(Date.parse(String(events[479]!.eventTime))).toBeLessThan(START_MS + 2 * DAY_MS);
  expect(Date.parse(String(events[480]!.eventTime))).toBe(START_MS + 2 * DAY_MS);
  expect(Date.parse(String(events.at(-1)!.eventTime))).toBeLessThan(START_MS + 3 * DAY_MS);
});
