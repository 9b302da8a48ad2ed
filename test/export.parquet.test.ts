import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import type { QueryResultRow } from '../src/rows/flatten-row.js';
import { main } from '../src/cli/main.js';
import { exportQuery } from '../src/export/export-query.js';
import { captureIO, emulatorEnv, withEmulator } from './support/lake.js';
import { duckdb, parquetTypes, query } from './support/duckdb.js';

const BIG = 'x'.repeat(64 * 1024);
/** The rows' select list; the store `x` is unknown to the emulator, so the columns are typed by name. */
const SQL = 'SELECT eventTime, eventName, readOnly, userIdentity.arn, userIdentity.sessionContext.sessionIssuer.arn, n, userIdentity, errorCode, managementEvent FROM x';
const UNICODE = 'Zoë 🚀 日本語 \u0000 "quoted" \\ back';

/** 2,500 CloudTrail-like rows: every typed field, nulls as absent keys, two arn, a 64 KiB value and unicode. */
function rows(): QueryResultRow[] {
  return Array.from({ length: 2500 }, (_, i): QueryResultRow => {
    const row: Array<Record<string, string>> = [
      { eventTime: `2024-05-${String(1 + (i % 28)).padStart(2, '0')} 12:34:56.${String(i % 1000).padStart(3, '0')}` },
      { eventName: i % 2 ? 'AssumeRole' : 'ConsoleLogin' },
      { readOnly: i % 3 === 0 ? 'true' : 'false' },
      { arn: `arn:aws:iam::123456789012:user/u${i}` },
      { arn: `arn:aws:iam::123456789012:role/r${i}` },
      { n: String(i * 1_000_000_007) },
      { userIdentity: `{type=IAMUser, arn=arn:aws:iam::123456789012:user/u${i}, sessioncontext={attributes={mfaauthenticated=true}}}` },
    ];
    if (i % 10 !== 0) row.push({ errorCode: i === 7 ? UNICODE : i === 9 ? BIG : 'AccessDenied' });
    else row.push({ errorCode: 'null' });
    if (i % 4 === 0) row.push({ managementEvent: 'true' });
    return row;
  });
}

describe('export to Parquet', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let queryId: string;
  const source = rows();
  beforeAll(async () => {
    emulator = await withEmulator();
    queryId = emulator.addQuery({ rows: source, sql: SQL });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-parquet-'));
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
  });

  it('writes typed columns that DuckDB reads value by value', async () => {
    const file = path.join(dir, 'events.parquet');
    const { io, stderr } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', file, '--column', 'n:int64', '--row-group-rows', '1000'], io)).toBe(0);
    expect(stderr()).toMatch(/2500 rows, 3 pages/);
    expect(await parquetTypes(db, file)).toEqual({
      eventTime: 'TIMESTAMP WITH TIME ZONE',
      eventName: 'VARCHAR',
      readOnly: 'BOOLEAN',
      arn: 'VARCHAR',
      arn_2: 'VARCHAR',
      n: 'BIGINT',
      userIdentity: 'VARCHAR',
      errorCode: 'VARCHAR',
      managementEvent: 'BOOLEAN',
    });
    const read = await query(db, `SELECT epoch_ms(eventTime) AS t, * EXCLUDE (eventTime) FROM read_parquet('${file}')`);
    expect(read).toHaveLength(2500);
    read.forEach((r, i) => {
      const cells = Object.assign({}, ...source[i]!.filter((c) => !('arn' in c))) as Record<string, string>;
      expect(Number(r.t)).toBe(Date.parse(cells.eventTime!.replace(' ', 'T') + 'Z'));
      expect(r.eventName).toBe(cells.eventName);
      expect(r.readOnly).toBe(cells.readOnly === 'true');
      expect(r.arn).toBe(`arn:aws:iam::123456789012:user/u${i}`);
      expect(r.arn_2).toBe(`arn:aws:iam::123456789012:role/r${i}`);
      expect(r.n).toBe(BigInt(i) * 1_000_000_007n);
      expect(r.userIdentity).toBe(cells.userIdentity);
      expect(r.errorCode).toBe(cells.errorCode);
      expect(r.managementEvent).toBe(cells.managementEvent === undefined ? null : true);
    });
    const [meta] = await query(db, `SELECT count(DISTINCT row_group_id)::INTEGER AS groups, min(compression) AS codec FROM parquet_metadata('${file}')`);
    expect(meta).toEqual({ groups: 3, codec: 'ZSTD' });
    const kv = await query(db, `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${file}')`);
    const map = Object.fromEntries(kv.map((r) => [r.key, r.value]));
    expect(map['ctlake.query_id']).toBe(queryId);
    expect(map['ctlake.sql']).toBe(SQL);
    expect(JSON.parse(map['ctlake.columns'] as string)).toContainEqual({ source: 'arn', name: 'arn', type: 'string' });
    expect(await readdir(dir)).toEqual(['events.parquet']);
  });

  it('gives the same schema, byte for byte, on every run', async () => {
    const a = path.join(dir, 'a.parquet');
    const b = path.join(dir, 'b.parquet');
    for (const out of [a, b]) await exportQuery({ queryId, out, endpointUrl: emulator.url, region: 'us-east-1', columns: { n: 'int64' } });
    const schemaOf = async (file: string) => JSON.stringify(await query(db, `SELECT name, type, logical_type, converted_type, repetition_type FROM parquet_schema('${file}')`));
    expect(await schemaOf(a)).toBe(await schemaOf(b));
    expect((await readFile(a)).length).toBe((await readFile(b)).length);
  });

  it('writes Presto struct text as JSON with --nested json', async () => {
    const file = path.join(dir, 'nested.parquet');
    const summary = await exportQuery({ queryId, out: file, endpointUrl: emulator.url, region: 'us-east-1', nested: 'json' });
    expect(summary.schema?.find((c) => c.source === 'userIdentity')?.type).toBe('json');
    const [row] = await query(db, `SELECT userIdentity::JSON->>'$.sessioncontext.attributes.mfaauthenticated' AS mfa, userIdentity::JSON->>'$.type' AS type FROM read_parquet('${file}') LIMIT 1`);
    expect(row).toEqual({ mfa: 'true', type: 'IAMUser' });
  });

  it('fails with exit 1, naming the column, row and value, and leaves no file when a value does not fit', async () => {
    const file = path.join(dir, 'bad.parquet');
    const { io, stderr } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', file, '--column', 'eventName:int64'], io)).toBe(1);
    expect(stderr()).toBe('ctlake: error: column eventName, row 1: "ConsoleLogin" is not a whole number; export it as text with --column eventName:string\n');
    expect(await readdir(dir)).not.toContain('bad.parquet');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('fails on a column that appears after the schema is fixed, and a declared column fixes it', async () => {
    const late = emulator.addQuery({ rows: [...Array.from({ length: 5 }, (): QueryResultRow => [{ a: '1' }]), [{ a: '2' }, { b: 'late' }]] });
    const file = path.join(dir, 'late.parquet');
    const error = (await exportQuery({ queryId: late, out: file, pageSize: 5, endpointUrl: emulator.url, region: 'us-east-1' }).catch((e: Error) => e)) as Error;
    expect(error.message).toBe('column b first appears at row 6, but the schema was fixed by the first page; declare it up front with --column b:string (or its type), or export raw NDJSON');
    expect(await readdir(dir)).not.toContain('late.parquet');
    await exportQuery({ queryId: late, out: file, pageSize: 5, endpointUrl: emulator.url, region: 'us-east-1', columns: { b: 'string' } });
    expect(await query(db, `SELECT a, b FROM read_parquet('${file}') ORDER BY a`)).toEqual([
      ...Array.from({ length: 5 }, () => ({ a: '1', b: null })),
      { a: '2', b: 'late' },
    ]);
  });

  it('writes typed NDJSON from the same schema', async () => {
    const { io, stdout } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', '-', '--types', 'typed', '--column', 'n:int64', '--nested', 'json'], io)).toBe(0);
    const lines = stdout().trim().split('\n');
    expect(lines).toHaveLength(2500);
    expect(lines[3]).toBe(
      '{"eventTime":"2024-05-04T12:34:56.003Z","eventName":"AssumeRole","readOnly":true,"arn":"arn:aws:iam::123456789012:user/u3","arn_2":"arn:aws:iam::123456789012:role/r3",' +
        '"n":3000000021,"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/u3","sessioncontext":{"attributes":{"mfaauthenticated":"true"}}},"errorCode":"AccessDenied","managementEvent":null}',
    );
    expect(JSON.parse(lines[7]!).errorCode).toBe(UNICODE);
  });
});
