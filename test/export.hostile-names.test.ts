import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import type { ColumnType } from '../src/rows/column-types.js';
import type { QueryResultRow } from '../src/rows/flatten-row.js';
import { exportQuery } from '../src/export/export-query.js';
import { isCtlakeError } from '../src/errors.js';
import type { Manifest } from '../src/dataset/manifest.js';
import { runCli } from './support/cli-process.js';
import { emulatorEnv, withEmulator } from './support/lake.js';
import { emulatorOptions } from './support/lake-rows.js';
import { duckdb } from './support/duckdb.js';

/**
 * Column names and partition values from the data are data (STYLE habit 12):
 * a column called `constructor`, `__proto__`, the empty string, `a/b`, a NUL
 * or 300 characters long goes through every output path (raw, typed and
 * gzipped NDJSON, Parquet, a partitioned dataset), through the library and
 * the built CLI, with its values where they belong. Every Parquet file is
 * read back by DuckDB, value by value, names as written included.
 */

const LONG = 'L'.repeat(300);
/** Source names, in row order, with the name each gets in a file (safeColumnNames). */
const NAMES: Array<[source: string, file: string]> = [
  ['eventTime', 'eventTime'],
  ['constructor', 'constructor'],
  ['toString', 'toString'],
  ['valueOf', 'valueOf'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['__proto__', '__proto__'],
  ['__defineGetter__', '__defineGetter__'],
  ['', '_'],
  ['a/b', 'a_b'],
  ['k=v', 'k_v'],
  ['x\u0000y', 'x_y'],
  [LONG, 'L'.repeat(255)],
  [`${LONG}!`, `${'L'.repeat(253)}_2`],
  ['Case', 'Case'],
  ['case', 'case_2'],
];

/** A cell as the wire carries it: JSON.parse keeps `__proto__` an own key, as the SDK's parser does. */
function cell(key: string, value: string): Record<string, string> {
  return JSON.parse(JSON.stringify({ [key]: value })) as Record<string, string>;
}

/** Row i: every name with a value of its own, except that odd rows leave out `toString` (null there). */
function row(i: number): QueryResultRow {
  return NAMES.filter(([source]) => !(i % 2 === 1 && source === 'toString')).map(([source], c) =>
    cell(source, source === 'eventTime' ? `2024-05-01 00:00:0${i}.000` : source === 'constructor' ? String(i * 10) : source === '__proto__' ? (i % 2 ? 'false' : 'true') : `v${i}.${c}`),
  );
}

const ROWS = [row(0), row(1), row(2)];

/** The value of `source` in row i, or null. */
function valueOf(i: number, source: string): string | null {
  for (const c of ROWS[i]!) if (Object.hasOwn(c, source)) return c[source]!;
  return null;
}

/** A JSON line with keys in order, built by hand: an object literal would drop `__proto__`. */
function line(entries: Array<[string, unknown]>): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${typeof v === 'bigint' ? String(v) : JSON.stringify(v)}`).join(',')}}`;
}

function rawLines(): string {
  return ROWS.map((_, i) => line(NAMES.map(([source]) => [source, valueOf(i, source)])) + '\n').join('');
}

/** `constructor` declared int64, `__proto__` boolean, so that a type table keyed by these names is exercised. */
function columns(): Record<string, ColumnType> {
  return JSON.parse('{"__proto__":"boolean","constructor":"int64"}') as Record<string, ColumnType>;
}

function typedValue(i: number, source: string): unknown {
  const text = valueOf(i, source);
  if (text === null) return null;
  if (source === 'eventTime') return `2024-05-01T00:00:0${i}.000Z`;
  if (source === 'constructor') return BigInt(text);
  if (source === '__proto__') return text === 'true';
  return text;
}

function typedLines(): string {
  return ROWS.map((_, i) => line(NAMES.map(([source, file]) => [file, typedValue(i, source)])) + '\n').join('');
}

/** Every file under `root`, relative, with `/` separators. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

async function readParquet(db: DuckDBConnection, file: string) {
  const reader = await db.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
  return { names: reader.columnNames(), rows: reader.getRowsJS() };
}

async function parquetColumnsMetadata(db: DuckDBConnection, file: string): Promise<Array<{ source: string; name: string; type: string }>> {
  const reader = await db.runAndReadAll(`SELECT decode(value) FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'ctlake.columns'`);
  return JSON.parse(reader.getRowsJS()[0]![0] as string) as Array<{ source: string; name: string; type: string }>;
}

describe('hostile column names (constructor, __proto__, empty, a/b, NUL, 300 characters, case twins)', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let queryId: string;
  beforeAll(async () => {
    emulator = await withEmulator();
    queryId = emulator.addQuery({ rows: ROWS });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-names-'));
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('raw NDJSON keeps every name and value as the service sent them (library)', async () => {
    const out = path.join(dir, 'raw.ndjson');
    await exportQuery({ queryId, out, ...emulatorOptions(emulator) });
    expect(await readFile(out, 'utf8')).toBe(rawLines());
  });

  it('NDJSON gzip holds the same bytes as raw NDJSON (library)', async () => {
    const out = path.join(dir, 'raw.ndjson.gz');
    await exportQuery({ queryId, out, ...emulatorOptions(emulator) });
    expect(gunzipSync(await readFile(out)).toString('utf8')).toBe(rawLines());
  });

  it('typed NDJSON is valid JSON with every value, --column types by these names applied (library)', async () => {
    const out = path.join(dir, 'typed.ndjson');
    await exportQuery({ queryId, out, types: 'typed', columns: columns(), ...emulatorOptions(emulator) });
    const text = await readFile(out, 'utf8');
    expect(text).toBe(typedLines());
    for (const l of text.trimEnd().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('typed NDJSON through the built CLI', async () => {
    const run = await runCli(['export', '--query-id', queryId, '--out', '-', '--types', 'typed', '--column', 'constructor:int64', '--column', 'hasOwnProperty:string'], emulatorEnv(emulator));
    expect(run.stderr).toMatch(/^ctlake: \d+ rows, 1 pages, [^\n]*\n$/);
    expect(run.status).toBe(0);
    const expected = ROWS.map((_, i) => line(NAMES.map(([source, file]) => [file, source === '__proto__' ? valueOf(i, source) : typedValue(i, source)])) + '\n').join('');
    expect(run.stdout).toBe(expected);
  });

  it('--column __proto__:boolean through the built CLI types the column named __proto__, not the options object', async () => {
    const run = await runCli(['export', '--query-id', queryId, '--out', '-', '--types', 'typed', '--column', 'constructor:int64', '--column', '__proto__:boolean'], emulatorEnv(emulator));
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(typedLines());
  });

  it('Parquet: DuckDB reads every name as written and every value; ctlake.columns keeps the source names (library)', async () => {
    const out = path.join(dir, 'names.parquet');
    // `valueOf` declared but also seen; `toString` declared and absent from the first row.
    await exportQuery({ queryId, out, columns: { ...columns(), valueOf: 'string' as const, toString: 'string' as const }, ...emulatorOptions(emulator) });
    const { names, rows } = await readParquet(db, out);
    expect(names).toEqual(NAMES.map(([, file]) => file));
    expect(rows).toHaveLength(ROWS.length);
    rows.forEach((r, i) => {
      NAMES.forEach(([source], c) => {
        const expected = typedValue(i, source);
        if (source === 'eventTime') expect((r[c] as Date).toISOString()).toBe(expected);
        else expect(r[c]).toEqual(expected);
      });
    });
    const meta = await parquetColumnsMetadata(db, out);
    expect(meta.map((m) => m.source)).toEqual(NAMES.map(([source]) => source));
    expect(meta.map((m) => m.name)).toEqual(NAMES.map(([, file]) => file));
    expect(meta.find((m) => m.source === 'constructor')?.type).toBe('int64');
    expect(meta.find((m) => m.source === '__proto__')?.type).toBe('boolean');
  });

  it('Parquet: a declared column named like an Object.prototype member that no row has is a column of nulls (library)', async () => {
    const out = path.join(dir, 'declared.parquet');
    const only = emulator.addQuery({ rows: [[{ a: '1' }], [{ a: '2' }]] });
    await exportQuery({ queryId: only, out, columns: { toString: 'int64' as const, hasOwnProperty: 'string' as const, __defineGetter__: 'boolean' as const }, ...emulatorOptions(emulator) });
    const { names, rows } = await readParquet(db, out);
    expect(names).toEqual(['a', 'toString', 'hasOwnProperty', '__defineGetter__']);
    expect(rows).toEqual([
      ['1', null, null, null],
      ['2', null, null, null],
    ]);
  });

  it('Parquet through the built CLI, read back by DuckDB', async () => {
    const out = path.join(dir, 'cli.parquet');
    const run = await runCli(['export', '--query-id', queryId, '--out', out, '--column', 'constructor:int64', '--column', 'toString:string'], emulatorEnv(emulator));
    expect(run.stderr).toMatch(/^ctlake: \d+ rows, 1 pages, [^\n]*\n$/);
    expect(run.status).toBe(0);
    const { names, rows } = await readParquet(db, out);
    expect(names).toEqual(NAMES.map(([, file]) => file));
    rows.forEach((r, i) => {
      NAMES.forEach(([source], c) => {
        const expected = source === '__proto__' ? valueOf(i, source) : typedValue(i, source);
        if (source === 'eventTime') expect((r[c] as Date).toISOString()).toBe(expected);
        else expect(r[c]).toEqual(expected);
      });
    });
  });
});

/** Partition values, each with the folder name it must get under `__proto___part=`. */
const PARTITIONS: Array<[value: string | null, folder: string]> = [
  ['a/b', 'a%2Fb'],
  ['k=v', 'k%3Dv'],
  ['..', '..'],
  ['.', '.'],
  ['', '__HIVE_DEFAULT_PARTITION__'],
  [null, '__HIVE_DEFAULT_PARTITION__'],
  ['x\u0000y', 'x%00y'],
  ['__HIVE_DEFAULT_PARTITION__', '%5F_HIVE_DEFAULT_PARTITION__'],
  ['null', '%6Eull'],
  ['NULL', '%4EULL'],
  ['%41', '%2541'],
  ['é/ü', 'é%2Fü'],
  ['W'.repeat(240), 'W'.repeat(240)],
];

describe('a dataset partitioned by a column named __proto__, with hostile values', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let queryId: string;
  const rows: QueryResultRow[] = PARTITIONS.map(([value], i) => [cell('seq', String(i)), ...(value === null ? [] : [cell('__proto__', value)]), cell('constructor', `c${i}`)]);
  beforeAll(async () => {
    emulator = await withEmulator();
    queryId = emulator.addQuery({ rows });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-partitions-'));
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Folders are exactly the Hive-escaped values, all one level under the root; DuckDB reads each value back. */
  async function checkDataset(root: string, ext: string): Promise<void> {
    const files = (await listFiles(root)).filter((f) => f !== '_manifest.json' && f !== '_SUCCESS');
    const folders = [...new Set(files.map((f) => f.slice(0, f.lastIndexOf('/'))))].sort();
    expect(folders).toEqual([...new Set(PARTITIONS.map(([, folder]) => `__proto___part=${folder}`))].sort());
    for (const f of files) {
      expect(path.resolve(root, f).startsWith(root)).toBe(true);
      expect(f.split('/')).toHaveLength(2);
    }
    const reader = await db.runAndReadAll(
      `SELECT seq, "__proto__" AS p, "constructor" AS c FROM ${ext === 'parquet' ? 'read_parquet' : 'read_json'}('${root}**/*.${ext}', hive_partitioning = true, hive_types_autocast = false) ORDER BY CAST(seq AS INTEGER)`,
    );
    // The key is __proto___part, so the file's own column comes back, empty text and all: no folder shadows it.
    expect(reader.getRowsJS()).toEqual(PARTITIONS.map(([value], i) => [String(i), value, `c${i}`]));
    const manifest = JSON.parse(await readFile(path.join(root, '_manifest.json'), 'utf8')) as Manifest;
    // One file per folder; the manifest keeps each value unescaped, and null for Hive's default partition.
    const listed = manifest.exports[0]!.files;
    expect(listed).toHaveLength(folders.length);
    for (const f of listed) {
      const folder = f.path.slice('__proto___part='.length, f.path.indexOf('/'));
      expect(Object.hasOwn(f.partition, '__proto___part')).toBe(true);
      expect(f.partition['__proto___part']).toBe(folder === '__HIVE_DEFAULT_PARTITION__' ? null : decodeURIComponent(folder));
    }
  }

  it('Parquet (library): values escaped as Hive escapes them, null-looking text escaped, every path inside the root', async () => {
    const root = path.join(dir, 'parquet') + '/';
    await exportQuery({ queryId, out: root, partitionBy: ['__proto__'], maxOpenFiles: 3, ...emulatorOptions(emulator) });
    await checkDataset(root, 'parquet');
  });

  it('NDJSON through the built CLI', async () => {
    const root = path.join(dir, 'ndjson') + '/';
    const run = await runCli(['export', '--query-id', queryId, '--out', root, '--format', 'ndjson', '--partition-by', '__proto__'], emulatorEnv(emulator));
    expect(run.stderr).toMatch(/^ctlake: \d+ rows, 1 pages, [^\n]*\n$/);
    expect(run.status).toBe(0);
    await checkDataset(root, 'ndjson');
  });

  it('a value too long for a folder name fails with VALUE_INVALID, exit 1, naming the column, and leaves nothing', async () => {
    const long = emulator.addQuery({ rows: [[cell('constructor', 'x'.repeat(300))]] });
    const root = path.join(dir, 'long') + '/';
    const error = await exportQuery({ queryId: long, out: root, partitionBy: ['constructor'], ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/^column constructor: "x{80}"\.\.\. \(300 characters\) makes a folder name of 317 bytes, more than the 255 a file system allows; choose another partitionBy$/);
    expect(await listFiles(root).catch(() => [])).toEqual([]);
    const run = await runCli(['export', '--query-id', long, '--out', root, '--partition-by', 'constructor'], emulatorEnv(emulator));
    expect(run.status).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('makes a folder name of 317 bytes');
  });
});
