import { readFile } from 'node:fs/promises';
import type { PageEvent } from '../export/export-options.js';
import type { RetryEvent } from '../source/retry.js';
import { COLUMN_TYPES, parseColumnSpec, type ColumnType } from '../rows/column-types.js';
import { quoted } from '../errors.js';
import { clientOptions, duration, integer, oneOf, s3ClientOptions, size, usage } from './args.js';
import type { EXPORT_FLAGS } from './export-table.js';
import type { FlagValues } from './flag-table.js';
import { parseTarget } from '../destinations/target.js';
import type { CliIO } from './cli-io.js';
import { Log } from './progress.js';
import { checkSummaryPath } from './summary-file.js';

/**
 * What `ctlake export` and the job commands share: the values of the export
 * flags (export-table.ts), read once into library options (`exportSettings`),
 * and the cost and SQL-file helpers. A module of its own, so that export-command.ts can load
 * job-commands.ts for `--window` without the two importing each other.
 */

/**
 * CloudTrail Lake's published on-demand price for queries, in US dollars per
 * GB (10^9 bytes) scanned, as listed for US East (N. Virginia) on
 * aws.amazon.com/cloudtrail/pricing. Prices differ by region; see the README.
 */
export const DEFAULT_PRICE_PER_GB = 0.005;

export type ExportValues = FlagValues<typeof EXPORT_FLAGS>;

/** The longest --request-deadline, as the library takes it (requestDeadlineMs). */
const MAX_REQUEST_DEADLINE_MS = 86_400_000;

/** The options every export of a command shares, from its flags: all but the query id and the hooks. */
export async function exportSettings(values: ExportValues, io: CliIO) {
  if (values.out === undefined || values.out === '') throw usage("--out is required: '-' for stdout, a file, s3://bucket/key, or a folder ending in / for a dataset");
  const out = values.out;
  const target = parseTarget(out);
  if (!target) throw usage(`--out must be '-', a file path, file://PATH, s3://bucket/key, or a folder or s3://bucket/prefix/ ending in /, not '${out}'`);
  const dataset = target.kind === 'dataset';
  for (const flag of ['partition-by', 'max-rows-per-file', 'max-file-bytes', 'max-open-files'] as const) {
    if (values[flag] !== undefined && !dataset) throw usage(`--${flag} needs a dataset: an --out folder or s3://bucket/prefix/ ending in /`);
  }
  const sse = oneOf(values.sse, '--sse', ['AES256', 'aws:kms'] as const);
  if (values['sse-kms-key-id'] !== undefined && sse !== 'aws:kms') throw usage('--sse-kms-key-id goes with --sse aws:kms');
  const sql = values.sql ?? (values['sql-file'] === undefined ? undefined : await readSql(values['sql-file'], io));
  if (values['query-parameter'] && sql === undefined) throw usage('--query-parameter goes with --sql or --sql-file');
  const format = oneOf(values.format, '--format', ['ndjson', 'parquet'] as const) ?? (dataset || /\.parquet$/i.test(out) ? 'parquet' : 'ndjson');
  const codecs = format === 'parquet' ? (['zstd', 'snappy', 'gzip', 'none'] as const) : (['gzip', 'none'] as const);
  const compression = oneOf(values.compression, '--compression', codecs, ` for ${format}`);
  const types = oneOf(values.types, '--types', ['raw', 'typed'] as const);
  if (types && format !== 'ndjson') throw usage('--types applies to NDJSON only; Parquet is always typed');
  const nested = oneOf(values.nested, '--nested', ['text', 'json'] as const);
  oneOf(values['log-format'], '--log-format', ['text', 'json'] as const);
  // A column name is data: `--column __proto__:int64` must set a column, not the object's prototype.
  const columns: Record<string, ColumnType> = Object.create(null);
  for (const spec of values.column ?? []) {
    try {
      const { name, type } = parseColumnSpec(spec);
      Object.defineProperty(columns, name, { value: type, enumerable: true, writable: true, configurable: true });
    } catch {
      throw usage(`--column must be NAME:TYPE with TYPE one of ${COLUMN_TYPES.join(', ')}, not ${quoted(spec)}`);
    }
  }
  // Before any query: a committed export must not end in exit 1 for want of a place for its summary.
  if (values['summary-json'] !== undefined) await checkSummaryPath(values['summary-json']);
  const pricePerGb = values['price-per-gb'] === undefined ? DEFAULT_PRICE_PER_GB : Number(values['price-per-gb']);
  if (!Number.isFinite(pricePerGb) || pricePerGb < 0) throw usage(`--price-per-gb must be a number of dollars, not '${values['price-per-gb']}'`);
  const options = {
    queryParameters: values['query-parameter'],
    queryTimeoutMs: values['query-timeout'] === undefined ? undefined : duration(values['query-timeout'], '--query-timeout'),
    out,
    eventDataStore: values['event-data-store'],
    format,
    compression,
    types,
    nested,
    columns,
    rowGroupRows: values['row-group-rows'] === undefined ? undefined : integer(values['row-group-rows'], '--row-group-rows', 1, 10_000_000),
    pageSize: values['page-size'] === undefined ? undefined : integer(values['page-size'], '--page-size', 1, 1000),
    partitionBy: values['partition-by'],
    maxRowsPerFile: values['max-rows-per-file'] === undefined ? undefined : integer(values['max-rows-per-file'], '--max-rows-per-file', 1, Number.MAX_SAFE_INTEGER),
    maxFileBytes: values['max-file-bytes'] === undefined ? undefined : size(values['max-file-bytes'], '--max-file-bytes'),
    maxOpenFiles: values['max-open-files'] === undefined ? undefined : integer(values['max-open-files'], '--max-open-files', 1, 1000),
    ...s3ClientOptions(values, io),
    s3PartSizeBytes: values['s3-part-size'] === undefined ? undefined : size(values['s3-part-size'], '--s3-part-size', 5 * 1024 * 1024),
    s3QueueSize: values['s3-queue-size'] === undefined ? undefined : integer(values['s3-queue-size'], '--s3-queue-size', 1, 64),
    sse,
    sseKmsKeyId: values['sse-kms-key-id'],
    storageClass: values['storage-class'],
    ...clientOptions(values, io),
    requestDeadlineMs: values['request-deadline'] === undefined ? undefined : requestDeadline(values['request-deadline']),
    stdout: io.stdout,
    signal: io.signal,
    retry: io.retry,
    slotRetry: io.retry,
    pollMinMs: io.pollMinMs,
  };
  return { options, sql, pricePerGb };
}

function requestDeadline(text: string): number {
  const ms = duration(text, '--request-deadline');
  if (ms < 1 || ms > MAX_REQUEST_DEADLINE_MS) throw usage(`--request-deadline must be from 1ms to 1d, not ${quoted(text)}`);
  return ms;
}

/** The library's progress hooks, to the log. */
export function logHooks(log: Log) {
  return {
    onRetry: (e: RetryEvent) => log.retry(e),
    onQueryStarted: (id: string) => log.queryStarted(id),
    onStatus: (status: string) => log.status(status),
    onPage: (e: PageEvent) => log.page(e),
    onWarning: (message: string) => log.warn(message),
  };
}

export function estimatedCost(bytesScanned: number | undefined, pricePerGb: number): number | undefined {
  return bytesScanned === undefined ? undefined : (bytesScanned / 1e9) * pricePerGb;
}

export async function readSql(file: string, io: CliIO): Promise<string> {
  let text: string;
  if (file === '-') {
    if (!io.stdin) throw usage('--sql-file - reads standard input, which is not available here');
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw usage(`cannot read --sql-file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  if (text.trim() === '') throw usage(`--sql-file ${file} is empty`);
  return text.trim();
}
