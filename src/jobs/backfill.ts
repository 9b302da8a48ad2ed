import { CtlakeError } from '../errors.js';
import { continueState, sqlHash, type JobState } from './job-state.js';
import { checkJob, now, runWindow, toRecord, withJobState, type JobOptions, type RunResult } from './job-run.js';
import { isoTime, slices, windowKey } from './time-windows.js';

/** CloudTrail Lake runs at most 10 queries at once per account. */
export const MAX_CONCURRENCY = 10;

export interface BackfillOptions extends JobOptions {
  /** [from, to), epoch ms. */
  from: number;
  to: number;
  /** Length of each slice, in ms (`--slice 1d`); the last one ends at `to`. */
  sliceMs: number;
  /** Slices exported at once, 1 to 10. @default 4 */
  concurrency?: number | undefined;
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
  /** exported: every slice is now done; nothing: all were done before; partial: some failed, others went out; failed: every one tried failed. */
  status: 'exported' | 'nothing' | 'partial' | 'failed';
  /** Every slice of the range, in order: this run's results, and 'skipped' for those done before. */
  slices: Array<RunResult | (Omit<RunResult, 'status'> & { status: 'skipped' })>;
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
 */
export async function backfill(options: BackfillOptions): Promise<BackfillSummary> {
  checkJob(options);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new CtlakeError('INVALID_OPTION', `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY} (CloudTrail Lake runs at most 10 queries at once), not ${concurrency}`);
  }
  if (!(options.from < options.to)) throw new CtlakeError('INVALID_OPTION', '--from must be before --to');
  if (!Number.isInteger(options.sliceMs) || options.sliceMs < 60_000) throw new CtlakeError('INVALID_OPTION', '--slice must be at least 1m');
  return withJobState(options, async (file, lock) => {
    const fresh: JobState = {
      stateVersion: 1,
      job: 'backfill',
      sqlSha256: sqlHash(options.sqlTemplate),
      out: options.out,
      from: isoTime(options.from),
      to: isoTime(options.to),
      sliceMs: options.sliceMs,
      runs: {},
      updatedAt: now(),
    };
    const state = continueState(file ? await file.read() : undefined, fresh, options.state ?? '');
    const all = slices(options.from, options.to, options.sliceMs);
    const todo = all.filter((s) => state.runs[windowKey(s)]?.status !== 'done');
    const signal = lock ? AbortSignal.any([lock.lost, ...(options.signal ? [options.signal] : [])]) : options.signal;
    const results = new Map<string, RunResult>();
    const counts = { total: all.length, done: 0, running: 0, failed: 0, skipped: all.length - todo.length, rows: 0 };
    // State writes one after another: slices end in any order.
    let saving: Promise<void> = Promise.resolve();
    const save = () => (saving = saving.then(() => ((state.updatedAt = now()), file?.write(state))));

    let next = 0;
    const worker = async () => {
      while (next < todo.length && !signal?.aborted) {
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

    const listed = all.map((s) => {
      const key = windowKey(s);
      const result = results.get(key);
      if (result) return result;
      const { status: _, ...before } = state.runs[key]!;
      return { ...before, status: 'skipped' as const };
    });
    const mine = [...results.values()];
    const status = todo.length === 0 ? 'nothing' : mine.every((r) => r.status === 'done') ? 'exported' : mine.some((r) => r.status === 'done') ? 'partial' : 'failed';
    return {
      status,
      slices: listed,
      rows: mine.reduce((n, r) => n + (r.rows ?? 0), 0),
      bytesScanned: mine.reduce((n, r) => n + (r.bytesScanned ?? 0), 0),
      state: options.state,
    };
  });
}
