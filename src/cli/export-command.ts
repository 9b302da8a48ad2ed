import { exportQuery, type ExportSummary } from '../export/export-query.js';
import { logFormat, usage } from './args.js';
import type { CliIO } from './cli-io.js';
import { EXIT } from './exit-codes.js';
import { estimatedCost, exportSettings, logHooks } from './export-settings.js';
import { EXPORT_SPEC, WINDOW_ONLY_FLAGS } from './export-table.js';
import { commandHelp, parseFlags } from './flag-table.js';
import { Log } from './progress.js';
import { writeSummary } from './summary-file.js';
import { sharesTerminal } from './terminal-region.js';
import { parseTarget } from '../destinations/target.js';
import { formatBytes, formatDuration } from './units.js';

/**
 * `ctlake export`: a thin shell over exportQuery(), or over exportWindows()
 * with --window. An option error of the library reaches main(), which shows
 * it under the flag that set the option (EXPORT_SPEC's `option`s).
 */
export async function exportCommand(args: string[], io: CliIO, say: (line: string) => void): Promise<number> {
  const { values } = parseFlags(EXPORT_SPEC, args);
  if (values.help) {
    io.stdout.write(commandHelp(EXPORT_SPEC));
    return EXIT.OK;
  }
  const sources = [values['query-id'], values.sql, values['sql-file']].filter((v) => v !== undefined).length;
  if (sources !== 1) throw usage('give exactly one of --query-id, --sql and --sql-file');
  // Loaded on demand: job-commands builds on this module's exports.
  if (values.window !== undefined) return (await import('./job-commands.js')).windowCommand(values, args, io);
  for (const flag of WINDOW_ONLY_FLAGS) if (values[flag] !== undefined) throw usage(`--${flag} goes with --window`);
  const queryId = values['query-id'];
  const settings = await exportSettings(values, io);
  // Data to stdout on the terminal stderr is (`--out -`): a live progress would be drawn among the data.
  const toTerminal = parseTarget(settings.options.out)?.kind === 'stdout' && sharesTerminal(io.stdout, io.stderr);
  const log = new Log(io.stderr, { format: logFormat(args, io), quiet: values.quiet ?? false, live: io.stderrIsTTY ?? false, draw: !toTerminal, signal: io.signal });
  log.forQuery(queryId);
  let summary: ExportSummary;
  try {
    summary = await exportQuery({ ...settings.options, queryId, sql: settings.sql, ...logHooks(log) });
  } finally {
    log.stop();
  }

  const stats = summary.queryStatistics;
  const cost = estimatedCost(stats.bytesScanned, settings.pricePerGb);
  const record = { ...summary, estimatedCostUsd: cost?.usd, pricePerGb: settings.pricePerGb };
  const where = summary.dataset ? `${summary.files.length} files in ${summary.dataset.root}` : (summary.files[0] ?? 'stdout');
  log.event(
    'summary',
    `${summary.rows} rows, ${summary.pages} pages, ${formatBytes(summary.bytes)} written to ${where} in ${formatDuration(summary.durationMs)}; ` +
      `query scanned ${formatBytes(stats.bytesScanned)}${stats.eventsScanned === undefined ? '' : ` (${stats.eventsScanned} events)`}` +
      `${cost === undefined ? '' : `, about ${cost.text} at $${settings.pricePerGb}/GB`}`,
    record,
  );
  if (values['summary-json'] !== undefined) await writeSummary(values['summary-json'], record);
  return EXIT.OK;
}
