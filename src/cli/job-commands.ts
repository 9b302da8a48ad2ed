import { writeFile } from 'node:fs/promises';
import { parseTimestamp } from '../rows/parse-value.js';
import { exportWindows, type WindowRunSummary } from '../jobs/export-windows.js';
import { backfill, type BackfillSummary } from '../jobs/backfill.js';
import type { JobOptions, RunResult } from '../jobs/job-run.js';
import { duration, integer, logFormat, parse, required, usage } from './args.js';
import { EXIT } from './exit-codes.js';
import { EXPORT_OPTIONS, estimatedCost, exportSettings, withFlagNames, type ExportValues } from './export-command.js';
import { BACKFILL_HELP } from './help.js';
import type { CliIO } from './cli-io.js';
import { Log } from './progress.js';
import { formatBytes } from './units.js';

/** A job's summary status to its exit code: cron and systemd tell them apart. */
const STATUS_EXIT = { exported: EXIT.OK, nothing: EXIT.NOTHING_TO_DO, partial: EXIT.PARTIAL, failed: EXIT.FAILURE } as const;

function instant(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseTimestamp(text.trim());
  } catch {
    throw usage(`${flag} must be a UTC time such as 2026-01-01T00:00:00Z or '2026-01-01 00:00:00', not '${text}'`);
  }
}

async function jobOptions(values: ExportValues, io: CliIO, log: Log): Promise<JobOptions & { pricePerGb: number }> {
  if (values['query-id'] !== undefined) throw usage('a windowed or backfill run starts its own queries: give --sql or --sql-file, not --query-id');
  const settings = await exportSettings(values, io);
  return {
    ...settings.options,
    pricePerGb: settings.pricePerGb,
    sqlTemplate: settings.sql!,
    state: values.state,
    lockLeaseMs: values['lock-lease'] === undefined ? undefined : duration(values['lock-lease'], '--lock-lease'),
    onRetry: (e) => log.retry(e),
    onStatus: (status) => log.status(status),
    onWarning: (message) => log.warn(message),
  };
}

function resultLine(what: string, r: RunResult): string {
  return r.status === 'done'
    ? `${what} ${r.start} .. ${r.end}: ${r.rows} rows, query ${r.queryId} scanned ${formatBytes(r.bytesScanned)}`
    : `${what} ${r.start} .. ${r.end} failed: ${r.error}`;
}

/** `ctlake export --window`: every closed window since the state's last, each its own query and files. */
export async function windowCommand(values: ExportValues, args: string[], io: CliIO): Promise<number> {
  const log = new Log(io.stderr, { format: logFormat(args, io), quiet: values.quiet ?? false, live: false });
  const { pricePerGb: _, ...options } = await jobOptions(values, io, log);
  const summary: WindowRunSummary = await withFlagNames(
    exportWindows({
      ...options,
      windowMs: duration(values.window!, '--window'),
      lagMs: values.lag === undefined ? 0 : duration(values.lag, '--lag'),
      since: instant(values.since, '--since'),
      now: instant(values.now, '--now'),
      onWindow: (e) => {
        if (e.phase === 'start') log.event('window', `window ${e.start} .. ${e.end}: exporting`, { start: e.start, end: e.end });
        else log.event(e.result!.status === 'done' ? 'window-done' : 'window-failed', resultLine('window', e.result!), { ...e.result, summary: undefined });
      },
    }),
  );
  const rows = summary.windows.reduce((n, w) => n + (w.rows ?? 0), 0);
  const text =
    summary.status === 'nothing'
      ? `nothing to do: no window has closed since ${summary.exportedUntil}`
      : `${summary.windows.filter((w) => w.status === 'done').length} of ${summary.windows.length} windows exported, ${rows} rows; exported until ${summary.exportedUntil}` +
        (summary.status === 'exported' ? '' : '; the next run retries the failed window');
  const record = { ...summary, windows: summary.windows.map(({ summary: _, ...w }) => w) };
  log.event('summary', text, record);
  if (values['summary-json']) await writeFile(values['summary-json'], JSON.stringify(record, null, 2) + '\n');
  return STATUS_EXIT[summary.status];
}

const BACKFILL_OPTIONS = {
  ...EXPORT_OPTIONS,
  from: { type: 'string' },
  to: { type: 'string' },
  slice: { type: 'string' },
  concurrency: { type: 'string' },
} as const;

/** `ctlake backfill`: [from, to) in slices, `--concurrency` queries at a time, resumable from its state. */
export async function backfillCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parse(args, BACKFILL_OPTIONS, 'backfill');
  if (values.help) {
    io.stdout.write(BACKFILL_HELP);
    return EXIT.OK;
  }
  for (const flag of ['window', 'lag', 'since', 'now'] as const) if (values[flag] !== undefined) throw usage(`--${flag} is for ctlake export --window; a backfill takes --from, --to and --slice`);
  if ((values.sql === undefined) === (values['sql-file'] === undefined)) throw usage('give one of --sql and --sql-file');
  const log = new Log(io.stderr, { format: logFormat(args, io), quiet: values.quiet ?? false, live: false });
  const { pricePerGb, ...options } = await jobOptions(values, io, log);
  const summary: BackfillSummary = await withFlagNames(
    backfill({
      ...options,
      from: instant(required(values.from, '--from', 'the start of the range, such as 2025-01-01T00:00:00Z'), '--from')!,
      to: instant(required(values.to, '--to', 'the end of the range (not included)'), '--to')!,
      sliceMs: duration(required(values.slice, '--slice', 'the length of each slice, such as 1d or 6h'), '--slice'),
      concurrency: values.concurrency === undefined ? undefined : integer(values.concurrency, '--concurrency', 1, 10),
      onProgress: (e) => {
        const counts = `${e.done + e.skipped}/${e.total} done, ${e.running} running, ${e.failed} failed, ${e.rows} rows`;
        if (e.phase === 'end') log.event(e.result!.status === 'done' ? 'slice-done' : 'slice-failed', `${resultLine('slice', e.result!)}; ${counts}`, { ...e, result: { ...e.result, summary: undefined } });
        else log.event('slice', `slice ${e.key} started; ${counts}`, { ...e });
      },
    }),
  );
  for (const s of summary.slices) {
    const line = s.status === 'skipped' ? `slice ${s.start} .. ${s.end}: done before (${s.rows} rows)` : resultLine('slice', s);
    log.event('slice-summary', line, { ...s, summary: undefined });
  }
  const cost = estimatedCost(summary.bytesScanned, pricePerGb);
  const counts = { done: 0, failed: 0, skipped: 0 };
  for (const s of summary.slices) counts[s.status]++;
  log.event(
    'summary',
    summary.status === 'nothing'
      ? `nothing to do: all ${summary.slices.length} slices were exported before`
      : `${counts.done} slices exported, ${counts.failed} failed, ${counts.skipped} done before; ${summary.rows} rows, ${formatBytes(summary.bytesScanned)} scanned` +
          `${cost === undefined ? '' : ` (about $${cost.toFixed(cost < 0.01 ? 4 : 2)})`}${counts.failed ? '; rerun to retry the failed slices' : ''}`,
    { ...summary, slices: summary.slices.map((s) => ({ ...s, summary: undefined })), estimatedCostUsd: cost },
  );
  if (values['summary-json']) {
    await writeFile(values['summary-json'], JSON.stringify({ ...summary, slices: summary.slices.map((s) => ({ ...s, summary: undefined })), estimatedCostUsd: cost }, null, 2) + '\n');
  }
  return STATUS_EXIT[summary.status];
}
