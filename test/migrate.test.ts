import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import { migrate, type MigrateOptions } from '../src/jobs/migrate.js';
import { verifyDataset } from '../src/dataset/verify.js';
import { localStore } from '../src/destinations/store.js';
import { isCtlakeError } from '../src/errors.js';
import { emulatorClient, FAST_RETRY, withEmulator } from './support/lake.js';
import { duckdb, query } from './support/duckdb.js';
import { writeMigrateEvents } from './support/migrate-events.js';

const DAY = 86_400_000;
const FROM = Date.UTC(2025, 0, 1);
const DAYS = 40;
/** Uneven days: every 7th empty, every 10th busy (1,200 events), the others 40 to 140. */
const perDay = (d: number) => (d % 7 === 3 ? 0 : d % 10 === 5 ? 1200 : 40 + ((d * 37) % 100));

describe('migrate an event data store', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  let eventsFile: string;
  let total: number;
  let byDay: Map<string, number>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-migrate-'));
    eventsFile = path.join(dir, 'events.ndjson');
    ({ total, byDay } = await writeMigrateEvents(eventsFile, FROM, DAYS, perDay));
    // A busy day (1,200 events) is more than a query may scan: its slices time out and are split.
    emulator = await withEmulator({ events: [eventsFile], timeoutEvents: 700, tpsRead: 50, tpsWrite: 20 });
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  const options = (name: string, extra: Partial<MigrateOptions> = {}): MigrateOptions => ({
    eventDataStore: emulator.eventDataStoreArn,
    out: path.join(dir, name) + '/',
    state: path.join(dir, `${name}.state.json`),
    from: FROM,
    to: FROM + DAYS * DAY,
    client: emulatorClient(emulator),
    retry: FAST_RETRY,
    pollMinMs: 1,
    pollMaxMs: 5,
    pageSize: 100,
    targetEventsPerSlice: 1000,
    checkpointRows: 300,
    concurrency: 4,
    readTps: 40,
    writeTps: 15,
    partitionBy: ['eventTime:day'],
    ...extra,
  });

  /** The dataset's eventIDs as DuckDB reads them, and those of the events file, read by DuckDB too. */
  async function compare(out: string) {
    const got = await query(db, `SELECT eventid AS id, COUNT(*) AS n FROM read_parquet('${out}**/*.parquet', hive_partitioning = false) GROUP BY 1 ORDER BY 1`);
    const want = await query(db, `SELECT eventID AS id FROM read_json('${eventsFile}', format = 'newline_delimited') ORDER BY 1`);
    expect(got.length).toBe(total);
    expect(got.every((r) => Number(r.n) === 1)).toBe(true);
    expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
  }

  it('plans from Lake\'s own counts, splits what times out, exports every event exactly once, reconciles, and a rerun has nothing to do', async () => {
    const planned = await migrate({ ...options('planned'), planOnly: true });
    expect(planned.status).toBe('planned');
    expect(planned.plan!.events).toBe(total);
    expect(planned.plan!.slices).toBeGreaterThan(5);

    const summary = await migrate(options('all'));
    expect(summary.status).toBe('exported');
    expect(summary.rows).toBe(total);
    expect(summary.splits).toBeGreaterThan(0);
    expect(summary.reconciled).toBe(true);
    expect(summary.reconciliation!.days).toBe(DAYS);
    expect(summary.slicesDone).toBe(summary.slices);
    expect(summary.queriesStarted).toBeGreaterThan(summary.slices);
    expect(summary.pageLatencyMs!.p95).toBeGreaterThanOrEqual(summary.pageLatencyMs!.p50);
    await compare(options('all').out!);
    // The day partitions hold each day's events.
    const days = await query(db, `SELECT CAST(eventdate AS VARCHAR) AS eventdate, COUNT(*) AS n FROM read_parquet('${options('all').out}**/*.parquet', hive_partitioning = true) GROUP BY 1 ORDER BY 1`);
    expect(new Map(days.map((r) => [String(r.eventdate), Number(r.n)]))).toEqual(byDay);
    const report = await verifyDataset(localStore(options('all').out!));
    expect(report.problems).toEqual([]);
    // No more than 10 queries at once, ever.
    expect(emulator.stats().maxActiveQueries).toBeLessThanOrEqual(10);

    const again = await migrate(options('all'));
    expect(again.status).toBe('nothing');
    expect(again.queriesStarted).toBe(0);
  });

  it('a second run of the same migration while the first holds its lock fails with LOCK_HELD (exit 8), and the first goes on', async () => {
    const o = options('locked');
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = migrate({ ...o, onProgress: (e) => e.phase === 'start' && started() });
    await running;
    await expect(migrate(o)).rejects.toSatisfy((e) => isCtlakeError(e, 'LOCK_HELD'));
    expect((await first).status).toBe('exported');
  });

  it('a state of another store, SQL or output is refused; a damaged state is refused with the fix', async () => {
    const state = path.join(dir, 'damaged.state.json');
    await writeFile(state, JSON.stringify({ stateVersion: 1, job: 'migrate', __proto__: 1 }));
    await expect(migrate({ ...options('damaged'), state })).rejects.toSatisfy((e) => isCtlakeError(e, 'STATE_INVALID'));
    const good = JSON.parse(await readFile(options('all').state!, 'utf8')) as Record<string, unknown>;
    const gap = structuredClone(good) as { slices: Record<string, unknown> };
    delete gap.slices[Object.keys(gap.slices)[2]!];
    await writeFile(state, JSON.stringify(gap));
    await expect(migrate({ ...options('all'), state })).rejects.toThrow(/gap or overlap/);
    await expect(migrate({ ...options('all'), sqlTemplate: `SELECT eventID, eventTime FROM ${emulator.eventDataStoreId} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'` })).rejects.toThrow(
      /belongs to another migration \(its SQL differs\)/,
    );
  });

  it('a reconciliation that finds other counts names the days and slices, exits as a mismatch, and the next run exports them again', async () => {
    const o = options('mismatch');
    expect((await migrate(o)).status).toBe('exported');
    // Tamper with the state as a run that lost rows would have left it: one slice claims fewer rows, and reconciliation is redone.
    const state = JSON.parse(await readFile(o.state!, 'utf8')) as { slices: Record<string, { status: string; rows?: number; start: string }>; reconciliation?: unknown };
    const victim = Object.values(state.slices).find((s) => s.status === 'done' && (s.rows ?? 0) > 0)!;
    victim.rows = victim.rows! - 1;
    delete state.reconciliation;
    await writeFile(o.state!, JSON.stringify(state));
    const checked = await migrate(o);
    expect(checked.status).toBe('mismatch');
    expect(checked.reconciled).toBe(false);
    expect(checked.reconciliation!.mismatches[0]!.slices).toContain((victim as unknown as { key: string }).key);
    const fixed = await migrate(o);
    expect(fixed.status).toBe('exported');
    expect(fixed.slicesExported).toBeGreaterThanOrEqual(1);
    expect(fixed.reconciled).toBe(true);
    await compare(o.out!);
  });
});
