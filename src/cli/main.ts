import type { ParseArgsConfig } from 'node:util';
import { version } from '../version.js';
import { exportQuery, type ExportSummary } from '../export-query.js';
import type { RetryOptions } from '../source/retry.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { EXPORT_HELP, MAIN_HELP } from './help.js';
import { integer, parse, required, usage } from './args.js';
import { COLUMN_TYPES, parseColumnSpec, type ColumnType } from '../rows/column-types.js';
import { emulatorCommand } from './emulator-command.js';
import { formatBytes, formatDuration } from './units.js';

/** What the CLI may touch of its process: injected, so that tests run `main` in-process. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Aborted on SIGINT or SIGTERM by the runner. */
  signal?: AbortSignal | undefined;
  /** Backoff override, for tests that must not wait seconds. */
  retry?: Partial<RetryOptions> | undefined;
  pollMinMs?: number | undefined;
}


/** Runs one `ctlake` command and resolves with its exit code. Never throws; never exits. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const say = (line: string) => io.stderr.write(`ctlake: ${line}\n`);
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(MAIN_HELP);
        return command === undefined ? EXIT.USAGE : EXIT.OK;
      case '-V':
      case '--version':
        io.stdout.write(`${version()}\n`);
        return EXIT.OK;
      case 'export':
        return await exportCommand(rest, io, say);
      case 'emulator':
        return await emulatorCommand(rest, io, say);
      default:
        throw usage(`unknown command '${command}'; run ctlake --help for the commands`);
    }
  } catch (error) {
    const code = exitCodeFor(error);
    if (code !== EXIT.OK) say(`error: ${oneLine(error)}`);
    if (io.env.CTLAKE_DEBUG && error instanceof Error) io.stderr.write(`${error.stack ?? ''}\n`);
    return code;
  }
}

const EXPORT_OPTIONS = {
  'query-id': { type: 'string' },
  'event-data-store': { type: 'string' },
  out: { type: 'string', short: 'o' },
  format: { type: 'string' },
  compression: { type: 'string' },
  types: { type: 'string' },
  column: { type: 'string', multiple: true },
  nested: { type: 'string' },
  'row-group-rows': { type: 'string' },
  'page-size': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'endpoint-url': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

async function exportCommand(args: string[], io: CliIO, say: (line: string) => void): Promise<number> {
  const { values } = parse(args, EXPORT_OPTIONS, 'export');
  if (values.help) {
    io.stdout.write(EXPORT_HELP);
    return EXIT.OK;
  }
  const queryId = required(values['query-id'], '--query-id', 'the id of the query whose results to export');
  const out = required(values.out, '--out', "a file path, or '-' for stdout");
  const quiet = values.quiet ?? false;
  const format = oneOf(values.format, '--format', ['ndjson', 'parquet'] as const) ?? (/\.parquet$/i.test(out) ? 'parquet' : 'ndjson');
  const codecs = format === 'parquet' ? (['zstd', 'snappy', 'gzip', 'none'] as const) : (['gzip', 'none'] as const);
  const compression = oneOf(values.compression, '--compression', codecs, ` for ${format}`);
  const types = oneOf(values.types, '--types', ['raw', 'typed'] as const);
  if (types && format !== 'ndjson') throw usage('--types applies to NDJSON only; Parquet is always typed');
  const nested = oneOf(values.nested, '--nested', ['text', 'json'] as const);
  const columns: Record<string, ColumnType> = {};
  for (const spec of values.column ?? []) {
    try {
      const { name, type } = parseColumnSpec(spec);
      columns[name] = type;
    } catch {
      throw usage(`--column must be NAME:TYPE with TYPE one of ${COLUMN_TYPES.join(', ')}, not '${spec}'`);
    }
  }
  const summary: ExportSummary = await exportQuery({
    queryId,
    out,
    eventDataStore: values['event-data-store'],
    format,
    compression,
    types,
    nested,
    columns,
    rowGroupRows: values['row-group-rows'] === undefined ? undefined : integer(values['row-group-rows'], '--row-group-rows', 1, 10_000_000),
    pageSize: values['page-size'] === undefined ? undefined : integer(values['page-size'], '--page-size', 1, 1000),
    region: values.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
    profile: values.profile,
    endpointUrl: values['endpoint-url'] ?? io.env.AWS_ENDPOINT_URL_CLOUDTRAIL ?? io.env.AWS_ENDPOINT_URL,
    stdout: io.stdout,
    signal: io.signal,
    retry: io.retry,
    pollMinMs: io.pollMinMs,
    onRetry: quiet ? undefined : (e) => say(`${e.operation}: ${e.error.name === 'Error' ? e.error.message : e.error.name}; retry ${e.attempt} of ${e.attempt + e.retriesLeft - 1}`),
  }).catch((error: unknown) => {
    // Option checks in the library name options as the library spells them; the CLI user typed flags.
    if (error instanceof TypeError && error.message.startsWith('Invalid option queryId')) {
      throw usage(`--query-id must be a query id such as 0a1b2c3d-0000-4000-8000-123456789abc, not '${queryId}'`);
    }
    throw error;
  });
  if (!quiet) {
    const where = summary.files[0] ?? 'stdout';
    say(
      `${summary.rows} rows, ${summary.pages} pages, ${formatBytes(summary.bytes)} written to ${where} in ${formatDuration(summary.durationMs)}; ` +
        `query scanned ${formatBytes(summary.queryStatistics.bytesScanned)}`,
    );
  }
  return EXIT.OK;
}

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], context = ''): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw usage(`${flag} must be ${allowed.join(', ')}${context}, not '${value}'`);
  return value as T;
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
