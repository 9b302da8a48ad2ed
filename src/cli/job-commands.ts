import { AsyncLocalStorage } from 'node:async_hooks';
import { exportWindows, MAX_PLANNED_WINDOWS, type WindowRunSummary } from '../jobs/export-windows.js';
import { backfill, MAX_PLANNED_SLICES, type BackfillSummary } from '../jobs/backfill.js';
import type { JobOptions, RunResult } from '../jobs/job-run.js';
import { integer, logFormat, required, usage } from './args.js';
import { EXIT } from './exit-codes.js';
import { estimatedCost, exportSettings, type ExportValues } from './export-settings.js';
import { CtlakeError } from '../errors.js';
import { BACKFILL_SPEC, EXPORT_SPEC } from './export-table.js';
import { commandHelp, optionNamer, parseFlags, type CommandSpec } from './flag-table.js';
import type { CliIO } from './cli-io.js';
import { Log } from './progress.js';
import { rangeLabel, sliceLabel } from './progress-format.js';
import { writeSummary } from './summary-file.js';
import { formatBytes } from './units.js';

/** A job's summary status to its exit code: cron and systemd tell them apart. */
const STATUS_EXIT = { exported: EXIT.OK, nothing: EXIT.NOTHING_TO_DO, partial: EXIT.PARTIAL, failed: EXIT.FAILURE } as const;

/**
 * The job's options, its hooks to the log. `run` says which slice or window
 * an onStatus or onPage is of, for its live line: the library's hooks do not
 * say (they are the exports' own, shared by all of a job's exports).
 */
async function jobOptions(values: ExportValues, io: CliIO, log: Log, run: () => string | undefined): Promise<JobOptions & { pricePerGb: number }> {
  if (values['query-id'] !== undefined) throw usage('a windowed or backfill run starts its own queries: give --sql or --sql-file, not --query-id');
  const settings = await exportSettings(values, io);
  return {
    ...settings.options,
    pricePerGb: settings.pricePerGb,
    sqlTemplate: settings.sql!,
    state: values.state,
    lockLeaseMs: values['lock-lease'],
    onRetry: (e) => log.retry(e),
    onStatus: (status) => log.status(status, run()),
    onPage: (e) => log.runPage(e, run()),
    onWarning: (message) => log.warn(message),
  };
}

/** A window's or slice's line; a failure is said with the command's flags for the options it names. */
function resultLine(what: string, r: RunResult, spec: CommandSpec): string {
  if (r.status === 'done') return `${what} ${r.start} .. ${r.end}: ${r.rows} rows, query ${r.queryId} scanned ${formatBytes(r.bytesScanned)}`;
  const why = r.failure instanceof CtlakeError ? r.failure.describe(optionNamer(spec)).split('\n')[0] : r.error;
  return `${what} ${r.start} .. ${r.end} failed: ${why}`;
}

/** A window's or slice's result for a log line or the summary file: without its export summary and the thrown error. */
function plain<R extends { summary?: unknown; failure?: unknown }>({ summary: _, failure: __, ...r }: R): Record<string, unknown> {
  return r;
}

/** `ctlake export --window`: every closed window since the state's last, each its own query and files. */
export async function windowCommand(values: ExportValues, args: string[], io: CliIO): Promise<number> {
  // A job writes only to its dataset: its live progress has the terminal to itself.
  const log = new Log(io.stderr, { format: logFormat(args, io), quiet: values.quiet ?? false, live: io.stderrIsTTY ?? false, signal: io.signal });
  // One window at a time: the hooks' events are the current window's.
  let current: string | undefined;
  const tally = { done: 0, failed: 0, rows: 0 };
  const { pricePerGb: _, ...options } = await jobOptions(values, io, log, () => current);
  let summary: WindowRunSummary;
  try {
    summary = await exportWindows({
      ...options,
      windowMs: values.window!,
      lagMs: values.lag ?? 0,
      since: values.since,
      now: values.now,
      maxWindows: values['max-windows'] === undefined ? undefined : integer(values['max-windows'], '--max-windows', 1, MAX_PLANNED_WINDOWS),
      onWindow: (e) => {
        const run = `${e.start}/${e.end}`;
        if (e.phase === 'start') {
          // Drawn live, the window's line says so.
          if (!log.drawing) log.event('window', `window ${e.start} .. ${e.end}: exporting`, { start: e.start, end: e.end });
          log.runStarted((current = run), `window ${rangeLabel(e.start, e.end)}`);
        } else {
          log.runEnded(run);
          current = undefined;
          if (e.result!.status === 'done') tally.done++;
          else tally.failed++;
          tally.rows += e.result!.rows ?? 0;
          log.event(e.result!.status === 'done' ? 'window-done' : 'window-failed', resultLine('window', e.result!, EXPORT_SPEC), plain(e.result!));
        }
        log.totals(`windows: ${tally.done} done, ${tally.failed} failed, ${tally.rows} rows`);
      },
    });
  } finally {
    log.stop();
  }
  const rows = summary.windows.reduce((n, w) => n + (w.rows ?? 0), 0);
  const text =
    summary.status === 'nothing'
      ? `nothing to do: no window has closed since ${summary.exportedUntil}`
      : `${summary.windows.filter((w) => w.status === 'done').length} of ${summary.windows.length} windows exported, ${rows} rows; exported until ${summary.exportedUntil}` +
        (summary.status === 'exported' ? '' : '; the next run retries the failed window');
  const record = { ...summary, windows: summary.windows.map(plain) };
  log.event('summary', text, record);
  // More closed windows than one run takes: progress, not failure (exit 0), and said.
  if (summary.status === 'exported' && summary.remaining > 0) {
    log.warn(`${summary.remaining} more windows have closed and remain; the next run continues from ${summary.exportedUntil} (at most --max-windows per run)`);
  }
  if (values['summary-json'] !== undefined) await writeSummary(values['summary-json'], record);
  return STATUS_EXIT[summary.status];
}

/** `ctlake backfill`: [from, to) in slices, `--concurrency` queries at a time, resumable from its state. */
export async function backfillCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(BACKFILL_SPEC, args);
  if (values.help) {
    io.stdout.write(commandHelp(BACKFILL_SPEC));
    return EXIT.OK;
  }
  for (const flag of ['window', 'lag', 'since', 'now', 'max-windows'] as const) {
    if (values[flag] !== undefined) throw usage(`--${flag} is for ctlake export --window; a backfill takes --from, --to and --slice${flag === 'max-windows' ? ' (and --max-slices)' : ''}`);
  }
  if ((values.sql === undefined) === (values['sql-file'] === undefined)) throw usage('give one of --sql and --sql-file');
  // A job writes only to its dataset: its live progress has the terminal to itself.
  const log = new Log(io.stderr, { format: logFormat(args, io), quiet: values.quiet ?? false, live: io.stderrIsTTY ?? false, signal: io.signal });
  // Slices run at once and share the hooks: each slice's export runs in the
  // async context its 'start' event entered (backfill() calls onProgress
  // just before it starts the slice's export, in the same synchronous run),
  // so that a status or page says its slice. See the note in jobOptions.
  const slice = new AsyncLocalStorage<string>();
  const { pricePerGb, ...options } = await jobOptions(values, io, log, () => slice.getStore());
  let summary: BackfillSummary;
  try {
    summary = await backfill({
      ...options,
      from: required(values.from, '--from', 'the start of the range, such as 2025-01-01T00:00:00Z'),
      to: required(values.to, '--to', 'the end of the range (not included)'),
      sliceMs: required(values.slice, '--slice', 'the length of each slice, such as 1d or 6h'),
      concurrency: values.concurrency,
      maxSlices: values['max-slices'] === undefined ? undefined : integer(values['max-slices'], '--max-slices', 1, MAX_PLANNED_SLICES),
      onProgress: (e) => {
        const counts = `${e.done + e.skipped}/${e.total} done, ${e.running} running, ${e.failed} failed, ${e.rows} rows`;
        if (e.phase === 'end') {
          log.runEnded(e.key);
          log.event(e.result!.status === 'done' ? 'slice-done' : 'slice-failed', `${resultLine('slice', e.result!, BACKFILL_SPEC)}; ${counts}`, { ...e, result: plain(e.result!) });
        } else {
          // Drawn live, the slice's line says so.
          if (!log.drawing) log.event('slice', `slice ${e.key} started; ${counts}`, { ...e });
          slice.enterWith(e.key);
          log.runStarted(e.key, `slice ${sliceLabel(e.key)}`);
        }
        log.totals(`slices: ${counts}`);
      },
    });
  } finally {
    log.stop();
  }
  for (const s of summary.slices) {
    const line = s.status === 'skipped' ? `slice ${s.start} .. ${s.end}: done before (${s.rows} rows)` : resultLine('slice', s as RunResult, BACKFILL_SPEC);
    log.event('slice-summary', line, plain(s));
  }
  const cost = estimatedCost(summary.bytesScanned, pricePerGb);
  const counts = { done: 0, failed: 0, skipped: 0 };
  for (const s of summary.slices) counts[s.status]++;
  log.event(
    'summary',
    summary.status === 'nothing'
      ? `nothing to do: all ${summary.slices.length} slices were exported before`
      : `${counts.done} slices exported, ${counts.failed} failed, ${counts.skipped} done before; ${summary.rows} rows, ${formatBytes(summary.bytesScanned)} scanned` +
          `${cost === undefined ? '' : ` (about ${cost.text})`}${counts.failed ? '; rerun to retry the failed slices' : ''}`,
    { ...summary, slices: summary.slices.map(plain), estimatedCostUsd: cost?.usd },
  );
  // More slices to do than one run takes: progress, not failure, and said.
  if (summary.remaining > counts.failed) {
    log.warn(`${summary.remaining - counts.failed} more slices remain; the next run continues with them (at most --max-slices per run)`);
  }
  if (values['summary-json'] !== undefined) {
    await writeSummary(values['summary-json'], { ...summary, slices: summary.slices.map(plain), estimatedCostUsd: cost?.usd });
  }
  return STATUS_EXIT[summary.status];
}
