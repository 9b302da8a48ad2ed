import { readFile } from 'node:fs/promises';
import type { PageEvent } from '../export/export-options.js';
import { queryCost, type QueryCost } from '../export/export-summary.js';
import type { RetryEvent } from '../source/retry.js';
import type { ColumnType } from '../rows/column-types.js';
import { clientOptions, oneOf, s3ClientOptions, usage } from './args.js';
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

/**
 * The options every export of a command shares, from its flags' values (each
 * already checked by its table's `read`): all but the query id and the
 * hooks. Here are the checks across flags, before any request.
 */
export async function exportSettings(values: ExportValues, io: CliIO) {
  if (values.out === undefined || values.out === '') throw usage("--out is required: '-' for stdout, a file, s3://bucket/key, or a folder ending in / for a dataset");
  const out = values.out;
  const target = parseTarget(out);
  if (!target) throw usage(`--out must be '-', a file path, file://PATH, s3://bucket/key, or a folder or s3://bucket/prefix/ ending in /, not '${out}'`);
  const dataset = target.kind === 'dataset';
  for (const flag of ['partition-by', 'max-rows-per-file', 'max-file-bytes', 'max-open-files'] as const) {
    if (values[flag] !== undefined && !dataset) throw usage(`--${flag} needs a dataset: an --out folder or s3://bucket/prefix/ ending in /`);
  }
  const sse = values.sse;
  if (values['sse-kms-key-id'] !== undefined && sse !== 'aws:kms') throw usage('--sse-kms-key-id goes with --sse aws:kms');
  const sql = values.sql ?? (values['sql-file'] === undefined ? undefined : await readSql(values['sql-file'], io));
  if (values['query-parameter'] && sql === undefined) throw usage('--query-parameter goes with --sql or --sql-file');
  const format = values.format ?? (dataset || /\.parquet$/i.test(out) ? 'parquet' : 'ndjson');
  const codecs = format === 'parquet' ? (['zstd', 'snappy', 'gzip', 'none'] as const) : (['gzip', 'none'] as const);
  const compression = oneOf(values.compression, '--compression', codecs, ` for ${format}`);
  refuseBinaryOnTerminal(target.kind === 'stdout', format, compression, io);
  const types = values.types;
  if (types && format !== 'ndjson') throw usage('--types applies to NDJSON only; Parquet is always typed');
  // A column name is data: `--column __proto__:int64` must set a column, not the object's prototype.
  const columns: Record<string, ColumnType> = Object.create(null);
  for (const { name, type } of values.column ?? []) Object.defineProperty(columns, name, { value: type, enumerable: true, writable: true, configurable: true });
  // Before any query: a committed export must not end in exit 1 for want of a place for its summary.
  if (values['summary-json'] !== undefined) await checkSummaryPath(values['summary-json']);
  const pricePerGb = values['price-per-gb'] ?? DEFAULT_PRICE_PER_GB;
  const options = {
    queryParameters: values['query-parameter'],
    queryTimeoutMs: values['query-timeout'],
    out,
    eventDataStore: values['event-data-store'],
    deliveryS3Uri: values['delivery-s3-uri'],
    via: values.via,
    format,
    compression,
    types,
    nested: values.nested,
    storeType: values['store-type'],
    columns,
    rowGroupRows: values['row-group-rows'],
    pageSize: values['page-size'],
    partitionBy: values['partition-by'],
    maxRowsPerFile: values['max-rows-per-file'],
    maxFileBytes: values['max-file-bytes'],
    maxOpenFiles: values['max-open-files'],
    ...s3ClientOptions(values, io),
    s3PartSizeBytes: values['s3-part-size'],
    s3QueueSize: values['s3-queue-size'],
    sse,
    sseKmsKeyId: values['sse-kms-key-id'],
    storageClass: values['storage-class'],
    ...clientOptions(values, io),
    requestDeadlineMs: values['request-deadline'],
    stdout: io.stdout,
    signal: io.signal,
    retry: io.retry,
    slotRetry: io.retry,
    pollMinMs: io.pollMinMs,
  };
  return { options, sql, pricePerGb };
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

/**
 * Refuses binary data for a stdout that is a terminal, before any query, as
 * gzip refuses to write compressed data to one: Parquet, and NDJSON with
 * `--compression gzip`, would only garble the screen (and may hold bytes a
 * terminal acts on). Plain NDJSON is text and stays allowed. A usage error
 * (exit 2) with the way out: a file, or a pipe.
 */
function refuseBinaryOnTerminal(toStdout: boolean, format: string, compression: string | undefined, io: CliIO): void {
  if (!toStdout || (io.stdout as { isTTY?: boolean }).isTTY !== true) return;
  const what = format === 'parquet' ? 'Parquet data' : compression === 'gzip' ? 'gzip-compressed data' : undefined;
  if (what) throw usage(`${what} not written to a terminal; use --out FILE, or pipe stdout to a program (--out - | ...)`);
}

/**
 * The summary's cost estimate: `usd` for the JSON (`estimatedCostUsd`),
 * `text` for the line; see queryCost for the rule.
 */
export function estimatedCost(bytesScanned: number | undefined, pricePerGb: number): QueryCost | undefined {
  return queryCost(bytesScanned, pricePerGb);
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
