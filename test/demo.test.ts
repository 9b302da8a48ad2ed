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
    expect((await readdir(path.join(dir, 'out'))).sort()).toEqual(['all-events.ndjson.gz', 'all-events.parquet', 'calls-by-principal.parquet', 'failed-console-logins.ndjson']);

    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const all = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT eventID)::INTEGER AS ids FROM read_json('${dir}/out/all-events.ndjson.gz', format = 'newline_delimited')`);
    expect(all.getRowObjects()).toEqual([{ n: 3000, ids: 3000 }]);
    const calls = await db.runAndReadAll(`SELECT sum(calls)::INTEGER AS total, typeof(any_value(calls)) AS type FROM read_parquet('${dir}/out/calls-by-principal.parquet')`);
    expect(calls.getRowObjects()).toEqual([{ total: 3000, type: 'BIGINT' }]);
    const parquet = await db.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT eventId)::INTEGER AS ids, typeof(any_value(eventTime)) AS t, typeof(any_value(readOnly)) AS b,
              count(*) FILTER (WHERE json_valid(userIdentity))::INTEGER AS json FROM read_parquet('${dir}/out/all-events.parquet')`,
    );
    expect(parquet.getRowObjects()).toEqual([{ n: 3000, ids: 3000, t: 'TIMESTAMP WITH TIME ZONE', b: 'BOOLEAN', json: 3000 }]);
    const logins = await db.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_json('${dir}/out/failed-console-logins.ndjson', format = 'newline_delimited') WHERE errorMessage IS NULL`);
    expect(logins.getRowObjects()).toEqual([{ n: 0 }]);
    db.closeSync();
  });
});
