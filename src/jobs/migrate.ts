import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, isCtlakeError, optionError } from '../errors.js';
import { exportQuery, type ExportSummary } from '../export/export-query.js';
import { queryCost } from '../export/export-summary.js';
import { createCloudTrailClient } from '../source/cloudtrail-client.js';
import { CallStats, type CallStatsSnapshot } from '../source/call-stats.js';
import { limitClient } from '../source/limit-client.js';
import { RateLimiter } from '../source/rate-limit.js';
import { describeEventDataStore, type EventDataStoreDescription } from '../source/event-data-store.js';
import { resolveRetry } from '../source/retry.js';
import { MAX_CONCURRENCY } from './backfill.js';
import { checkJob, now, outputOf, withJobState, type JobExportOptions } from './job-run.js';
import { sqlHash } from './job-state.js';
import { DEFAULT_MIN_SLICE_MS, planSlices, projectPlan, splitSlice, type MigrationPlan, type PlannedSlice } from './migrate-plan.js';
import { leafSlices, validateMigrateState, type MigrateSlice, type MigrateState, type ReconcileRecord } from './migrate-state.js';
import { reconcile, type ReconcileResult } from './reconcile.js';
import { countEventsByDay, type DayCount } from './store-census.js';
import { inRange, isoTime, renderSql } from './time-windows.js';

export interface MigrateOptions extends JobExportOptions {
  /** The event data store to migrate: its ARN or id. */
  eventDataStore: string;
  /** [from, to), epoch ms. @default from: the first day retention keeps (today − RetentionPeriod); to: the start of the current UTC day. A state keeps the range of its first run. */
  from?: number | undefined;
  to?: number | undefined;
  /** The SQL of each slice, with `{{start}}` and `{{end}}`. @default `SELECT * FROM <store id> WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'` */
  sqlTemplate?: string | undefined;
  /** Where the migration's state is kept (a file or s3://bucket/key); its lock is beside it. Without it, nothing is resumable. */
  state?: string | undefined;
  lockLeaseMs?: number | undefined;
  /** Slices exported at once, 1 to 10. @default 4 */
  concurrency?: number | undefined;
  /** GetQueryResults, DescribeQuery, ListQueries and GetEventDataStore calls a second, all slices together. @default 10 (Lake's published rate) */
  readTps?: number | undefined;
  /** StartQuery and CancelQuery calls a second. @default 1 */
  writeTps?: number | undefined;
  /** Events a slice aims at. @default 2,000,000 */
  targetEventsPerSlice?: number | undefined;
  /** The shortest slice a TIMED_OUT slice is split down to. @default 60000 */
  minSliceMs?: number | undefined;
  /** Rows after which a slice's open files are committed and its checkpoint recorded. @default 100000 */
  checkpointRows?: number | undefined;
  /** Slices this run exports at most, oldest first. @default 1000 */
  maxSlices?: number | undefined;
  /** Dollars per GB scanned, for the plan's and the summary's cost. @default 0.005 */
  pricePerGb?: number | undefined;
  /** Plan only: read the store, count its events, print nothing, return the plan. */
  planOnly?: boolean | undefined;
  /** Told of slices as they start, checkpoint, split and end. */
  onProgress?: ((event: MigrateProgress) => void) | undefined;
  /** The time, for tests. @default Date.now */
  now?: (() => number) | undefined;
}

export interface MigrateProgress {
  phase: 'plan' | 'start' | 'checkpoint' | 'split' | 'end' | 'reconcile';
  key?: string | undefined;
  slice?: MigrateSlice | undefined;
  /** The failure of a slice that ended failed. */
  failure?: unknown;
  done: number;
  total: number;
  running: number;
  rows: number;
}

export interface MigrateSummary {
  /** exported: every slice is done and reconciled; nothing: all was done before; partial: some slices failed or are left for the next run; failed: every one tried failed; mismatch: reconciliation found other counts (those slices are exported again next run); planned: planOnly. */
  status: 'exported' | 'nothing' | 'partial' | 'failed' | 'mismatch' | 'planned';
  store: EventDataStoreDescription | undefined;
  plan: MigrationPlan | undefined;
  /** Slices not split, in the state. */
  slices: number;
  slicesDone: number;
  /** Slices this run exported. */
  slicesExported: number;
  splits: number;
  remaining: number;
  rows: number;
  bytesScanned: number;
  /** The cost of bytesScanned, census and reconciliation queries included, at pricePerGb. */
  cost: { usd: number; text: string } | undefined;
  durationMs: number;
  pages: number;
  pagesPerSecond: number;
  pageLatencyMs: { p50: number; p95: number } | undefined;
  throttled: number;
  /** StartQuery calls that started a query: slices and counts. */
  queriesStarted: number;
  /** Slices that went on from a checkpoint, and those that read again a query started by an earlier run. */
  resumedFromCheckpoint: number;
  queriesReused: number;
  /** true or false once every slice is done; undefined before. */
  reconciled: boolean | undefined;
  reconciliation: ReconcileResult | undefined;
  failures: Array<{ key: string; error: string }>;
  calls: CallStatsSnapshot;
  state: string | undefined;
}

/** Lake keeps a query's results 7 days; a query older than this is started again rather than read. */
const REUSE_WITHIN_MS = 6.5 * 86_400_000;
const DAY_MS = 86_400_000;

/**
 * Migrates an event data store into a dataset: plans slices from Lake's
 * own per-day counts (oldest first), exports them `concurrency` at a time
 * through one client whose calls are paced account-wide (readTps, writeTps),
 * splits a slice that ends TIMED_OUT in two (down to minSliceMs; its partial
 * rows are never committed), checkpoints each slice's pages so that a run
 * killed later goes on from its last committed part file with the same
 * query, and once every slice is done compares Lake's per-day counts with
 * the rows committed (reconciliation). The state records the plan, each
 * slice and the last reconciliation; a rerun does what is left.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateSummary> {
  const clock = options.now ?? Date.now;
  const startedMs = performance.now();
  const settings = checkMigrate(options);
  const stats = new CallStats();
  const limiter = new RateLimiter({ readPerSecond: settings.readTps, writePerSecond: settings.writeTps });
  const client = options.client ? limitClient(options.client, { limiter, stats }) : createCloudTrailClient({ ...options, rateLimiter: limiter, callStats: stats });
  const retry = resolveRetry(options.retry);
  const call = { signal: options.signal, retry, onRetry: options.onRetry };
  let queriesStarted = 0;
  let censusBytes = 0;
  try {
    const store = await describeEventDataStore(client, options.eventDataStore, call);
    const today = Math.floor(clock() / DAY_MS) * DAY_MS;
    const census = async (from: number, to: number): Promise<DayCount[]> => {
      const result = await countEventsByDay(client, { eventDataStore: store.arn, from, to, ...call, pollMinMs: options.pollMinMs, pollMaxMs: options.pollMaxMs, onQuery: () => void queriesStarted++ });
      censusBytes += result.bytesScanned;
      return result.days;
    };
    const project = (slices: PlannedSlice[]) =>
      projectPlan(slices, { now: clock(), retentionDays: store.retentionDays, concurrency: settings.concurrency, readTps: settings.readTps, pricePerGb: settings.pricePerGb });
    const defaultFrom = store.retentionDays === undefined ? (store.created ? Math.floor(store.created.getTime() / DAY_MS) * DAY_MS : today - 3653 * DAY_MS) : today - store.retentionDays * DAY_MS;
    const range = { from: options.from ?? defaultFrom, to: options.to ?? today };
    const sqlTemplate = options.sqlTemplate ?? defaultSql(store.arn);
    const plan = async (from: number, to: number) => planSlices(await census(from, to), { from, to, targetEventsPerSlice: options.targetEventsPerSlice, minSliceMs: settings.minSliceMs });

    if (options.planOnly) {
      if (!(range.from < range.to)) throw rangeError(range);
      const slices = await plan(range.from, range.to);
      const projection = project(slices);
      return summaryOf({ status: 'planned', store, plan: projection, state: undefined, stats, startedMs, queriesStarted, censusBytes, pricePerGb: settings.pricePerGb });
    }

    return await withJobState<MigrateSummary, MigrateState>(
      options,
      async (file, lock) => {
        const signal = lock ? AbortSignal.any([lock.lost, ...(options.signal ? [options.signal] : [])]) : options.signal;
        let state = file ? await file.read() : undefined;
        let projection: MigrationPlan | undefined;
        if (state) {
          checkSameJob(state, { eventDataStore: store.arn, sqlSha256: sqlHash(sqlTemplate), out: outputOf({ ...options, sqlTemplate }), from: options.from, to: options.to }, options.state!);
        } else {
          if (!(range.from < range.to)) throw rangeError(range);
          const slices = await plan(range.from, range.to);
          projection = project(slices);
          state = {
            stateVersion: 1,
            job: 'migrate',
            eventDataStore: store.arn,
            sqlSha256: sqlHash(sqlTemplate),
            out: outputOf({ ...options, sqlTemplate }),
            from: isoTime(range.from),
            to: isoTime(range.to),
            plannedAt: isoTime(clock()),
            slices: Object.create(null) as Record<string, MigrateSlice>,
            updatedAt: now(),
          };
          for (const s of slices) state.slices[s.key] = { key: s.key, start: isoTime(s.start), end: isoTime(s.end), events: s.events, status: 'todo' };
          options.onProgress?.({ phase: 'plan', done: 0, total: slices.length, running: 0, rows: 0 });
        }
        const current = state;
        let saving: Promise<void> = Promise.resolve();
        const save = () => (saving = saving.then(async () => ((current.updatedAt = now()), await lock?.check(), await file?.write(current))));
        await save();

        const run = await runSlices(current, { exportOptions: exportOptionsOf(options), sqlTemplate, client, signal, settings, save, clock, onProgress: options.onProgress, started: () => void queriesStarted++ });
        await saving;
        if (signal?.aborted) throw new CtlakeError('INTERRUPTED', 'migration interrupted; the slices done and the checkpoints of those in flight are recorded', { cause: signal.reason });

        const leaves = leafSlices(current);
        const done = leaves.filter((s) => s.status === 'done');
        let reconciliation: ReconcileResult | undefined;
        const allDone = done.length === leaves.length;
        const needsReconcile = allDone && (run.exported > 0 || current.reconciliation?.ok !== true);
        if (needsReconcile) {
          options.onProgress?.({ phase: 'reconcile', done: done.length, total: leaves.length, running: 0, rows: run.rows });
          const from = Date.parse(current.from);
          const to = Date.parse(current.to);
          const days = await census(from, to);
          const expiredBefore = store.retentionDays === undefined ? undefined : isoTime(Math.floor(clock() / DAY_MS) * DAY_MS - (store.retentionDays - 1) * DAY_MS).slice(0, 10);
          reconciliation = reconcile(
            done.map((s) => ({ key: s.key, start: Date.parse(s.start), end: Date.parse(s.end), rows: s.rows ?? 0 })),
            days,
            expiredBefore,
          );
          const record: ReconcileRecord = { at: now(), ok: reconciliation.ok, days: reconciliation.days, expiredDays: reconciliation.expiredDays, mismatches: reconciliation.mismatches.slice(0, 1000) };
          current.reconciliation = record;
          // A slice whose counts differ is exported again by the next run.
          for (const m of reconciliation.mismatches) for (const key of m.slices) if (current.slices[key]) current.slices[key]!.status = 'mismatch';
          await save();
          await saving;
        }
        const status: MigrateSummary['status'] =
          run.tried === 0 && !needsReconcile
            ? 'nothing'
            : reconciliation && !reconciliation.ok
              ? 'mismatch'
              : run.tried > 0 && run.exported === 0 && run.failures.length > 0
                ? 'failed'
                : allDone
                  ? 'exported'
                  : 'partial';
        return summaryOf({
          status,
          store,
          plan: projection,
          state: current,
          stats,
          startedMs,
          queriesStarted,
          censusBytes,
          pricePerGb: settings.pricePerGb,
          run,
          reconciliation,
          stateLocation: options.state,
        });
      },
      validateMigrateState,
    );
  } finally {
    if (!options.client) client.destroy();
  }
}

interface Settings {
  concurrency: number;
  readTps: number;
  writeTps: number;
  minSliceMs: number;
  checkpointRows: number;
  maxSlices: number;
  pricePerGb: number;
}

/** The options a migration needs beyond an export's, checked before any I/O (TypeError or INVALID_OPTION). */
function checkMigrate(options: MigrateOptions): Settings {
  if (typeof options.eventDataStore !== 'string' || options.eventDataStore === '') throw optionError('eventDataStore', options.eventDataStore, 'the ARN or id of an event data store');
  const whole = (name: keyof MigrateOptions, fallback: number, min: number, max: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw optionError(name, options[name], `a whole number from ${min} to ${max}`);
    return value;
  };
  const rate = (name: 'readTps' | 'writeTps', fallback: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1000) throw optionError(name, options[name], 'requests a second, more than 0 and at most 1000');
    return value;
  };
  for (const name of ['from', 'to'] as const) {
    const value = options[name];
    if (value !== undefined && !inRange(value)) throw optionError(name, value, 'epoch milliseconds from 1970-01-01 to 9999-12-31');
  }
  const price = options.pricePerGb ?? 0.005;
  if (!Number.isFinite(price) || price < 0) throw optionError('pricePerGb', options.pricePerGb, 'a number of dollars, 0 or more');
  // The export options every slice shares: checked once, with a stand-in SQL.
  checkJob({ ...options, sqlTemplate: options.sqlTemplate ?? defaultSql('store') });
  return {
    concurrency: whole('concurrency', 4, 1, MAX_CONCURRENCY),
    readTps: rate('readTps', 10),
    writeTps: rate('writeTps', 1),
    minSliceMs: whole('minSliceMs', DEFAULT_MIN_SLICE_MS, 60_000, DAY_MS),
    checkpointRows: whole('checkpointRows', 100_000, 1, Number.MAX_SAFE_INTEGER),
    maxSlices: whole('maxSlices', 1000, 1, 100_000),
    pricePerGb: price,
  };
}

/** Every event of a slice. The SQL names the store by its id, as Lake's FROM does. */
export function defaultSql(store: string): string {
  const id = store.slice(store.lastIndexOf('/') + 1);
  return `SELECT * FROM ${id} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`;
}

function rangeError(range: { from: number; to: number }): CtlakeError {
  return new CtlakeError('INVALID_OPTION', (n) => `${n('from')} ${isoTime(range.from)} must be before ${n('to')} ${isoTime(range.to)}`, { option: 'from' });
}

/** A stored state belongs to this migration: the same store, SQL, output and (when given) range; else STATE_INVALID. */
function checkSameJob(state: MigrateState, job: { eventDataStore: string; sqlSha256: string; out: string; from: number | undefined; to: number | undefined }, location: string): void {
  const differs = (what: string, a: unknown, b: unknown) => {
    if (a === b) return;
    throw new CtlakeError('STATE_INVALID', (n) => `${n('state')} ${location} belongs to another migration (its ${what} differs); give this one its own ${n('state')}`, { option: 'state' });
  };
  differs('event data store', state.eventDataStore, job.eventDataStore);
  differs('SQL', state.sqlSha256, job.sqlSha256);
  differs('out', state.out, job.out);
  if (job.from !== undefined) differs('from', state.from, isoTime(job.from));
  if (job.to !== undefined) differs('to', state.to, isoTime(job.to));
}

/** The options each slice's export takes from the migration's: its own keys left out. */
function exportOptionsOf(options: MigrateOptions): JobExportOptions {
  const {
    eventDataStore: _store,
    from: _from,
    to: _to,
    sqlTemplate: _sql,
    state: _state,
    lockLeaseMs: _lease,
    concurrency: _concurrency,
    readTps: _read,
    writeTps: _write,
    targetEventsPerSlice: _target,
    minSliceMs: _min,
    checkpointRows: _checkpoints,
    maxSlices: _max,
    pricePerGb: _price,
    planOnly: _plan,
    onProgress: _progress,
    now: _now,
    ...rest
  } = options;
  return rest;
}

interface RunContext {
  exportOptions: JobExportOptions;
  onProgress: MigrateOptions['onProgress'];
  sqlTemplate: string;
  client: CloudTrailClient;
  signal: AbortSignal | undefined;
  settings: Settings;
  save: () => Promise<void>;
  clock: () => number;
  started: () => void;
}

interface RunTally {
  tried: number;
  exported: number;
  splits: number;
  rows: number;
  bytesScanned: number;
  pages: number;
  resumedFromCheckpoint: number;
  queriesReused: number;
  failures: Array<{ key: string; error: string }>;
}

/**
 * The slices not done, oldest first, `concurrency` at a time, at most
 * maxSlices of them. A split puts its halves at the front of the queue, so
 * the oldest events still go first.
 */
async function runSlices(state: MigrateState, context: RunContext): Promise<RunTally> {
  const tally: RunTally = { tried: 0, exported: 0, splits: 0, rows: 0, bytesScanned: 0, pages: 0, resumedFromCheckpoint: 0, queriesReused: 0, failures: [] };
  const leaves = leafSlices(state);
  const queue = leaves.filter((s) => s.status !== 'done');
  // Counted as slices end and split, not recounted per event: a plan may hold 100,000 slices.
  const counts = { done: leaves.length - queue.length, total: leaves.length };
  let next = 0;
  let budget = context.settings.maxSlices;
  let running = 0;
  const progress = (phase: MigrateProgress['phase'], slice: MigrateSlice, failure?: unknown) => {
    context.onProgress?.({ phase, key: slice.key, slice, failure, ...counts, running, rows: tally.rows });
  };
  const worker = async () => {
    while (next < queue.length && budget > 0 && !context.signal?.aborted) {
      const slice = queue[next++]!;
      budget--;
      tally.tried++;
      running++;
      progress('start', slice);
      let outcome: SliceOutcome;
      try {
        outcome = await exportSlice(state, slice, context, tally);
      } finally {
        running--;
      }
      if (outcome.kind === 'split') {
        tally.splits++;
        budget++;
        counts.total++;
        // The halves go next, so the oldest events still go first.
        queue.splice(next, 0, ...outcome.halves);
        progress('split', slice);
      } else {
        if (outcome.kind === 'done') {
          tally.exported++;
          counts.done++;
        }
        progress('end', slice, outcome.kind === 'failed' ? outcome.failure : undefined);
      }
      await context.save();
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(context.settings.concurrency, queue.length) }, worker));
  const rejected = settled.find((s) => s.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
  return tally;
}

type SliceOutcome = { kind: 'done' } | { kind: 'failed'; failure: unknown } | { kind: 'split'; halves: MigrateSlice[] };

/** Codes after which a slice's query cannot be read again: the slice starts a new one. */
const START_OVER = new Set(['RESUME_REFUSED', 'INVALID_NEXT_TOKEN', 'QUERY_NOT_FOUND', 'QUERY_CANCELLED', 'QUERY_FAILED']);

/**
 * One slice: goes on from its checkpoint, or reads again the query an
 * earlier run started, while Lake still keeps its results; else starts a
 * new query. Records the query, each checkpoint, and how it ended, in the
 * state. Throws only for an interrupt or misuse.
 */
async function exportSlice(state: MigrateState, slice: MigrateSlice, context: RunContext, tally: RunTally): Promise<SliceOutcome> {
  const window = { start: Date.parse(slice.start), end: Date.parse(slice.end) };
  const fresh = slice.queryStartedAt !== undefined && context.clock() - Date.parse(slice.queryStartedAt) < REUSE_WITHIN_MS;
  const attempts: Array<'checkpoint' | 'reuse' | 'new'> = [];
  if (fresh && slice.queryId && slice.checkpoint && slice.checkpoint.pageSize === (context.exportOptions.pageSize ?? 1000)) attempts.push('checkpoint');
  else if (fresh && slice.queryId && !slice.checkpoint) attempts.push('reuse');
  attempts.push('new');
  for (const attempt of attempts) {
    const common = {
      ...context.exportOptions,
      client: context.client,
      signal: context.signal,
      datasetKey: slice.key,
      window: { start: slice.start, end: slice.end },
      checkpointRows: context.settings.checkpointRows,
      onCheckpoint: async (checkpoint: NonNullable<MigrateSlice['checkpoint']>) => {
        slice.checkpoint = checkpoint;
        context.onProgress?.({ phase: 'checkpoint', key: slice.key, slice, done: 0, total: 0, running: 0, rows: tally.rows });
        await context.save();
      },
    };
    let summary: ExportSummary;
    try {
      if (attempt === 'new') {
        slice.checkpoint = undefined;
        summary = await exportQuery({
          ...common,
          sql: renderSql(context.sqlTemplate, window),
          onQueryStarted: (queryId) => {
            context.started();
            slice.queryId = queryId;
            slice.queryStartedAt = isoTime(context.clock());
            // Awaited by the next save: a failed write surfaces there.
            context.save().catch(() => undefined);
          },
        });
      } else {
        summary = await exportQuery({ ...common, queryId: slice.queryId, resumeFrom: attempt === 'checkpoint' ? slice.checkpoint : undefined });
        if (attempt === 'checkpoint') tally.resumedFromCheckpoint++;
        else tally.queriesReused++;
      }
    } catch (error) {
      // An interrupt stops the run; its checkpoint's files were removed with the export, so only its query is kept.
      if (context.signal?.aborted || isCtlakeError(error, 'INTERRUPTED') || isCtlakeError(error, 'INVALID_OPTION') || error instanceof TypeError) {
        slice.checkpoint = undefined;
        throw error;
      }
      slice.checkpoint = undefined;
      if (attempt !== 'new' && error instanceof CtlakeError && START_OVER.has(error.code)) continue;
      if (isCtlakeError(error, 'QUERY_TIMED_OUT')) {
        const halves = splitSlice({ key: slice.key, start: window.start, end: window.end, events: slice.events, days: [] }, context.settings.minSliceMs);
        if (halves) {
          slice.status = 'split';
          slice.children = [halves[0].key, halves[1].key];
          const children = halves.map((h): MigrateSlice => ({ key: h.key, start: isoTime(h.start), end: isoTime(h.end), events: h.events, status: 'todo' }));
          for (const child of children) state.slices[child.key] = child;
          return { kind: 'split', halves: children };
        }
      }
      const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
      slice.status = 'failed';
      slice.error = message;
      slice.finishedAt = now();
      tally.failures.push({ key: slice.key, error: message });
      return { kind: 'failed', failure: error };
    }
    slice.status = 'done';
    slice.rows = summary.rows;
    slice.bytesScanned = summary.queryStatistics.bytesScanned;
    slice.error = undefined;
    slice.checkpoint = undefined;
    slice.finishedAt = now();
    tally.rows += summary.rows;
    tally.bytesScanned += summary.queryStatistics.bytesScanned ?? 0;
    tally.pages += summary.pages;
    return { kind: 'done' };
  }
  throw new Error('unreachable: the last attempt starts a new query');
}

function summaryOf(input: {
  status: MigrateSummary['status'];
  store: EventDataStoreDescription;
  plan: MigrationPlan | undefined;
  state: MigrateState | undefined;
  stats: CallStats;
  startedMs: number;
  queriesStarted: number;
  censusBytes: number;
  pricePerGb: number;
  run?: RunTally | undefined;
  reconciliation?: ReconcileResult | undefined;
  stateLocation?: string | undefined;
}): MigrateSummary {
  const calls = input.stats.snapshot();
  const leaves = input.state ? leafSlices(input.state) : [];
  const run = input.run;
  const durationMs = performance.now() - input.startedMs;
  const bytesScanned = (run?.bytesScanned ?? 0) + input.censusBytes;
  const cost = queryCost(bytesScanned, input.pricePerGb);
  const pages = calls.byOperation.GetQueryResults?.requests ?? 0;
  return {
    status: input.status,
    store: input.store,
    plan: input.plan,
    slices: leaves.length,
    slicesDone: leaves.filter((s) => s.status === 'done').length,
    slicesExported: run?.exported ?? 0,
    splits: run?.splits ?? 0,
    remaining: leaves.filter((s) => s.status !== 'done').length,
    rows: run?.rows ?? 0,
    bytesScanned,
    cost: cost && { usd: cost.usd, text: cost.text },
    durationMs: Math.round(durationMs),
    pages,
    pagesPerSecond: durationMs > 0 ? Math.round((pages / durationMs) * 100_000) / 100 : 0,
    pageLatencyMs: calls.pageLatencyMs && { p50: calls.pageLatencyMs.p50, p95: calls.pageLatencyMs.p95 },
    throttled: calls.throttled,
    queriesStarted: input.queriesStarted,
    resumedFromCheckpoint: run?.resumedFromCheckpoint ?? 0,
    queriesReused: run?.queriesReused ?? 0,
    reconciled: input.reconciliation ? input.reconciliation.ok : input.state?.reconciliation?.ok,
    reconciliation: input.reconciliation,
    failures: run?.failures ?? [],
    calls,
    state: input.stateLocation,
  };
}
