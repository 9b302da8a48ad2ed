import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import type { QueryResultRow } from '../src/rows/flatten-row.js';
import { exportQuery } from '../src/export/export-query.js';
import { isCtlakeError } from '../src/errors.js';
import { runCli } from './support/cli-process.js';
import { emulatorEnv, withEmulator } from './support/lake.js';
import { emulatorOptions } from './support/lake-rows.js';
import { duckdb } from './support/duckdb.js';

/**
 * Lossless means never silently changed. Lake's JSON wire can carry a lone
 * UTF-16 surrogate (`"\ud800"`), which no UTF-8 encoder can write: it comes
 * out as U+FFFD. NDJSON keeps it (JSON escapes it); Parquet cannot, so the
 * export fails with VALUE_INVALID naming the column, the row and the fix,
 * and commits nothing. Text that is merely not ASCII (a pair, U+FFFD itself)
 * is written exactly.
 */

const LONE = '\ud800';
const TEXTS = ['plain', 'é ü €', 'pair \ud83d\ude00 ok', 'replacement \ufffd is a real character', `${'x'.repeat(20)}\udc00 trailing low`, `a${LONE}b`];

describe('lone surrogates', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  beforeAll(async () => {
    emulator = await withEmulator();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-surrogates-'));
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('raw and typed NDJSON keep a lone surrogate exactly (JSON escapes it)', async () => {
    const queryId = emulator.addQuery({ rows: TEXTS.map((text) => [{ s: text }]) });
    for (const types of ['raw', 'typed'] as const) {
      const out = path.join(dir, `${types}.ndjson`);
      await exportQuery({ queryId, out, types, ...emulatorOptions(emulator) });
      const text = await readFile(out, 'utf8');
      expect(text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { s: string }).s)).toEqual(TEXTS);
    }
  });

  it('typed NDJSON: a json column whose JSON text holds a raw lone surrogate is written with it escaped, the same JSON value', async () => {
    const json = `{"a":"x${LONE}y","b":[1,2]}`;
    const queryId = emulator.addQuery({ rows: [[{ requestParameters: json }], [{ requestParameters: `{k=v${LONE}}` }]] });
    const out = path.join(dir, 'json.ndjson');
    await exportQuery({ queryId, out, types: 'typed', nested: 'json', ...emulatorOptions(emulator) });
    const bytes = await readFile(out);
    expect(bytes.includes(Buffer.from('\ufffd'))).toBe(false);
    const lines = bytes.toString('utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('{"requestParameters":{"a":"x\\ud800y","b":[1,2]}}');
    expect(JSON.parse(lines[0]!)).toEqual({ requestParameters: JSON.parse(json) });
    expect(JSON.parse(lines[1]!)).toEqual({ requestParameters: { k: `v${LONE}` } });
  });

  it('Parquet writes non-ASCII text, pairs and U+FFFD itself exactly (read back by DuckDB)', async () => {
    const queryId = emulator.addQuery({ rows: TEXTS.slice(0, 4).map((text) => [{ s: text }]) });
    const out = path.join(dir, 'ok.parquet');
    await exportQuery({ queryId, out, ...emulatorOptions(emulator) });
    const reader = await db.runAndReadAll(`SELECT s FROM read_parquet('${out}')`);
    expect(reader.getRowsJS().map((r) => r[0])).toEqual(TEXTS.slice(0, 4));
  });

  it('Parquet fails with VALUE_INVALID naming the column, the row and the fix, and leaves no file (library)', async () => {
    const queryId = emulator.addQuery({ rows: TEXTS.map((text): QueryResultRow => [{ eventName: 'x' }, { s: text }]) });
    const out = path.join(dir, 'lone', 'events.parquet');
    const error = await exportQuery({ queryId, out, ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
    expect((error as Error).message).toBe(
      'column s, row 5: "xxxxxxxxxxxxxxxxxxxx\\udc00 trailing low" holds a lone UTF-16 surrogate, which Parquet (UTF-8) cannot hold; export as NDJSON, which keeps it',
    );
    expect((error as { column?: string }).column).toBe('s');
    expect(await readdir(path.dirname(out)).catch(() => [])).toEqual([]);
  });

  it('Parquet json column with a lone surrogate fails the same way', async () => {
    const queryId = emulator.addQuery({ rows: [[{ requestParameters: `{"a":"${LONE}"}` }]] });
    const error = await exportQuery({ queryId, out: path.join(dir, 'json.parquet'), nested: 'json', ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/^column requestParameters, row 1: .* holds a lone UTF-16 surrogate/);
  });

  it('Parquet through the built CLI: exit 1, one line on stderr, nothing written', async () => {
    const queryId = emulator.addQuery({ rows: [[{ s: 'fine' }], [{ s: `a${LONE}b` }]] });
    const out = path.join(dir, 'cli', 'events.parquet');
    const run = await runCli(['export', '--query-id', queryId, '--out', out], emulatorEnv(emulator));
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('ctlake: error: column s, row 2: "a\\ud800b" holds a lone UTF-16 surrogate, which Parquet (UTF-8) cannot hold; export as NDJSON, which keeps it\n');
    expect(await readdir(path.dirname(out)).catch(() => [])).toEqual([]);
  });

  it('a column NAME with a lone surrogate: Parquet gets a safe name, ctlake.columns keeps the source name exactly', async () => {
    const name = `n${LONE}m`;
    const queryId = emulator.addQuery({ rows: [[JSON.parse(JSON.stringify({ [name]: 'v' })) as Record<string, string>]] });
    const out = path.join(dir, 'name.parquet');
    await exportQuery({ queryId, out, ...emulatorOptions(emulator) });
    const reader = await db.runAndReadAll(`SELECT * FROM read_parquet('${out}')`);
    expect(reader.columnNames()).toEqual(['n_m']);
    expect(reader.getRowsJS()).toEqual([['v']]);
    const kv = await db.runAndReadAll(`SELECT decode(value) FROM parquet_kv_metadata('${out}') WHERE decode(key) = 'ctlake.columns'`);
    expect(JSON.parse(kv.getRowsJS()[0]![0] as string)).toEqual([{ source: name, name: 'n_m', type: 'string' }]);
  });

  it('a partition value with a lone surrogate fails with VALUE_INVALID rather than name a folder with U+FFFD', async () => {
    const queryId = emulator.addQuery({ rows: [[{ region: `r${LONE}` }]] });
    const root = path.join(dir, 'ds') + '/';
    const error = await exportQuery({ queryId, out: root, partitionBy: ['region'], ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'VALUE_INVALID')).toBe(true);
    expect((error as Error).message).toBe('column region: "r\\ud800" holds a lone UTF-16 surrogate, which a folder name (UTF-8) cannot hold; choose another partitionBy');
    expect(await readdir(root, { recursive: true }).catch(() => [])).toEqual([]);
  });
});
