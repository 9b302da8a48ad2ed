import { AsyncLocalStorage } from 'node:async_hooks';
import { migrate, type MigrateSummary } from '../jobs/migrate.js';
import { planJson, renderPlan } from '../jobs/migrate-plan-report.js';
import { CtlakeError } from '../errors.js';
import { logFormat, usage } from './args.js';
import { EXIT } from './exit-codes.js';
import { exportSettings, type ExportValues } from './export-settings.js';
import { commandHelp, optionNamer, parseFlags } from './flag-table.js';
import type { CliIO } from './cli-io.js';
import { MIGRATE_SPEC } from './migrate-table.js';
import { Log } from './progress.js';
import { sliceLabel } from './progress-format.js';
import { writeSummary } from './summary-file.js';
import { formatBytes } from './units.js';

const STATUS_EXIT = { exported: EXIT.OK, planned: EXIT.OK, nothing: EXIT.NOTHING_TO_DO, partial: EXIT.PARTIAL, failed: EXIT.FAILURE, mismatch: EXIT.RECONCILE_MISMATCH } as const;

/** `ctlake migrate`: a whole event data store into a dataset, planned, paced, resumable and reconciled. */
export async function migrateCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(MIGRATE_SPEC, args);
  if (values.help) {
    io.stdout.write(commandHelp(MIGRATE_SPEC));
    return EXIT.OK;
  }
  for (const flag of ['window', 'lag', 'since', 'now', 'max-windows', 'query-id'] as const) {
    if (values[flag] !== undefined) throw usage(`--${flag} is not for ctlake migrate: it plans its own slices and starts their queries`);
  }
  if (values.sql !== undefined && values['sql-file'] !== undefined) throw usage('give at most one of --sql and --sql-file');
  if (values.json && !values.plan) throw usage('--json goes with --plan (the run summary as JSON goes to --summary-json)');
  const store = values['event-data-store'];
  if (store === undefined || store === '') throw usage('--event-data-store is required: the ARN or id of the event data store to migrate');
  if (!values.plan && values.state === undefined) throw usage('--state is required: where the plan and each slice are recorded, so that a rerun resumes (give --plan to only print the plan)');
  // exportSettings wants --out even for a plan: a plan names no output, so a stand-in dataset is checked instead.
  const settingsValues = { ...values, out: values.out ?? (values.plan ? './plan-only/' : undefined) } as ExportValues;
  const settings = await exportSettings(settingsValues, io);
  const log = new Log(io.stderr, { format: logFormat(args, io), quiet: values.quiet ?? false, live: io.stderrIsTTY ?? false, signal: io.signal });
  const slice = new AsyncLocalStorage<string>();
  let summary: MigrateSummary;
  try {
    summary = await migrate({
      ...settings.options,
      pricePerGb: settings.pricePerGb,
      eventDataStore: store,
      sqlTemplate: settings.sql,
      state: values.state,
      lockLeaseMs: values['lock-lease'],
      from: values.from,
      to: values.to,
      concurrency: values.concurrency,
      readTps: values['tps-read'],
      writeTps: values['tps-write'],
      targetEventsPerSlice: values['slice-events'],
      minSliceMs: values['min-slice'],
      checkpointRows: values['checkpoint-rows'],
      maxSlices: values['max-slices'],
      planOnly: values.plan,
      onRetry: (e) => log.retry(e),
      onStatus: (status) => log.status(status, slice.getStore()),
      onPage: (e) => log.runPage(e, slice.getStore()),
      onWarning: (message) => log.warn(message),
      onProgress: (e) => {
        const counts = `${e.done}/${e.total} slices done, ${e.running} running, ${e.rows} rows`;
        if (e.phase === 'plan') log.event('plan', `planned ${e.total} slices`, { slices: e.total });
        else if (e.phase === 'reconcile') log.event('reconcile', `every slice is done; counting Lake's events per day to reconcile`, {});
        else if (e.phase === 'start') {
          if (!log.drawing) log.event('slice', `slice ${e.key} started; ${counts}`, { key: e.key });
          slice.enterWith(e.key!);
          log.runStarted(e.key!, `slice ${sliceLabel(e.key!)}`);
        } else if (e.phase === 'split') {
          log.runEnded(e.key!);
          log.event('slice-split', `slice ${e.key} ended TIMED_OUT; split in two (${e.slice!.children!.join(', ')}); its partial rows are not committed`, { key: e.key, children: e.slice!.children });
        } else if (e.phase === 'end') {
          log.runEnded(e.key!);
          const s = e.slice!;
          const why = e.failure instanceof CtlakeError ? e.failure.describe(optionNamer(MIGRATE_SPEC)).split('\n')[0] : s.error;
          const line = s.status === 'done' ? `slice ${s.start} .. ${s.end}: ${s.rows} rows, query ${s.queryId} scanned ${formatBytes(s.bytesScanned)}; ${counts}` : `slice ${s.start} .. ${s.end} failed: ${why}`;
          log.event(s.status === 'done' ? 'slice-done' : 'slice-failed', line, { key: s.key, status: s.status, rows: s.rows, queryId: s.queryId, error: s.error });
        }
        if (e.phase !== 'checkpoint') log.totals(`slices: ${counts}`);
      },
    });
  } finally {
    log.stop();
  }
  if (summary.status === 'planned') {
    const plan = summary.plan!;
    if (values.json) io.stdout.write(JSON.stringify({ store: summary.store, ...planJson(plan) }, null, 2) + '\n');
    else for (const line of renderPlan(plan)) io.stderr.write(`${line}\n`);
    if (values['summary-json'] !== undefined) await writeSummary(values['summary-json'], { store: summary.store, ...planJson(plan) });
    return EXIT.OK;
  }
  const r = summary.reconciliation;
  for (const m of r?.mismatches.slice(0, 20) ?? []) {
    log.event('reconcile-mismatch', `days ${m.days[0]}${m.days.length > 1 ? ` .. ${m.days[m.days.length - 1]}` : ''}: Lake counts ${m.lakeEvents} events, the slices ${m.slices.join(', ') || '(none)'} committed ${m.rows} rows; the next run exports them again`, m);
  }
  const latency = summary.pageLatencyMs ? `, page latency p50 ${Math.round(summary.pageLatencyMs.p50)} ms p95 ${Math.round(summary.pageLatencyMs.p95)} ms` : '';
  const reconciled = summary.reconciled === undefined ? 'not reconciled yet (slices remain)' : summary.reconciled ? `reconciled (${r?.days ?? ''} days match${r?.expiredDays ? `, ${r.expiredDays} expired since` : ''})` : 'reconciliation FAILED';
  const text =
    summary.status === 'nothing'
      ? `nothing to do: all ${summary.slices} slices were exported and reconciled before`
      : `${summary.slicesExported} slices exported (${summary.slicesDone}/${summary.slices} done, ${summary.remaining} remaining), ${summary.splits} splits, ${summary.rows} rows, ` +
        `${formatBytes(summary.bytesScanned)} scanned${summary.cost ? ` (about ${summary.cost.text})` : ''}; ${summary.queriesStarted} queries started, ${summary.resumedFromCheckpoint} slices resumed from a checkpoint, ` +
        `${summary.throttled} throttled calls, ${summary.pagesPerSecond} pages/s${latency}; ${reconciled}`;
  const record = summaryRecord(summary);
  log.event('summary', text, record);
  if (values['summary-json'] !== undefined) await writeSummary(values['summary-json'], record);
  return STATUS_EXIT[summary.status];
}

/** The summary as JSON: every figure, without the store's description of Dates. */
function summaryRecord(summary: MigrateSummary): Record<string, unknown> {
  const { plan: _, calls, store, ...rest } = summary;
  return { ...rest, store: store && { arn: store.arn, name: store.name, storeType: store.storeType, retentionDays: store.retentionDays }, calls: { requests: calls.requests, byOperation: calls.byOperation, waitedMs: Math.round(calls.waitedMs) } };
}
