import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { runShell } from './support/cli-process.js';

const DEMO = fileURLToPath(new URL('../examples/demo.mjs', import.meta.url));

describe('npm run demo', () => {
  it('runs SQL on the embedded emulator and leaves files under out/ that DuckDB reads', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-demo-'));
    const result = await runShell(`cd "${dir}" && "${process.execPath}" "${DEMO}"`, { DEMO_EVENTS: '3000' });
    expect(result.stderr).toMatch(/demo: done/);
    expect(result.status).toBe(0);
    expect((await readdir(path.join(dir, 'out'))).sort()).toEqual(['all-events.ndjson.gz', 'calls-by-principal.ndjson', 'failed-console-logins.ndjson']);

    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const all = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT eventID)::INTEGER AS ids FROM read_json('${dir}/out/all-events.ndjson.gz', format = 'newline_delimited')`);
    expect(all.getRowObjects()).toEqual([{ n: 3000, ids: 3000 }]);
    const calls = await db.runAndReadAll(`SELECT sum(calls::INTEGER)::INTEGER AS total FROM read_json('${dir}/out/calls-by-principal.ndjson', format = 'newline_delimited')`);
    expect(calls.getRowObjects()).toEqual([{ total: 3000 }]);
    const logins = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_json('${dir}/out/failed-console-logins.ndjson', format = 'newline_delimited') WHERE errorMessage IS NULL`);
    expect(logins.getRowObjects()).toEqual([{ n: 0 }]);
    db.closeSync();
  });
});
