import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import { BIN, runCli } from './support/cli-process.js';
import { emulatorEnv, withEmulator } from './support/lake.js';
import { duckdb, query } from './support/duckdb.js';
import { writeMigrateEvents } from './support/migrate-events.js';

const DAY = 86_400_000;
const FROM = Date.UTC(2024, 10, 1);
const DAYS = 12;
const perDay = (d: number) => (d % 5 === 2 ? 900 : 300 + d * 20);

/**
 * The migration under Lake's limits as the CLI runs it: the emulator throttles
 * above 10 reads and 1 write a second and times out a query that scans more
 * than 600 events, every answer takes 15 ms; the run is killed with SIGKILL
 * once slices have checkpoints, and run again.
 */
describe('ctlake migrate, killed and run again', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let eventsFile: string;
  let total: number;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-migrate-kill-'));
    eventsFile = path.join(dir, 'events.ndjson');
    ({ total } = await writeMigrateEvents(eventsFile, FROM, DAYS, perDay));
    emulator = await withEmulator({ events: [eventsFile], tpsRead: 10, tpsWrite: 1, timeoutEvents: 600, faults: { latencyMs: 15 } });
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  const args = (out: string, state: string, summary: string) => [
    'migrate',
    '--event-data-store',
    emulator.eventDataStoreId,
    '--out',
    out,
    '--state',
    state,
    '--from',
    new Date(FROM).toISOString(),
    '--to',
    new Date(FROM + DAYS * DAY).toISOString(),
    '--slice-events',
    '1500',
    '--page-size',
    '50',
    '--checkpoint-rows',
    '100',
    '--concurrency',
    '3',
    '--summary-json',
    summary,
    '--log-format',
    'json',
  ];

  it('resumes the slices in flight from their checkpoints on the same queries, and the result is exact and verifies', async () => {
    const out = path.join(dir, 'lake') + '/';
    const state = path.join(dir, 'state.json');
    const summaryFile = path.join(dir, 'summary.json');
    const env = { ...emulatorEnv(emulator), PATH: process.env.PATH ?? '' };
    const child = spawn(process.execPath, [BIN, ...args(out, state, summaryFile)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Until a slice is done and another has a checkpoint: then kill -9, mid-slice.
    let checkpointed: { key: string; queryId: string } | undefined;
    for (let i = 0; i < 600 && !checkpointed; i++) {
      await sleep(50);
      const text = await readFile(state, 'utf8').catch(() => '');
      if (!text) continue;
      let parsed: { slices: Record<string, { key: string; status: string; queryId?: string; checkpoint?: unknown }> };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        continue;
      }
      const slices = Object.values(parsed.slices);
      const inFlight = slices.find((s) => s.checkpoint !== undefined && s.status !== 'done');
      if (slices.some((s) => s.status === 'done') && inFlight) checkpointed = { key: inFlight.key, queryId: inFlight.queryId! };
    }
    expect(checkpointed, stderr).toBeDefined();
    child.kill('SIGKILL');
    expect(await exited).toBe(null);
    const startsBefore = emulator.requests.filter((r) => r.operation === 'StartQuery' && !r.throttled).length;

    const rerun = await runCli(args(out, state, summaryFile), emulatorEnv(emulator));
    expect(rerun.stderr).not.toMatch(/"level":"error"/);
    expect(rerun.status).toBe(0);
    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as Record<string, number | boolean>;
    expect(summary.resumedFromCheckpoint).toBeGreaterThanOrEqual(1);
    expect(summary.reconciled).toBe(true);
    expect(summary.splits).toBeGreaterThan(0);
    for (const field of ['slices', 'splits', 'rows', 'bytesScanned', 'throttled', 'queriesStarted', 'resumedFromCheckpoint', 'reconciled', 'durationMs', 'pagesPerSecond', 'pageLatencyMs']) expect(summary).toHaveProperty(field);
    // The checkpointed slice went on with its own query: its QueryId was read again, not started anew.
    const reread = emulator.requests.filter((r) => r.operation === 'GetQueryResults' && r.input.QueryId === checkpointed!.queryId && typeof r.input.NextToken === 'string');
    expect(reread.length).toBeGreaterThan(0);
    expect(emulator.requests.filter((r) => r.operation === 'StartQuery' && !r.throttled).length - startsBefore).toBe(summary.queriesStarted);

    // Exactly the events, each once: checked against the events file read by DuckDB.
    const got = await query(db, `SELECT eventid AS id, COUNT(*) AS n FROM read_parquet('${out}**/*.parquet', hive_partitioning = false) GROUP BY 1 ORDER BY 1`);
    const want = await query(db, `SELECT eventID AS id FROM read_json('${eventsFile}', format = 'newline_delimited') ORDER BY 1`);
    expect(got.length).toBe(total);
    expect(got.every((r) => Number(r.n) === 1)).toBe(true);
    expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
    const verify = await runCli(['verify', out], emulatorEnv(emulator));
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);

    // A rerun after success has nothing to do.
    const again = await runCli(args(out, state, summaryFile), emulatorEnv(emulator));
    expect(again.status).toBe(6);
  }, 180_000);
});
