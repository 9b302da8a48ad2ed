import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import type { QueryResultRow } from '../src/lake-model.js';
import { runCli } from './support/cli-process.js';
import { emulatorEnv } from './support/lake.js';
import { GOLDEN_CASES, GOLDEN_QUERY_ID, goldenRows } from './support/golden-cases.mjs';

/**
 * The bytes `ctlake export` writes for a fixed query, pinned: the files in
 * test/fixtures/golden/ were written by the build before the house moved
 * (issue 14), and every format must still come out byte for byte the same.
 * Rewritten once since, on purpose: the Parquet files for `created_by` in the
 * form Java readers parse (`ctlake version X (build Y)`, issue 15); their
 * rows, schema and key-value metadata were checked unchanged with DuckDB.
 * A change of output is then a deliberate one: rewrite the fixtures in the
 * same commit, and say why.
 */
const FIXTURES = new URL('./fixtures/golden/', import.meta.url);

let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  const page = JSON.parse(await readFile(new URL('./fixtures/lake-page-nested.json', import.meta.url), 'utf8')) as { QueryResultRows: QueryResultRow[] };
  emulator = await startEmulator({ queries: [{ queryId: GOLDEN_QUERY_ID, rows: goldenRows(page.QueryResultRows), sql: 'SELECT * FROM golden' }] });
  dir = await mkdtemp(path.join(tmpdir(), 'ctlake-golden-'));
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('export output bytes are unchanged', () => {
  it.each(GOLDEN_CASES)('$file', async ({ file, args }) => {
    const out = path.join(dir, file);
    const result = await runCli(['export', '--query-id', GOLDEN_QUERY_ID, '--out', out, ...args, '--page-size', '97'], emulatorEnv(emulator));
    expect(result.stderr).not.toMatch(/error/);
    expect(result.status).toBe(0);
    const [written, golden] = await Promise.all([readFile(out), readFile(new URL(file, FIXTURES))]);
    expect(written.length).toBe(golden.length);
    expect(written.equals(golden)).toBe(true);
  });
});
