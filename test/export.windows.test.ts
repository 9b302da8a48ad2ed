import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import type { JobState } from '../src/jobs/job-state.js';
import { captureIO, emulatorEnv } from './support/lake.js';
import { duckdb, query } from './support/duckdb.js';

/** Every eventID in the dataset, with how often it occurs there. */
async function exported(db: DuckDBConnection, out: string): Promise<Map<string, number>> {
  const rows = await query(db, `SELECT eventID, count(*)::INTEGER AS n FROM read_parquet('${out}**/*.parquet') GROUP BY eventID`);
  return new Map(rows.map((r) => [r.eventID as string, r.n as number]));
}

describe('export --window', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let sqlFile: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    // 20,000 events over 2024-05-01 .. 05-08: about 30 in each 15 minutes.
    emulator = await startEmulator({ sample: 20_000, seed: 7 });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-windows-'));
    sqlFile = path.join(dir, 'events.sql');
    await writeFile(sqlFile, `SELECT eventID, eventTime, eventName FROM ${emulator.eventDataStoreId}\nWHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'\nORDER BY eventTime, eventID\n`);
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The source of truth: every event before `end`, from the emulator's own SQL. */
  async function eventsBefore(end: string): Promise<string[]> {
    const { io, stdout } = captureIO(env);
    expect(await main(['export', '--sql', `SELECT eventID FROM ${emulator.eventDataStoreId} WHERE eventTime >= '2024-05-01 00:00:00' AND eventTime < '${end}'`, '--out', '-'], io)).toBe(0);
    return stdout().trim().split('\n').map((l) => (JSON.parse(l) as { eventID: string }).eventID).sort();
  }

  const run = (out: string, state: string, now: string, extra: string[] = []) => {
    const captured = captureIO(env);
    const args = ['export', '--sql-file', sqlFile, '--window', '15m', '--since', '2024-05-01T00:00:00Z', '--state', state, '--out', out, '--now', now, ...extra];
    return { ...captured, code: main(args, captured.io) };
  };

  it('exports consecutive windows exactly once across runs, and a third run changes nothing', async () => {
    const out = path.join(dir, 'lake') + '/';
    const state = path.join(dir, 'state.json');
    const first = run(out, state, '2024-05-01T00:30:00Z');
    expect(await first.code).toBe(0);
    expect(first.stderr()).toMatch(/2 of 2 windows exported/);
    const afterFirst = JSON.parse(await readFile(state, 'utf8')) as JobState;
    expect(afterFirst.exportedUntil).toBe('2024-05-01T00:30:00Z');

    const second = run(out, state, '2024-05-01T01:00:00Z');
    expect(await second.code).toBe(0);
    expect(second.stderr()).toMatch(/2 of 2 windows exported/);
    const ids = await exported(db, out);
    expect([...ids.keys()].sort()).toEqual(await eventsBefore('2024-05-01 01:00:00'));
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
    expect(ids.size).toBeGreaterThan(60);

    const manifest = await readFile(path.join(out, '_manifest.json'), 'utf8');
    const third = run(out, state, '2024-05-01T01:00:00Z');
    expect(await third.code).toBe(6);
    expect(third.stderr()).toMatch(/nothing to do: no window has closed since 2024-05-01T01:00:00Z/);
    expect(await readFile(path.join(out, '_manifest.json'), 'utf8')).toBe(manifest);
    expect((JSON.parse(manifest) as { exports: Array<{ key: string; window: unknown }> }).exports.map((e) => e.key)).toEqual([
      '20240501T000000Z-20240501T001500Z',
      '20240501T001500Z-20240501T003000Z',
      '20240501T003000Z-20240501T004500Z',
      '20240501T004500Z-20240501T010000Z',
    ]);
  });

  it('holds back windows within --lag', async () => {
    const out = path.join(dir, 'lagged') + '/';
    const state = path.join(dir, 'lagged.json');
    const r = run(out, state, '2024-05-01T01:10:00Z', ['--lag', '15m']);
    expect(await r.code).toBe(0);
    expect(JSON.parse(await readFile(state, 'utf8')).exportedUntil).toBe('2024-05-01T00:45:00Z');
  });

  it('stops at a failed window (exit 7 after others went out, 1 when none did) and retries it in the next run', async () => {
    const out = path.join(dir, 'retry') + '/';
    const state = path.join(dir, 'retry.json');
    const noRetry = () => captureIO(env, { retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 } });
    const args = (now: string) => ['export', '--sql-file', sqlFile, '--window', '15m', '--since', '2024-05-01T00:00:00Z', '--state', state, '--out', out, '--now', now];
    // Every second StartQuery fails: window 1 goes out, window 2 fails, the run stops (window 3 waits).
    emulator.setFaults({ serverErrorEvery: 2, operations: ['StartQuery'] });
    const partial = noRetry();
    expect(await main(args('2024-05-01T00:45:00Z'), partial.io)).toBe(7);
    expect(partial.stderr()).toMatch(/window 2024-05-01T00:15:00Z \.\. 2024-05-01T00:30:00Z failed: /);
    expect(partial.stderr()).toMatch(/1 of 2 windows exported, \d+ rows; exported until 2024-05-01T00:15:00Z; the next run retries the failed window/);
    expect(JSON.parse(await readFile(state, 'utf8')).exportedUntil).toBe('2024-05-01T00:15:00Z');
    // Every StartQuery fails: nothing goes out (exit 1), the state stays.
    emulator.setFaults({ serverErrorEvery: 1, operations: ['StartQuery'] });
    const failed = noRetry();
    expect(await main(args('2024-05-01T00:45:00Z'), failed.io)).toBe(1);
    expect(failed.stderr()).toMatch(/0 of 1 windows exported/);
    emulator.setFaults({});
    // Next run: the failed window and the rest go out; no event twice, none missing.
    expect(await run(out, state, '2024-05-01T01:00:00Z').code).toBe(0);
    const ids = await exported(db, out);
    expect([...ids.keys()].sort()).toEqual(await eventsBefore('2024-05-01 01:00:00'));
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
  });

  it('refuses a second run while the first holds the lock (exit 8), and takes over a stale lock', async () => {
    const out = path.join(dir, 'locked') + '/';
    const state = path.join(dir, 'locked.json');
    emulator.setFaults({ latencyMs: 150, operations: ['DescribeQuery', 'GetQueryResults'] });
    const first = run(out, state, '2024-05-01T00:30:00Z');
    // Wait until the first run holds the lock, then start the second.
    for (let i = 0; i < 200; i++) {
      if (await readFile(`${state}.lock`, 'utf8').catch(() => undefined)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const second = run(out, state, '2024-05-01T00:30:00Z');
    expect(await second.code).toBe(8);
    expect(second.stderr()).toMatch(/^ctlake: error: another run holds the lock .*locked\.json\.lock \(host .*, pid \d+, since .*\); let it finish/m);
    expect(await first.code).toBe(0);
    emulator.setFaults({});
    // A lock left by a process that is gone is stale: the next run takes it over.
    await writeFile(`${state}.lock`, JSON.stringify({ owner: 'x', host: (await import('node:os')).hostname(), pid: 2 ** 22 + 12345, acquiredAt: '2024-01-01T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z' }));
    const third = run(out, state, '2024-05-01T01:00:00Z');
    expect(await third.code).toBe(0);
    await expect(readFile(`${state}.lock`)).rejects.toThrow(/ENOENT/);
  });

  it('refuses SQL without {{start}} and {{end}}, and a state of another job', async () => {
    const noPlaceholders = captureIO(env);
    expect(await main(['export', '--sql', 'SELECT 1', '--window', '1h', '--since', '2024-05-01', '--out', `${dir}/x/`], noPlaceholders.io)).toBe(2);
    expect(noPlaceholders.stderr()).toMatch(/the SQL lacks \{\{start\}\} and \{\{end\}\}/);
    const notDataset = captureIO(env);
    expect(await main(['export', '--sql-file', sqlFile, '--window', '1h', '--since', '2024-05-01', '--out', `${dir}/x.parquet`], notDataset.io)).toBe(2);
    expect(notDataset.stderr()).toMatch(/--out must be a dataset/);
    const other = captureIO(env);
    const state = path.join(dir, 'state.json');
    expect(await main(['export', '--sql-file', sqlFile, '--window', '15m', '--state', state, '--out', `${dir}/elsewhere/`, '--now', '2024-05-01T02:00:00Z'], other.io)).toBe(2);
    expect(other.stderr()).toMatch(/belongs to another job \(its --out differs\)/);
  });
});
