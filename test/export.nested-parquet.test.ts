/**
 * Typed nested columns (STRUCT, MAP, LIST) written through the real Parquet
 * pipeline (encodeParquet → parquet-wasm, dictionary encoding and statistics
 * on) and read back value by value by an independent reader, DuckDB.
 *
 * readNested is another module's work: here it is the JSON stand-in of
 * test/support/nested-stand-in.ts, so each cell states in JSON the exact
 * value expected back.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { isCtlakeError } from '../src/errors.js';
import { encodeParquet, type ParquetOptions } from '../src/formats/parquet.js';
import type { FlatRecord } from '../src/rows/flatten-row.js';
import { parseLakeType, type LakeType } from '../src/rows/lake-type.js';
import { buildSchema, type ColumnSchema } from '../src/rows/schema.js';
import { UNPARSED_COLUMN_SOURCE, unparsedColumn } from '../src/rows/unparsed-column.js';
import { duckdb, query } from './support/duckdb.js';

vi.mock('../src/rows/nested-value.js', async () => await import('./support/nested-stand-in.js'));

const USER_IDENTITY = parseLakeType(
  'struct<type:string,principalid:string,arn:string,sessioncontext:struct<attributes:struct<creationdate:timestamp,mfaauthenticated:string>,sessionissuer:struct<type:string,arn:string,username:string>>>',
);
const REQUEST_PARAMETERS = parseLakeType('map<string,string>');
const RESOURCES = parseLakeType('array<struct<accountid:string,type:string,arn:string>>');
const DEEP = parseLakeType('map<string,array<map<string,int>>>');
const PRIMS = parseLakeType('struct<t:tinyint,s:smallint,i:int,b:bigint,f:float,d:double,ts:timestamp,dt:date,bo:boolean,bin:binary>');
const ODD = parseLakeType('struct<__proto__:string,constructor:array<string>>');

const nested = (source: string, name: string, lakeType: LakeType): ColumnSchema => ({ source, name, type: 'nested', lakeType });
const fallback = (column: ColumnSchema): ColumnSchema => Object.assign(column, { fallback: true });

const COLUMNS: ColumnSchema[] = [
  { source: 'eventName', name: 'eventName', type: 'string' },
  { source: 'eventTime', name: 'eventTime', type: 'timestamp' },
  nested('userIdentity', 'useridentity', USER_IDENTITY),
  nested('requestParameters', 'requestparameters', REQUEST_PARAMETERS),
  nested('resources', 'resources', RESOURCES),
  nested('deep', 'deep', DEEP),
  nested('prims', 'prims', PRIMS),
  nested('odd', 'odd', ODD),
  fallback({ source: 'n', name: 'n', type: 'int64' }),
  unparsedColumn(),
];

const UNICODE = 'Zoë 🚀 日本語 \u0000 "q" \\';

/** Row i's cells, as JSON the stand-in reads; every shape at every depth comes round. */
function record(i: number): FlatRecord {
  const k = i % 12;
  const identity =
    k === 0
      ? null
      : k === 1
        ? { type: 'Root' } // sessioncontext absent: null
        : k === 2
          ? { type: 'AssumedRole', sessioncontext: { attributes: null, sessionissuer: null } }
          : k === 3
            ? { type: 'AssumedRole', sessioncontext: { sessionissuer: { type: 'Role', arn: null } } }
            : {
                type: k === 7 ? UNICODE : 'AssumedRole',
                principalid: `AROA${i}:s`,
                arn: `arn:aws:sts::123456789012:assumed-role/r/s${i}`,
                sessioncontext: {
                  attributes: { creationdate: new Date(Date.UTC(2024, 4, 1 + (i % 28), 12, 34, 56, i % 1000)).toISOString(), mfaauthenticated: i % 2 ? 'true' : 'false' },
                  sessionissuer: { type: 'Role', arn: `arn:aws:iam::123456789012:role/r${i}`, username: `r${i}` },
                },
              };
  const params =
    k === 0 ? null : k === 1 ? [] : k === 4 ? [['__proto__', 'p'], ['constructor', 'c'], ['', 'empty key'], [UNICODE, UNICODE], ['Zoë 🚀', '日本語'], ['nullValue', null]] : [['bucketName', `bucket-${i}`], ['key', `k/${i}`]];
  const resources = k === 0 ? null : k === 1 ? [] : k === 5 ? [null, { arn: null }] : Array.from({ length: 1 + (i % 3) }, (_, j) => ({ accountid: '123456789012', type: 'AWS::S3::Object', arn: `arn:aws:s3:::b/${i}/${j}` }));
  const deep = k === 0 ? null : k === 6 ? [['a', null], ['b', []], ['c', [null, [], [['x', null]]]]] : [['m', [[['one', 1]], [['two', 2], ['min', -2147483648]]]]];
  const prims =
    k === 0
      ? null
      : k === 8
        ? { t: -128, s: -32768, i: -2147483648, b: '-9223372036854775808', f: -0.5, d: -1e300, ts: '1970-01-01T00:00:00.000Z', dt: '1970-01-01', bo: false, bin: '' }
        : k === 9
          ? {}
          : { t: 127, s: 32767, i: 2147483647, b: '9223372036854775807', f: 1.5, d: i + 0.25, ts: '2024-02-29T23:59:59.999Z', dt: '2024-02-29', bo: true, bin: `b${i}` };
  const odd = k === 10 ? { __proto__: 'p', constructor: ['c', null] } : null;
  return {
    eventName: i % 2 ? 'AssumeRole' : 'GetObject',
    eventTime: `2024-05-01 00:00:${String(i % 60).padStart(2, '0')}.000`,
    userIdentity: identity === null ? null : JSON.stringify(identity),
    requestParameters: params === null ? null : JSON.stringify(params),
    resources: resources === null ? null : JSON.stringify(resources),
    deep: deep === null ? null : JSON.stringify(deep),
    prims: prims === null ? null : JSON.stringify(prims),
    // JSON.stringify of a literal's `__proto__` would drop it: written out.
    odd: odd === null ? null : '{"__proto__":"p","constructor":["c",null]}',
    n: String(i),
  };
}

/** What DuckDB's getRowObjectsJS gives back for a cell of `type` written as `json`: maps as [{key, value}], times as Date, bigint for BIGINT. */
function expected(json: unknown, type: LakeType): unknown {
  if (json === null || json === undefined) return null;
  switch (type.kind) {
    case 'struct': {
      const given = json as Record<string, unknown>;
      return Object.fromEntries(type.fields.map((f) => [f.name, Object.hasOwn(given, f.name) ? expected(given[f.name], f.type) : null]));
    }
    case 'map':
      return (json as Array<[string, unknown]>).map(([key, value]) => ({ key, value: expected(value, type.value) }));
    case 'array':
      return (json as unknown[]).map((e) => expected(e, type.element));
    case 'bigint':
      return BigInt(json as string);
    case 'timestamp':
    case 'date':
      return new Date((json as string).length === 10 ? `${json as string}T00:00:00Z` : (json as string));
    default:
      return json;
  }
}

async function* pages(records: readonly FlatRecord[], size: number): AsyncGenerator<FlatRecord[]> {
  for (let at = 0; at < records.length; at += size) yield records.slice(at, at + size).map((r) => ({ ...r }));
}

function options(schema: readonly ColumnSchema[] | undefined, rowGroupRows = 64): ParquetOptions {
  return { compression: 'zstd', rowGroupRows, typing: {}, schema: schema && (() => schema), metadata: () => ({ 'ctlake.test': 'nested' }), createdBy: 'ctlake test' };
}

async function bytesOf(records: readonly FlatRecord[], schema: readonly ColumnSchema[] | undefined, pageSize = 100): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of encodeParquet(pages(records, pageSize), options(schema))) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function failureOf(records: readonly FlatRecord[], schema: readonly ColumnSchema[]): Promise<unknown> {
  try {
    await bytesOf(records, schema);
  } catch (error) {
    return error;
  }
  throw new Error('the export did not fail');
}

const ROWS = 250;

describe('typed nested columns in Parquet', () => {
  let dir: string;
  let db: DuckDBConnection;
  let file: string;
  const records = Array.from({ length: ROWS }, (_, i) => record(i));
  // Two cells that do not read (nested) and one that does not parse (a scalar marked fallback).
  records[20] = { ...records[20]!, userIdentity: '{type=Root, arn=unreadable}' };
  records[21] = { ...records[21]!, requestParameters: '{bucketName=a, b}', n: 'twelve' };
  records[22] = { ...records[22]!, prims: `{"t": 128}` };
  const FELL_BACK = new Map<number, Array<{ key: string; value: string }>>([
    [20, [{ key: 'useridentity', value: '{type=Root, arn=unreadable}' }]],
    [21, [{ key: 'requestparameters', value: '{bucketName=a, b}' }, { key: 'n', value: 'twelve' }]],
    [22, [{ key: 'prims', value: '{"t": 128}' }]],
  ]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-nested-'));
    db = await duckdb();
    file = path.join(dir, 'nested.parquet');
    await writeFile(file, await bytesOf(records, COLUMNS));
  });
  afterAll(async () => {
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes STRUCT, MAP and LIST columns that DuckDB reads back value by value, over pages and row groups', async () => {
    const read = await query(db, `SELECT * EXCLUDE (odd) FROM read_parquet('${file}')`);
    expect(read).toHaveLength(ROWS);
    read.forEach((r, i) => {
      const cells = records[i]!;
      const fell = FELL_BACK.get(i);
      const cell = (source: string, type: LakeType) => (fell?.some((f) => f.value === cells[source]) ? null : expected(cells[source] === null ? null : JSON.parse(cells[source]!), type));
      expect(r.eventName).toBe(cells.eventName);
      expect((r.eventTime as Date).getTime()).toBe(Date.parse(`${cells.eventTime!.replace(' ', 'T')}Z`));
      expect(r.useridentity).toEqual(cell('userIdentity', USER_IDENTITY));
      expect(r.requestparameters).toEqual(cell('requestParameters', REQUEST_PARAMETERS));
      expect(r.resources).toEqual(cell('resources', RESOURCES));
      expect(r.deep).toEqual(cell('deep', DEEP));
      expect(r.prims).toEqual(cell('prims', PRIMS));
      expect(r.n).toBe(i === 21 ? null : BigInt(i));
      expect(r.ctlake_unparsed).toEqual(fell ?? null);
    });
  });

  it('reaches into them with DuckDB paths: struct fields, map subscripts, list indexes and lengths, at every depth', async () => {
    const read = await query(
      db,
      `SELECT useridentity.sessioncontext.sessionissuer.arn AS issuer,
              useridentity.sessioncontext IS NULL AS no_context,
              epoch_ms(useridentity.sessioncontext.attributes.creationdate) AS created,
              strftime(useridentity.sessioncontext.attributes.creationdate AT TIME ZONE 'UTC', '%H:%M:%S') AS created_utc,
              requestparameters['bucketName'] AS bucket,
              requestparameters['__proto__'] AS proto, requestparameters['constructor'] AS ctor,
              requestparameters['Zoë 🚀'] AS unicode, requestparameters['nullValue'] IS NULL AS null_value,
              cardinality(requestparameters) AS params,
              resources[1].arn AS first_arn, len(resources) AS resource_count,
              deep['m'][2]['min'] AS deep_min, len(deep['c']) AS deep_c,
              prims.b AS b, prims.dt AS dt
       FROM read_parquet('${file}')`,
    );
    read.forEach((r, i) => {
      const k = i % 12;
      const full = k >= 4 && i !== 20;
      expect(r.issuer).toBe(full ? `arn:aws:iam::123456789012:role/r${i}` : null);
      // A field of a null struct is null, at any depth.
      expect(r.no_context).toBe(k === 0 || k === 1 || i === 20);
      expect(r.created).toBe(full ? BigInt(Date.UTC(2024, 4, 1 + (i % 28), 12, 34, 56, i % 1000)) : null);
      expect(r.created_utc).toBe(full ? '12:34:56' : null);
      // DuckDB 1.5: a map subscript gives the value (NULL for a missing key), not a list.
      expect(r.bucket).toBe(k === 0 || k === 1 || k === 4 || i === 21 ? null : `bucket-${i}`);
      expect([r.proto, r.ctor, r.unicode]).toEqual(k === 4 ? ['p', 'c', '日本語'] : [null, null, null]);
      expect(r.null_value).toBe(true);
      // An empty map is not a null map.
      expect(r.params).toBe(k === 0 || i === 21 ? null : k === 1 ? 0n : k === 4 ? 6n : 2n);
      // An empty list is not a null list; a null element is not a null list.
      expect(r.resource_count).toBe(k === 0 ? null : k === 1 ? 0n : k === 5 ? 2n : BigInt(1 + (i % 3)));
      expect(r.first_arn).toBe(k === 0 || k === 1 || k === 5 ? null : `arn:aws:s3:::b/${i}/0`);
      expect(r.deep_min).toBe(k === 0 || k === 6 ? null : -2147483648);
      expect(r.deep_c).toBe(k === 6 ? 3n : null);
    });
    const odd = await query(db, `SELECT odd."__proto__" AS p, odd."constructor" AS c FROM read_parquet('${file}') WHERE odd IS NOT NULL`);
    expect(odd).toEqual(Array.from({ length: records.filter((_, i) => i % 12 === 10).length }, () => ({ p: 'p', c: ['c', null] })));
    const limits = await query(db, `SELECT prims.t AS t, prims.s AS s, prims.i AS i, prims.b AS b, prims.d AS d, prims.dt::VARCHAR AS dt FROM read_parquet('${file}') WHERE eventName = 'GetObject' AND prims.bo = false LIMIT 1`);
    expect(limits).toEqual([{ t: -128, s: -32768, i: -2147483648, b: -(2n ** 63n), d: -1e300, dt: '1970-01-01' }]);
  });

  it('keeps the text of every cell that did not fit in the fallback map, NULL where none did', async () => {
    const read = await query(db, `SELECT file_row_number AS i, ctlake_unparsed['n'] AS n, map_keys(ctlake_unparsed) AS columns FROM read_parquet('${file}', file_row_number = true) WHERE ctlake_unparsed IS NOT NULL`);
    expect(read).toEqual([
      { i: 20n, n: null, columns: ['useridentity'] },
      { i: 21n, n: 'twelve', columns: ['requestparameters', 'n'] },
      { i: 22n, n: null, columns: ['prims'] },
    ]);
  });

  it('writes the Parquet shapes that Athena, Spark, DuckDB and polars read: MAP with entries key and value, LIST list.element, logical types', async () => {
    const schema = await query(db, `SELECT name, type, repetition_type AS rep, converted_type AS conv, logical_type AS logical FROM parquet_schema('${file}')`);
    const byPath = schema.map((r) => [r.name, r.type ?? r.conv ?? null, r.rep, r.logical]);
    const at = (name: string, from = 0) => byPath.findIndex((r, i) => i >= from && r[0] === name);
    const ui = at('useridentity');
    expect(byPath[ui]).toEqual(['useridentity', null, 'OPTIONAL', null]);
    const rp = at('requestparameters');
    expect(byPath.slice(rp, rp + 4)).toEqual([
      ['requestparameters', 'MAP', 'OPTIONAL', 'MapType()'],
      ['entries', null, 'REPEATED', null],
      ['key', 'BYTE_ARRAY', 'REQUIRED', 'StringType()'],
      ['value', 'BYTE_ARRAY', 'OPTIONAL', 'StringType()'],
    ]);
    const rs = at('resources');
    expect(byPath.slice(rs, rs + 3)).toEqual([
      ['resources', 'LIST', 'OPTIONAL', 'ListType()'],
      ['list', null, 'REPEATED', null],
      ['element', null, 'OPTIONAL', null],
    ]);
    const prims = at('prims');
    const leaf = (name: string) => schema[at(name, prims)]!;
    expect(leaf('t')).toMatchObject({ type: 'INT32', conv: 'INT_8' });
    expect(leaf('s')).toMatchObject({ type: 'INT32', conv: 'INT_16' });
    expect(leaf('i')).toMatchObject({ type: 'INT32' });
    expect(leaf('b')).toMatchObject({ type: 'INT64' });
    expect(leaf('f')).toMatchObject({ type: 'FLOAT' });
    expect(leaf('d')).toMatchObject({ type: 'DOUBLE' });
    expect(leaf('ts')).toMatchObject({ type: 'INT64', conv: 'TIMESTAMP_MILLIS' });
    expect(leaf('ts').logical).toMatch(/isAdjustedToUTC=1/);
    expect(leaf('dt')).toMatchObject({ type: 'INT32', conv: 'DATE', logical: 'DateType()' });
    expect(leaf('bin')).toMatchObject({ type: 'BYTE_ARRAY', conv: 'UTF8' });
    const types = Object.fromEntries((await query(db, `DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => [r.column_name, r.column_type]));
    expect(types).toMatchObject({
      useridentity:
        'STRUCT("type" VARCHAR, principalid VARCHAR, arn VARCHAR, sessioncontext STRUCT(attributes STRUCT(creationdate TIMESTAMP WITH TIME ZONE, mfaauthenticated VARCHAR), sessionissuer STRUCT("type" VARCHAR, arn VARCHAR, username VARCHAR)))',
      requestparameters: 'MAP(VARCHAR, VARCHAR)',
      resources: 'STRUCT(accountid VARCHAR, "type" VARCHAR, arn VARCHAR)[]',
      deep: 'MAP(VARCHAR, MAP(VARCHAR, INTEGER)[])',
      prims: 'STRUCT(t TINYINT, s SMALLINT, i INTEGER, b BIGINT, f FLOAT, d DOUBLE, ts TIMESTAMP WITH TIME ZONE, dt DATE, bo BOOLEAN, bin VARCHAR)',
      ctlake_unparsed: 'MAP(VARCHAR, VARCHAR)',
    });
  });

  it('dictionary-encodes nested leaves and gives them statistics', async () => {
    const meta = await query(db, `SELECT path_in_schema AS p, encodings AS e, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata('${file}') WHERE row_group_id = 0`);
    const leaf = (p: string) => meta.find((m) => m.p === p)!;
    expect(await query(db, `SELECT count(DISTINCT row_group_id) AS groups FROM parquet_metadata('${file}')`)).toEqual([{ groups: 4n }]);
    expect(leaf('useridentity, sessioncontext, sessionissuer, arn').e).toMatch(/RLE_DICTIONARY/);
    expect(leaf('requestparameters, entries, key')).toMatchObject({ lo: '', hi: 'nullValue' });
    expect(leaf('resources, list, element, arn').e).toMatch(/RLE_DICTIONARY/);
    // Row group 0 holds rows 0 to 63; of each 12 rows, the first 4 have no issuer, and row 20 fell back.
    const full = Array.from({ length: 64 }, (_, i) => i).filter((i) => i % 12 >= 4 && i !== 20);
    const created = full.map((i) => Date.UTC(2024, 4, 1 + (i % 28), 12, 34, 56, i % 1000)).sort((a, b) => a - b);
    const shown = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '+00');
    expect(leaf('useridentity, sessioncontext, attributes, creationdate')).toMatchObject({ lo: shown(created[0]!), hi: shown(created.at(-1)!) });
    expect(leaf('prims, t')).toMatchObject({ lo: '-128', hi: '127' });
    expect(leaf('useridentity, sessioncontext, sessionissuer, arn').nulls).toBe(BigInt(64 - full.length));
  });

  it('without a fallback column, a cell that does not read fails with VALUE_INVALID naming the column, row and value', async () => {
    const error = await failureOf(records.slice(0, 30), COLUMNS.filter((c) => c.name !== 'ctlake_unparsed'));
    expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/^column userIdentity, row 21: "\{type=Root, arn=unreadable\}" is not readable as struct<type:string,/);
    expect((error as Error).message).toMatch(/; export it as text with --column userIdentity:string$/);
  });

  it('a scalar column not marked fallback fails as before, fallback column or not', async () => {
    const plain = COLUMNS.map((c) => (c.name === 'n' ? { source: 'n', name: 'n', type: 'int64' as const } : c));
    const error = await failureOf([record(0), { ...record(1), n: 'twelve' }], plain);
    expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
    expect((error as Error).message).toBe('column n, row 2: "twelve" is not a whole number; export it as text with --column n:string');
  });

  it('refuses a lone surrogate at any depth, map keys and fallback texts included, naming the column and row', async () => {
    const cases: Array<[string, string, string]> = [
      ['userIdentity', JSON.stringify({ sessioncontext: { sessionissuer: { arn: 'a\ud800' } } }), 'userIdentity'],
      ['requestParameters', JSON.stringify([['k\udc00', 'v']]), 'requestParameters'],
      ['requestParameters', '{not read\ud800}', 'requestParameters'],
    ];
    for (const [source, text, column] of cases) {
      const error = await failureOf([record(4), { ...record(5), [source]: text }], COLUMNS);
      expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`^column ${column}, row 2: .* holds a lone UTF-16 surrogate`));
    }
  });

  it('fails with SCHEMA_CHANGED on a column the fixed schema lacks, at the row it first appears', async () => {
    const error = await failureOf([record(0), record(1), { ...record(2), extra: 'x' }], COLUMNS);
    expect(isCtlakeError(error, 'SCHEMA_CHANGED')).toBe(true);
    expect((error as Error).message).toMatch(/^column extra first appears at row 3, but the schema was fixed by the query's select list/);
  });

  it('writes row groups where a nested column is all null, and a file of no rows, that DuckDB reads', async () => {
    const nulls = Array.from({ length: 70 }, (_, i): FlatRecord => (i < 65 ? { eventName: `e${i}`, userIdentity: null, requestParameters: null, resources: null } : record(i)));
    const some = path.join(dir, 'nulls.parquet');
    await writeFile(some, await bytesOf(nulls, COLUMNS, 30));
    const read = await query(db, `SELECT count(*) AS n, count(useridentity) AS ui, count(requestparameters) AS rp, count(resources) AS rs, count(ctlake_unparsed) AS fell FROM read_parquet('${some}')`);
    expect(read).toEqual([{ n: 70n, ui: 5n, rp: 5n, rs: 5n, fell: 0n }]);
    const none = path.join(dir, 'none.parquet');
    await writeFile(none, await bytesOf([], COLUMNS));
    expect(await query(db, `SELECT count(*) AS n FROM read_parquet('${none}')`)).toEqual([{ n: 0n }]);
    expect((await query(db, `DESCRIBE SELECT * FROM read_parquet('${none}')`)).map((r) => r.column_type)).toContain('MAP(VARCHAR, VARCHAR)');
  });

  it('treats a Lake column that spells the fallback column\'s source as data: an ordinary column, or one the fixed schema lacks', async () => {
    const hostile = [{ eventName: 'e', [UNPARSED_COLUMN_SOURCE]: 'not a fallback' }];
    const plain = path.join(dir, 'hostile.parquet');
    await writeFile(plain, await bytesOf(hostile, undefined));
    expect(await query(db, `SELECT * FROM read_parquet('${plain}')`)).toEqual([{ eventName: 'e', _ctlake_unparsed: 'not a fallback' }]);
    const error = await failureOf([{ ...record(0), [UNPARSED_COLUMN_SOURCE]: 'x' }], COLUMNS);
    expect(isCtlakeError(error, 'SCHEMA_CHANGED')).toBe(true);
    expect((error as Error).message).toMatch(/^column "\\u0000ctlake_unparsed" first appears at row 1, but the schema was fixed/);
  });

  it('writes the same bytes for flat columns whether the schema is given or built from the first page', async () => {
    const flat = Array.from({ length: 300 }, (_, i): FlatRecord => ({ eventTime: `2024-05-01 00:00:0${i % 10}.000`, eventName: `e${i % 7}`, readOnly: i % 2 ? 'true' : 'false', other: i % 5 ? `o${i}` : null }));
    const built = buildSchema(Object.keys(flat[0]!), {});
    expect(built.map((c) => c.type)).toEqual(['timestamp', 'string', 'boolean', 'string']);
    const [given, fromFirstPage] = await Promise.all([bytesOf(flat, built), bytesOf(flat, undefined)]);
    expect(given.equals(fromFirstPage)).toBe(true);
  });
});
