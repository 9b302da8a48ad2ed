import { CtlakeError, optionError, quoted, type OptionNamer } from '../errors.js';
import { continueState, sqlHash, trimRuns, type JobState } from './job-state.js';
import { checkJob, now, runWindow, toRecord, withJobState, type JobOptions, type RunResult, outputOf } from './job-run.js';
import { closedWindowCount, closedWindows, durationText, inRange, isoTime, MAX_LAG_MS, MAX_WINDOW_MS } from './time-windows.js';

/**
 * How many windows one run exports at most, oldest first, unless
 * `maxWindows` says otherwise. A backlog (a first run, or a job that was
 * stopped for weeks) is worked off over several runs, each one making
 * progress and leaving the rest to the next, instead of one run that holds
 * the lock for days.
 */
export const DEFAULT_MAX_WINDOWS = 1000;
/**
 * A plan of more windows than this is refused before any query: it is a
 * typo (`--since 0001-01-01` with `--window 1m` is a billion windows), not
 * a backlog; history that long is a `backfill` with longer slices.
 */
export const MAX_PLANNED_WINDOWS = 1_000_000;
/**
 * How far past now a state's exportedUntil may be (clocks of two hosts
 * sharing an S3 state differ) before it is refused: beyond it, every run
 * would say "nothing to do" and export nothing, while cron sees success.
 */
export const FUTURE_TOLERANCE_MS = 86_400_000;

export interface WindowOptions extends JobOptions {
  /** Length of each window, in ms (`--window 1h`): 1 minute to MAX_WINDOW_MS. */
  windowMs: number;
  /** How long after its end a window is still left alone, for late events (`--lag 15m`); at most MAX_LAG_MS. @default 0 */
  lagMs?: number | undefined;
  /** Where the first window starts when the state is empty (epoch ms). */
  since?: number | undefined;
  /** The clock, in epoch ms (`--now`, for replays and tests). @default Date.now() */
  now?: number | undefined;
  /** The most windows this run exports, oldest first; the next run continues. 1 to MAX_PLANNED_WINDOWS. @default DEFAULT_MAX_WINDOWS */
  maxWindows?: number | undefined;
  onWindow?: ((event: { phase: 'start' | 'end'; result?: RunResult; key: string; start: string; end: string }) => void) | undefined;
}

export interface WindowRunSummary {
  /** exported: every closed window went out; nothing: none had closed; partial: some went out, then one failed; failed: the first failed. */
  status: 'exported' | 'nothing' | 'partial' | 'failed';
  windows: RunResult[];
  /** Every window before this instant is exported (ISO-8601), as the state now says. */
  exportedUntil: string;
  /** Windows that have closed but were left for the next run (beyond `maxWindows`, or after a failed one). */
  remaining: number;
  state: string | undefined;
}

/**
 * One run of a scheduled export: every whole window between the state's
 * `exportedUntil` (or `since`) and now minus the lag, oldest first, each
 * as its own query into its own files (named by the window, so a rerun of
 * a window replaces it). The state moves past a window only after that
 * window's files, manifest and _SUCCESS are committed, and the run stops at
 * the first window that fails, so the next run starts with it: no gap, no
 * overlap, no window twice. Runs on one state exclude each other by its lock.
 *
 * Bounded: at most `maxWindows` windows per run (the rest are `remaining`,
 * for the next run), generated lazily, and a plan of more than
 * MAX_PLANNED_WINDOWS, counted arithmetically, is refused (INVALID_OPTION)
 * before any query. A lock lost to another run stops the run with
 * LOCK_HELD at the next window or state write (or at once, through the
 * export's signal, at a renewal).
 */
export async function exportWindows(options: WindowOptions): Promise<WindowRunSummary> {
  checkJob(options);
  if (!Number.isInteger(options.windowMs) || options.windowMs < 60_000 || options.windowMs > MAX_WINDOW_MS) {
    throw new CtlakeError('INVALID_OPTION', (n) => `${n('windowMs')} must be from 1m to 366d, not ${quoted(options.windowMs)} ms`, { option: 'windowMs' });
  }
  const lagMs = options.lagMs ?? 0;
  if (!Number.isInteger(lagMs) || lagMs < 0 || lagMs > MAX_LAG_MS) {
    throw new CtlakeError('INVALID_OPTION', (n) => `${n('lagMs')} must be from 0 to 30d, not ${quoted(lagMs)} ms`, { option: 'lagMs' });
  }
  const maxWindows = options.maxWindows ?? DEFAULT_MAX_WINDOWS;
  if (!Number.isInteger(maxWindows) || maxWindows < 1 || maxWindows > MAX_PLANNED_WINDOWS) throw optionError('maxWindows', options.maxWindows, `a whole number from 1 to ${MAX_PLANNED_WINDOWS}`);
  for (const [name, value] of [['since', options.since], ['now', options.now]] as const) {
    if (value !== undefined && !inRange(value)) throw optionError(name, value, 'epoch milliseconds from 1970-01-01 to 9999-12-31');
  }
  const clock = options.now ?? Date.now();
  return withJobState(options, async (file, lock) => {
    const stored = file ? await file.read() : undefined;
    if (!stored?.exportedUntil && options.since === undefined) {
      throw new CtlakeError('INVALID_OPTION', (n) => `${n('since')} is required${file ? ` while ${n('state')} ${file.location} is empty` : ''}: where the first window starts`, {
        option: 'since',
      });
    }
    const fresh: JobState = { stateVersion: 1, job: 'windows', sqlSha256: sqlHash(options.sqlTemplate), out: outputOf(options), runs: {}, updatedAt: now() };
    const state = continueState(stored, fresh, options.state ?? '');
    const from = state.exportedUntil ? Date.parse(state.exportedUntil) : options.since!;
    // Whichever is later, the real clock or --now: a replay with an earlier
    // --now than the state's is "nothing to do", not a bad state.
    const latest = Math.max(clock, Date.now());
    if (state.exportedUntil && from > latest + FUTURE_TOLERANCE_MS) {
      throw new CtlakeError(
        'STATE_INVALID',
        (n) =>
          `${n('state')} ${options.state} says every window until ${quoted(state.exportedUntil)} is exported, which is more than a day later than now (${isoTime(latest)}): ` +
          `no run would export anything until then; it was written with a later ${n('now')}, or edited: restore it from a backup, or delete it to start over from ${n('since')}`,
        { option: 'state' },
      );
    }
    if (!state.exportedUntil && from > clock) {
      throw new CtlakeError('INVALID_OPTION', (n) => `${n('since')} ${isoTime(from)} is later than now (${isoTime(clock)}): no window would close before then; check its year`, {
        option: 'since',
      });
    }
    const until = clock - lagMs;
    const planned = closedWindowCount(from, options.windowMs, until);
    if (planned > MAX_PLANNED_WINDOWS) {
      const start = (n: OptionNamer) => (state.exportedUntil ? `the state's exportedUntil ${quoted(state.exportedUntil)}` : `${n('since')} ${isoTime(from)}`);
      throw new CtlakeError(
        'INVALID_OPTION',
        (n) =>
          `${planned} windows of ${durationText(options.windowMs)} have closed since ${start(n)}, more than ${MAX_PLANNED_WINDOWS}: check ${n('since')} and ${n('windowMs')} ` +
          `(a later ${n('since')} or a longer ${n('windowMs')}); for years of history, run ctlake backfill with longer slices`,
        { option: 'windowMs' },
      );
    }
    const signal = lock ? AbortSignal.any([lock.lost, ...(options.signal ? [options.signal] : [])]) : options.signal;
    const results: RunResult[] = [];
    let exportedUntil = from;
    for (const window of closedWindows(from, options.windowMs, until, maxWindows)) {
      await lock?.check();
      options.onWindow?.({ phase: 'start', key: '', start: isoTime(window.start), end: isoTime(window.end) });
      const result = await runWindow(options, window, signal);
      results.push(result);
      state.runs[result.key] = toRecord(result);
      if (result.status === 'done') state.exportedUntil = isoTime((exportedUntil = window.end));
      state.updatedAt = now();
      trimRuns(state);
      // A run that lost its lock records nothing more: the state is the new holder's.
      await lock?.check();
      await file?.write(state);
      options.onWindow?.({ phase: 'end', result, key: result.key, start: result.start, end: result.end });
      if (result.status === 'failed') break;
    }
    const done = results.filter((r) => r.status === 'done').length;
    const status = planned === 0 ? 'nothing' : done === results.length ? 'exported' : done > 0 ? 'partial' : 'failed';
    return { status, windows: results, exportedUntil: isoTime(exportedUntil), remaining: planned - done, state: options.state };
  });
}
