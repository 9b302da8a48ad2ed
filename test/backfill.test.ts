import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { backfill } from '../src/jobs/backfill.js';
import type { JobState } from '../src/jobs/job-state.js';
import { captureIO, emulatorEnv, FAST_RETRY } from './support/lake.js';
import { duckdb, query } from './support/duckdb.js';

describe('ctlake backfill', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let sqlFile: string;
  let env: Record<string, string>;
  let expected: string[];
  beforeAll(async () => {
    // Three queries at most at once, and each RUNNING for a while: slices overlap and
    // a fourth StartQuery meets MaxConcurrentQueriesException.
    emulator = await startEmulator({ sample: 6000, seed: 3, maxConcurrentQueries: 3, runningMs: 150 });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-backfill-'));
    sqlFile = path.join(dir, 'all.sql');
    await writeFile(sqlFile, `SELECT eventID, eventTime, awsRegion FROM ${emulator.eventDataStoreId} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`);
    db = await duckdb();
    const { io, stdout } = captureIO(env);
    await main(['export', '--sql', `SELECT eventID FROM ${emulator.eventDataStoreId} WHERE eventTime >= '2024-05-01 00:00:00' AND eventTime < '2024-05-07 00:00:00'`, '--out', '-'], io);
    expected = stdout().trim().split('\n').map((l) => (JSON.parse(l) as { eventID: string }).eventID).sort();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  const args = (out: string, state: string, concurrency = '3') => [
    'backfill', '--sql-file', sqlFile, '--from', '2024-05-01T00:00:00Z', '--to', '2024-05-07T00:00:00Z', '--slice', '1d',
    '--concurrency', concurrency, '--state', state, '--out', out, '--partition-by', 'eventTime:day',
  ];
  /** Slot waits long enough for a slice to outlast: queries run 150 ms here. */
  const patient = () => captureIO(env, { retry: { retries: 100, minDelayMs: 10, maxDelayMs: 200 } });
  const counts = async (out: string) => {
    const rows = await query(db, `SELECT eventID, count(*)::INTEGER AS n FROM read_parquet('${out}**/*.parquet') GROUP BY eventID`);
    return new Map(rows.map((r) => [r.eventID as string, r.n as number]));
  };

  it('exports six slices three at a time, every event once; a rerun re-exports nothing', async () => {
    const out = path.join(dir, 'all') + '/';
    const state = path.join(dir, 'state.json');
    const summary = path.join(dir, 'summary.json');
    const first = patient();
    expect(await main([...args(out, state), '--summary-json', summary], first.io), first.stderr()).toBe(0);
    expect(first.stderr()).toMatch(/6 slices exported, 0 failed, 0 done before; \d+ rows/);
    const ids = await counts(out);
    expect([...ids.keys()].sort()).toEqual(expected);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
    const report = JSON.parse(await readFile(summary, 'utf8')) as { slices: Array<{ status: string; rows: number; bytesScanned: number; queryId: string }> };
    expect(report.slices).toHaveLength(6);
    expect(report.slices.every((s) => s.status === 'done' && s.bytesScanned > 0 && s.queryId)).toBe(true);
    expect(report.slices.reduce((n, s) => n + s.rows, 0)).toBe(expected.length);

    const manifest = await readFile(path.join(out, '_manifest.json'), 'utf8');
    const starts = emulator.requests.filter((r) => r.operation === 'StartQuery').length;
    const again = patient();
    expect(await main(args(out, state), again.io)).toBe(6);
    expect(again.stderr()).toMatch(/nothing to do: all 6 slices were exported before/);
    expect(emulator.requests.filter((r) => r.operation === 'StartQuery').length).toBe(starts);
    expect(await readFile(path.join(out, '_manifest.json'), 'utf8')).toBe(manifest);
  });

  it('resumes an interrupted backfill, ending with every slice exported exactly once', async () => {
    const out = path.join(dir, 'resumed') + '/';
    const state = path.join(dir, 'resumed.json');
    const controller = new AbortController();
    let ended = 0;
    const run = backfill({
      sqlTemplate: await readFile(sqlFile, 'utf8'),
      from: Date.UTC(2024, 4, 1),
      to: Date.UTC(2024, 4, 7),
      sliceMs: 86_400_000,
      concurrency: 2,
      state,
      out,
      endpointUrl: emulator.url,
      region: 'us-east-1',
      retry: FAST_RETRY,
      slotRetry: { retries: 100, minDelayMs: 20, maxDelayMs: 50 },
      pollMinMs: 5,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.phase === 'end' && ++ended === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'INTERRUPTED' });
    const recorded = JSON.parse(await readFile(state, 'utf8')) as JobState;
    const done = Object.values(recorded.runs).filter((r) => r.status === 'done').length;
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(6);
    // No query left running: each interrupted slice cancelled its own.
    await expect(readFile(`${state}.lock`)).rejects.toThrow(/ENOENT/);

    const rerun = patient();
    expect(await main(args(out, state, '4'), rerun.io), rerun.stderr()).toBe(0);
    expect(rerun.stderr()).toMatch(new RegExp(`${6 - done} slices exported, 0 failed, ${done} done before`));
    const ids = await counts(out);
    expect([...ids.keys()].sort()).toEqual(expected);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
  });

  it('records a failed slice, goes on with the others (exit 7), and retries only it', async () => {
    const out = path.join(dir, 'partial') + '/';
    const state = path.join(dir, 'partial.json');
    // The 4th StartQuery fails (no retries): one slice fails, five go out.
    emulator.setFaults({ serverErrorEvery: 4, operations: ['StartQuery'] });
    const first = captureIO(env, { retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 } });
    const code = await main(args(out, state, '1'), first.io);
    emulator.setFaults({});
    expect(code).toBe(7);
    expect(first.stderr()).toMatch(/5 slices exported, 1 failed, 0 done before; .*; rerun to retry the failed slices/);
    const starts = emulator.requests.filter((r) => r.operation === 'StartQuery').length;
    const second = patient();
    expect(await main(args(out, state), second.io), second.stderr()).toBe(0);
    expect(emulator.requests.filter((r) => r.operation === 'StartQuery').length).toBe(starts + 1);
    const ids = await counts(out);
    expect([...ids.keys()].sort()).toEqual(expected);
  });

  it('refuses --concurrency above 10, SQL without placeholders, and a state of another range', async () => {
    const over = captureIO(env);
    expect(await main(args(`${dir}/x/`, `${dir}/x.json`, '11'), over.io)).toBe(2);
    expect(over.stderr()).toMatch(/--concurrency must be a whole number from 1 to 10/);
    const other = captureIO(env);
    const a = args(path.join(dir, 'all') + '/', path.join(dir, 'state.json'));
    a[a.indexOf('--to') + 1] = '2024-05-08T00:00:00Z';
    expect(await main(a, other.io)).toBe(2);
    expect(other.stderr()).toMatch(/belongs to another job \(its --to differs\)/);
  });
});
