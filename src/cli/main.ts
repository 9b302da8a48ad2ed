import type { ParseArgsConfig } from 'node:util';
import { createRequire } from 'node:module';
import { exportQuery, type ExportSummary } from '../export-query.js';
import type { RetryOptions } from '../source/retry.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { EXPORT_HELP, MAIN_HELP } from './help.js';
import { integer, parse, required, usage } from './args.js';
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

export function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
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
  compression: { type: 'string' },
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
  const compression = values.compression;
  if (compression !== undefined && compression !== 'gzip' && compression !== 'none') {
    throw usage(`--compression must be gzip or none, not '${compression}'`);
  }
  const summary: ExportSummary = await exportQuery({
    queryId,
    out,
    eventDataStore: values['event-data-store'],
    compression,
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

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
