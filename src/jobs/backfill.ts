import { CtlakeError, optionError, quoted } from '../errors.js';
import { continueState, sqlHash, type JobState } from './job-state.js';
import { checkJob, now, runWindow, toRecord, withJobState, type JobOptions, type RunResult, outputOf } from './job-run.js';
import { durationText, inRange, isoTime, MAX_WINDOW_MS, sliceCount, slices, windowKey, type TimeWindow } from './time-windows.js';

/** CloudTrail Lake runs at most 10 queries at once per account. */
export const MAX_CONCURRENCY = 10;
/** How many slices one run exports at most, oldest first, unless `maxSlices` says otherwise; the next run continues. */
export const DEFAULT_MAX_SLICES = 1000;
/**
 * A range of more slices than this is refused before any query. Lower than
 * export --window's bound because a backfill's state keeps every slice (so
 * that a rerun skips those done) and is rewritten whole as each one ends:
 * 100,000 records are about 25 MB.
 */
export const MAX_PLANNED_SLICES = 100_000;

export interface BackfillOptions extends JobOptions {
  /** [from, to), epoch ms. */
  from: number;
  to: number;
  /** Length of each slice, in ms (`--slice 1d`), 1 minute to MAX_WINDOW_MS; the last one ends at `to`. */
  sliceMs: number;
  /** Slices exported at once, 1 to 10. @default 4 */
  concurrency?: number | undefined;
  /** The most slices this run exports, oldest first among those not done; the next run continues. 1 to MAX_PLANNED_SLICES. @default DEFAULT_MAX_SLICES */
  maxSlices?: number | undefined;
  /** Called as slices start and end, with the counts so far. */
  onProgress?: ((event: BackfillProgress) => void) | undefined;
}

export interface BackfillProgress {
  phase: 'start' | 'end';
  key: string;
  result?: RunResult | undefined;
  total: number;
  done: number;
  running: number;
  failed: number;
  skipped: number;
  rows: number;
}

export interface BackfillSummary {
  /** exported: every slice this run tried is done (`remaining` says how many are left for the next run); nothing: all were done before; partial: some failed, others went out; failed: every one tried failed. */
  status: 'exported' | 'nothing' | 'partial' | 'failed';
  /** The slices of the range, in order: this run's results, and 'skipped' for those done before; not those left for the next run. */
  slices: Array<RunResult | (Omit<RunResult, 'status'> & { status: 'skipped' })>;
  /** Slices not done after this run: failed ones, and those beyond `maxSlices`. */
  remaining: number;
  rows: number;
  bytesScanned: number;
  state: string | undefined;
}

/**
 * Exports [from, to) as slices, each its own query and its own files
 * (named by the slice, so a slice exported twice is replaced, never
 * duplicated), `concurrency` at a time. A query that finds the account's 10
 * slots taken waits for one (MaxConcurrentQueriesException). A failed slice
 * does not stop the others; each slice's result goes to the state as it
 * ends, so a rerun skips the slices done and tries only the others. An
 * interrupt stops every running slice (each cancels its own query) and
 * leaves the state with the slices that were done.
 *
 * Bounded: a range of more than MAX_PLANNED_SLICES slices, counted
 * arithmetically, is refused (INVALID_OPTION) before any I/O; slices are
 * generated lazily, and one run takes at most `maxSlices` of those not yet
 * done, oldest first. A lock lost to another run stops every slice and
 * fails the run with LOCK_HELD.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillSummary> {
  checkJob(options);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new CtlakeError(
      'INVALID_OPTION',
      (n) => `${n('concurrency')} must be a whole number from 1 to ${MAX_CONCURRENCY} (CloudTrail Lake runs at most 10 queries at once), not ${concurrency}`,
      { option: 'concurrency' },
    );
  }
  for (const [name, value] of [['from', options.from], ['to', options.to]] as const) {
    if (!inRange(value)) throw optionError(name, value, 'epoch milliseconds from 1970-01-01 to 9999-12-31');
  }
  if (!(options.from < options.to)) throw new CtlakeError('INVALID_OPTION', (n) => `${n('from')} must be before ${n('to')}`, { option: 'from' });
  if (!Number.isInteger(options.sliceMs) || options.sliceMs < 60_000 || options.sliceMs > MAX_WINDOW_MS) {
    throw new CtlakeError('INVALID_OPTION', (n) => `${n('sliceMs')} must be from 1m to 366d, not ${quoted(options.sliceMs)} ms`, { option: 'sliceMs' });
  }
  const maxSlices = options.maxSlices ?? DEFAULT_MAX_SLICES;
  if (!Number.isInteger(maxSlices) || maxSlices < 1 || maxSlices > MAX_PLANNED_SLICES) throw optionError('maxSlices', options.maxSlices, `a whole number from 1 to ${MAX_PLANNED_SLICES}`);
  const total = sliceCount(options.from, options.to, options.sliceMs);
  if (total > MAX_PLANNED_SLICES) {
    throw new CtlakeError(
      'INVALID_OPTION',
      (n) =>
        `${n('from')} ${isoTime(options.from)} to ${n('to')} ${isoTime(options.to)} is ${total} slices of ${durationText(options.sliceMs)}, more than ${MAX_PLANNED_SLICES}: ` +
        `check ${n('from')}, ${n('to')} and ${n('sliceMs')} (a longer ${n('sliceMs')}, or a shorter range)`,
      { option: 'sliceMs' },
    );
  }
  return withJobState(options, async (file, lock) => {
    const fresh: JobState = {
      stateVersion: 1,
      job: 'backfill',
      sqlSha256: sqlHash(options.sqlTemplate),
      out: outputOf(options),
      from: isoTime(options.from),
      to: isoTime(options.to),
      sliceMs: options.sliceMs,
      runs: {},
      updatedAt: now(),
    };
    const state = continueState(file ? await file.read() : undefined, fresh, options.state ?? '');
    // One lazy pass: those done before are listed as skipped, the first
    // maxSlices of the others are this run's, the rest are left for the next.
    const todo: TimeWindow[] = [];
    let skipped = 0;
    for (const slice of slices(options.from, options.to, options.sliceMs)) {
      if (state.runs[windowKey(slice)]?.status === 'done') skipped++;
      else if (todo.length < maxSlices) todo.push(slice);
    }
    const signal = lock ? AbortSignal.any([lock.lost, ...(options.signal ? [options.signal] : [])]) : options.signal;
    const results = new Map<string, RunResult>();
    const counts = { total, done: 0, running: 0, failed: 0, skipped, rows: 0 };
    // State writes one after another: slices end in any order. A run that
    // lost its lock records nothing more: the state is the new holder's.
    let saving: Promise<void> = Promise.resolve();
    const save = () => (saving = saving.then(async () => ((state.updatedAt = now()), await lock?.check(), await file?.write(state))));

    let next = 0;
    const worker = async () => {
      while (next < todo.length && !signal?.aborted) {
        await lock?.check();
        const slice = todo[next++]!;
        const key = windowKey(slice);
        counts.running++;
        options.onProgress?.({ phase: 'start', key, ...counts });
        let result: RunResult;
        try {
          result = await runWindow(options, slice, signal);
        } finally {
          counts.running--;
        }
        results.set(key, result);
        state.runs[key] = toRecord(result);
        if (result.status === 'done') {
          counts.done++;
          counts.rows += result.rows ?? 0;
        } else counts.failed++;
        await save();
        options.onProgress?.({ phase: 'end', key, result, ...counts });
      }
    };
    const workers = Array.from({ length: Math.min(concurrency, todo.length) }, worker);
    const settled = await Promise.allSettled(workers);
    await saving;
    const interrupted = settled.find((s) => s.status === 'rejected');
    if (interrupted) throw (interrupted as PromiseRejectedResult).reason;
    // An interrupt between two slices stops the workers without a rejection:
    // the run still ends as interrupted, not as if every slice were done.
    if (signal?.aborted) throw new CtlakeError('INTERRUPTED', 'backfill interrupted; the slices done are recorded', { cause: signal.reason });

    const listed: BackfillSummary['slices'] = [];
    for (const s of slices(options.from, options.to, options.sliceMs)) {
      const key = windowKey(s);
      const result = results.get(key);
      const before = state.runs[key];
      if (result) listed.push(result);
      else if (before?.status === 'done') listed.push({ ...before, status: 'skipped' as const });
    }
    const mine = [...results.values()];
    const status = todo.length === 0 ? 'nothing' : mine.every((r) => r.status === 'done') ? 'exported' : mine.some((r) => r.status === 'done') ? 'partial' : 'failed';
    return {
      status,
      slices: listed,
      rows: mine.reduce((n, r) => n + (r.rows ?? 0), 0),
      bytesScanned: mine.reduce((n, r) => n + (r.bytesScanned ?? 0), 0),
      remaining: total - skipped - counts.done,
      state: options.state,
    };
  });
}
