import { CtlakeError } from '../errors.js';
import { continueState, sqlHash, trimRuns, type JobState } from './job-state.js';
import { checkJob, now, runWindow, toRecord, withJobState, type JobOptions, type RunResult } from './job-run.js';
import { closedWindows, isoTime } from './time-windows.js';

export interface WindowOptions extends JobOptions {
  /** Length of each window, in ms (`--window 1h`). */
  windowMs: number;
  /** How long after its end a window is still left alone, for late events (`--lag 15m`). @default 0 */
  lagMs?: number | undefined;
  /** Where the first window starts when the state is empty (epoch ms). */
  since?: number | undefined;
  /** The clock, in epoch ms (`--now`, for replays and tests). @default Date.now() */
  now?: number | undefined;
  onWindow?: ((event: { phase: 'start' | 'end'; result?: RunResult; key: string; start: string; end: string }) => void) | undefined;
}

export interface WindowRunSummary {
  /** exported: every closed window went out; nothing: none had closed; partial: some went out, then one failed; failed: the first failed. */
  status: 'exported' | 'nothing' | 'partial' | 'failed';
  windows: RunResult[];
  /** Every window before this instant is exported (ISO-8601), as the state now says. */
  exportedUntil: string;
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
 */
export async function exportWindows(options: WindowOptions): Promise<WindowRunSummary> {
  checkJob(options);
  if (!Number.isInteger(options.windowMs) || options.windowMs < 60_000) throw new CtlakeError('INVALID_OPTION', '--window must be at least 1m');
  return withJobState(options, async (file, lock) => {
    const stored = file ? await file.read() : undefined;
    if (!stored?.exportedUntil && options.since === undefined) {
      throw new CtlakeError('INVALID_OPTION', `--since is required${file ? ` while --state ${file.location} is empty` : ''}: where the first window starts`);
    }
    const fresh: JobState = { stateVersion: 1, job: 'windows', sqlSha256: sqlHash(options.sqlTemplate), out: options.out, runs: {}, updatedAt: now() };
    const state = continueState(stored, fresh, options.state ?? '');
    const from = state.exportedUntil ? Date.parse(state.exportedUntil) : options.since!;
    const until = (options.now ?? Date.now()) - (options.lagMs ?? 0);
    const windows = closedWindows(from, options.windowMs, until);
    const signal = lock ? AbortSignal.any([lock.lost, ...(options.signal ? [options.signal] : [])]) : options.signal;
    const results: RunResult[] = [];
    let exportedUntil = from;
    for (const window of windows) {
      options.onWindow?.({ phase: 'start', key: '', start: isoTime(window.start), end: isoTime(window.end) });
      const result = await runWindow(options, window, signal);
      results.push(result);
      state.runs[result.key] = toRecord(result);
      if (result.status === 'done') state.exportedUntil = isoTime((exportedUntil = window.end));
      state.updatedAt = now();
      trimRuns(state);
      await file?.write(state);
      options.onWindow?.({ phase: 'end', result, key: result.key, start: result.start, end: result.end });
      if (result.status === 'failed') break;
    }
    const done = results.filter((r) => r.status === 'done').length;
    const status = windows.length === 0 ? 'nothing' : done === results.length ? 'exported' : done > 0 ? 'partial' : 'failed';
    return { status, windows: results, exportedUntil: isoTime(exportedUntil), state: options.state };
  });
}
