// The migrate case's figures: what the rate limits allow a migration, each
// run against that ceiling, and the text table printed on stdout. Pure
// functions: no I/O, no processes.
import { count, fixed, kibToMB, round, table } from './results-table.mjs';

/** The read calls that share Lake's read rate with GetQueryResults (src/source/rate-limit.ts: Get*, Describe*, List*). */
const OTHER_READS = ['DescribeQuery', 'GetEventDataStore', 'ListQueries', 'ListEventDataStores'];

/**
 * The fastest a migration can go under the rate limits, in rows a second,
 * over a run of `wallMs` with `concurrency` slices at once:
 *
 *   chain   = concurrency × pageSize × 1000 / latencyMs
 *   read    = (tpsRead − otherReads / T) × pageSize
 *   ceiling = min(chain, read)
 *
 * `chain`: a slice's pages are a chain (each GetQueryResults needs the last
 * one's NextToken), so a slice reads at most one page of `pageSize` rows per
 * round trip, and a round trip takes at least the service's latency
 * (ctlake's own time per page only adds to it). `read`: every read call of
 * the run shares `tpsRead`, so the pages get what the DescribeQuery polls and
 * the other reads (`otherReads` calls in T = wallMs seconds) leave.
 *
 * Also returned, as a bound the ceiling leaves out: `starts`, the rows a
 * second the run could reach if StartQuery were its only limit. A run cannot
 * end before its `queriesStarted` StartQuery calls went out at `tpsWrite` a
 * second, so rows / T ≤ rows × tpsWrite / queriesStarted.
 */
export function migrateCeiling({ concurrency, latencyMs, tpsRead, tpsWrite, pageSize, wallMs, rows, otherReads, queriesStarted }) {
  const seconds = wallMs / 1000;
  const chain = latencyMs > 0 ? (concurrency * pageSize * 1000) / latencyMs : Infinity;
  const read = Math.max(0, tpsRead - otherReads / seconds) * pageSize;
  const starts = queriesStarted > 0 ? (rows * tpsWrite) / queriesStarted : Infinity;
  return { chain: Math.round(chain), read: Math.round(read), ceiling: Math.round(Math.min(chain, read)), starts: Math.round(starts) };
}

/**
 * One concurrency, from its runs (one per --repeat): the run with the median
 * wall time gives the figures, peak RSS is the largest of any run. A run is
 * { wallMs, exitCode, usage, summary, emulatorCpuMs, otherCpuMs, emulatorCalls }
 * with `usage` from bench/process-usage.mjs and `summary` ctlake's --summary-json.
 */
export function summarizeMigrate({ concurrency, settings, runs }) {
  const failed = runs.find((run) => run.failed);
  if (failed) return { concurrency, failed: failed.failed, runs };
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const { summary, usage } = median;
  const byOperation = summary.calls?.byOperation ?? {};
  const otherReads = OTHER_READS.reduce((sum, op) => sum + (byOperation[op]?.requests ?? 0), 0);
  const cpuMs = usage.cpuUserMs + usage.cpuSystemMs;
  const rowsPerSec = summary.rows / (median.wallMs / 1000);
  const limits = migrateCeiling({ concurrency, ...settings, wallMs: median.wallMs, rows: summary.rows, otherReads, queriesStarted: summary.queriesStarted });
  // One account's rate, all of it: tpsRead full pages a second.
  const accountRowsPerSec = settings.tpsRead * settings.pageSize;
  const coresPerAccount = summary.rows > 0 ? ((cpuMs / summary.rows) * accountRowsPerSec) / 1000 : undefined;
  return {
    concurrency,
    status: summary.status,
    exitCode: median.exitCode,
    slices: summary.slices,
    splits: summary.splits,
    rows: summary.rows,
    wallMs: median.wallMs,
    durationMs: summary.durationMs,
    rowsPerSec: Math.round(rowsPerSec),
    cpuMs,
    cpuUserMs: usage.cpuUserMs,
    cpuSystemMs: usage.cpuSystemMs,
    cpuMsPer100kRows: summary.rows > 0 ? Math.round((cpuMs / summary.rows) * 100_000) : undefined,
    peakRssMB: round(Math.max(...runs.map((run) => kibToMB(run.usage.maxRssKiB))), 1),
    emulatorCpuMs: median.emulatorCpuMs,
    otherCpuMs: median.otherCpuMs,
    pages: summary.pages,
    pagesPerSecond: summary.pagesPerSecond,
    pageLatencyMs: summary.pageLatencyMs && { p50: Math.round(summary.pageLatencyMs.p50), p95: Math.round(summary.pageLatencyMs.p95) },
    throttled: summary.throttled,
    throttledByOperation: Object.fromEntries(Object.entries(byOperation).filter(([, c]) => c.throttled > 0).map(([op, c]) => [op, c.throttled])),
    queriesStarted: summary.queriesStarted,
    calls: byOperation,
    otherReads,
    emulatorCalls: median.emulatorCalls,
    retries: median.retries,
    reconciled: summary.reconciled,
    ...limits,
    ratioToCeiling: round(rowsPerSec / limits.ceiling, 3),
    accountsPerCore: coresPerAccount ? round(1 / coresPerAccount, 1) : undefined,
    runs,
  };
}

/** The migrate report as text: the settings, the table, the formula and what the CPU figure implies. */
export function formatMigrateReport(migrate) {
  const s = migrate.settings;
  const lines = [
    `ctlake bench, migrate: ${count(s.events)} sample events over ${s.days} uneven days, --slice-events ${count(s.sliceEvents)}, Parquet, --partition-by eventTime:day; ` +
      `emulator at --tps-read ${s.tpsRead} --tps-write ${s.tpsWrite}, ${s.latencyMs} ms on every answer; median of ${s.repeat} run${s.repeat === 1 ? '' : 's'}`,
    '',
    ...table(
      ['concurrency', 'slices', 'rows', 'wall s', 'rows/s', 'CPU s', 'CPU s/100k', 'emu CPU s', 'other CPU s', 'peak RSS MB', 'pages/s', 'p50 ms', 'p95 ms', 'throttled', 'queries', 'ceiling', 'x ceiling', 'start bound'],
      migrate.runs.map((r) =>
        r.failed
          ? [String(r.concurrency), ...Array(17).fill('-')]
          : [
              String(r.concurrency),
              count(r.slices),
              count(r.rows),
              fixed(r.wallMs / 1000, 1),
              count(r.rowsPerSec),
              fixed(r.cpuMs / 1000, 2),
              fixed(r.cpuMsPer100kRows / 1000, 2),
              fixed(r.emulatorCpuMs / 1000, 1),
              fixed(r.otherCpuMs / 1000, 1),
              fixed(r.peakRssMB, 0),
              fixed(r.pagesPerSecond, 2),
              count(r.pageLatencyMs?.p50),
              count(r.pageLatencyMs?.p95),
              count(r.throttled),
              count(r.queriesStarted),
              count(r.ceiling),
              `${fixed(r.ratioToCeiling, 2)}x`,
              count(r.starts),
            ],
      ),
    ),
    '',
    `ceiling = min(concurrency x ${s.pageSize} x 1000 / ${s.latencyMs} ms, (${s.tpsRead} - other read calls / wall s) x ${s.pageSize}) rows/s; ` +
      `start bound = rows x ${s.tpsWrite} / queries started (StartQuery at --tps-write)`,
  ];
  for (const r of migrate.runs) {
    if (r.failed) {
      lines.push(`FAILED: concurrency ${r.concurrency}: ${r.failed}`);
      continue;
    }
    if (r.status !== 'exported' || !r.reconciled) lines.push(`concurrency ${r.concurrency}: status ${r.status}, exit ${r.exitCode}, reconciled ${r.reconciled}`);
    if (r.throttled > 0) {
      lines.push(`concurrency ${r.concurrency}: ${r.throttled} calls throttled (${Object.entries(r.throttledByOperation).map(([op, n]) => `${op} ${n}`).join(', ')}), each retried`);
    }
  }
  const widest = migrate.runs.filter((r) => !r.failed && r.accountsPerCore !== undefined).at(-1);
  if (widest) {
    lines.push(
      `one core: ${fixed(widest.cpuMsPer100kRows / 1000, 2)} CPU s per 100,000 rows (concurrency ${widest.concurrency}, whole process) means an account's full rate ` +
        `(${count(s.tpsRead * s.pageSize)} rows/s) takes ${fixed(100 / widest.accountsPerCore, 0)}% of a core: one core carries about ${fixed(widest.accountsPerCore, 1)} accounts`,
    );
  }
  const noisy = migrate.runs.filter((r) => !r.failed && r.otherCpuMs > 0.1 * r.wallMs);
  if (noisy.length) lines.push(`warning: other processes used more than 10% of a CPU during concurrency ${noisy.map((r) => r.concurrency).join(', ')}; rerun on a quiet machine before trusting those figures`);
  return lines.join('\n') + '\n';
}
