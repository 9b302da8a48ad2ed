import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { S3Client } from '@aws-sdk/client-s3';
import { optionError } from '../errors.js';
import type { Destination } from '../destinations/destination.js';
import type { ObjectStore } from '../destinations/store.js';
import { parsePartitionSpecs } from '../dataset/partition.js';
import type { DatasetLayout } from '../dataset/write-dataset.js';
import type { S3WriteOptions, ServerSideEncryption } from '../destinations/s3.js';
import { parseTarget, type Target } from '../destinations/target.js';
import type { OutputFormat } from '../formats/encode.js';
import type { NdjsonTypes } from '../formats/ndjson.js';
import type { ParquetCompression } from '../formats/parquet.js';
import { LAKE_STORE_TYPES, type LakeStoreType } from '../lake-model.js';
import { COLUMN_TYPES, type ColumnType, type NestedMode } from '../rows/column-types.js';
import { checkQueryId } from '../source/query-management.js';
import { MAX_QUERY_WAIT_MS } from '../source/query-status.js';
import { DEFAULT_RETRY, resolveRetry, type RetryEvent, type RetryOptions } from '../source/retry.js';
import { checkCheckpoint, type ExportCheckpoint } from './export-checkpoint.js';


export interface PageEvent {
  /** Zero-based page index. */
  page: number;
  /** Rows in this page. */
  rows: number;
  /** Rows so far, this page included. */
  totalRows: number;
  /** TotalResultsCount as the service reports it. */
  totalResultsCount: number | undefined;
  /** Bytes at the destination so far (set by exportQuery). */
  bytesWritten?: number | undefined;
}

export interface ExportOptions extends Omit<SourceOptions, 'queryId'> {
  /** The query to export; or give `sql` and ctlake starts the query. */
  queryId?: string | undefined;
  /** SQL to run with StartQuery; its results are exported once it FINISHED. */
  sql?: string | undefined;
  /** CloudTrail's positional QueryParameters for `?` in `sql` (1 to 10). */
  queryParameters?: string[] | undefined;
  /**
   * StartQuery's DeliveryS3Uri (`s3://bucket/prefix`, with `sql`): Lake
   * writes the results there too, as gzip CSV with a signed
   * `result_sign.json`. The export waits for DeliveryStatus SUCCESS, checks
   * the signature, and, reading pages (`via: 'pages'`), checks that the
   * delivery holds as many rows; the manifest and the summary record the
   * delivery.
   */
  deliveryS3Uri?: string | undefined;
  /**
   * Where the rows come from: 'pages' (GetQueryResults) or 'delivery' (the
   * delivered CSV files, read only after their signature verified; needs
   * `deliveryS3Uri`). @default 'pages'
   */
  via?: 'pages' | 'delivery' | undefined;
  /** Cancel a query still QUEUED or RUNNING after this long, and fail with QUERY_TIMED_OUT. */
  queryTimeoutMs?: number | undefined;
  /** Backoff while the account already runs 10 queries. @default { retries: 40, minDelayMs: 5000, maxDelayMs: 60000 } */
  slotRetry?: Partial<RetryOptions> | undefined;
  /** Called with the QueryId once StartQuery has answered. */
  onQueryStarted?: ((queryId: string) => void) | undefined;
  /** Told of what needs a person's eye but does not stop the export (a duplicate query cancelled). */
  onWarning?: ((message: string) => void) | undefined;
  /** Called after every DescribeQuery while waiting, with the status. */
  onStatus?: ((status: string) => void) | undefined;
  /**
   * Where to write: `-` for stdout; a file path or `file://` URL; `s3://bucket/key`
   * for one object; a path or `s3://bucket/prefix/` ending in `/` for a
   * dataset (partitioned, rolled files with `_manifest.json` and `_SUCCESS`).
   * A file or object ending in `.gz` is gzip-compressed NDJSON.
   * Give exactly one of `out`, `destination` and `store`.
   */
  out?: string | undefined;
  /**
   * A sink of your own for one output (see the Destination contract): ctlake
   * encodes into its writable, then calls `commit()` after success or
   * `abort()` on any failure. Instead of `out`; `summary.files` is
   * `[destination.location]`. Memory: the pipeline honours the writable's
   * backpressure, so ctlake holds about three pages of rows and one page
   * of encoded bytes; what the writable buffers beyond that is its own bound.
   */
  destination?: Destination | undefined;
  /**
   * An object store of your own for a dataset (see the ObjectStore contract):
   * partitions, rolled parts, manifest, `_SUCCESS` and locks go there, as to
   * a folder `out`. Instead of `out`; `summary.files` are `store.root` + each path.
   * Memory: up to maxOpenFiles Destinations from `create()` are open at once,
   * each encoder holding at most one Parquet row group (rowGroupRows).
   */
  store?: ObjectStore | undefined;
  /**
   * Output format.
   * @default 'parquet' when `out` ends in `.parquet` or is a dataset, or with a `store`; else 'ndjson' (with a `destination` too)
   */
  format?: OutputFormat | undefined;
  /**
   * NDJSON: 'gzip' or 'none'. Parquet: 'zstd', 'snappy', 'gzip' or 'none'.
   * @default 'zstd' for Parquet; for NDJSON 'gzip' when `out` ends in `.gz`, else 'none' (with a `destination` too)
   */
  compression?: Compression | undefined;
  /** NDJSON values: the service's strings ('raw') or the schema's types ('typed'). @default 'raw' */
  types?: NdjsonTypes | undefined;
  /** Column types set by name, over CloudTrail's by-name types (`{ n: 'int64' }`). Declared columns are in the Parquet schema even when no row has them. */
  columns?: Record<string, ColumnType> | undefined;
  /**
   * Struct, map and array columns: 'typed' as Parquet STRUCT, MAP and LIST
   * (JSON objects and arrays in typed NDJSON) with the published field
   * types, read from Lake's Presto text; 'text' as that text; 'json' as
   * JSON text. Raw NDJSON always keeps Lake's text. @default 'typed'
   */
  nested?: NestedMode | undefined;
  /**
   * Which published schema types the columns of `SELECT *` and of named
   * fields. @default read from the store's advanced event selectors
   * (GetEventDataStore), else 'cloudtrail-events' with a warning
   */
  storeType?: LakeStoreType | undefined;
  /**
   * Parquet rows per row group: the writer holds one row group (three while its destination stalls), so this bounds memory.
   * @default 20000
   */
  rowGroupRows?: number | undefined;
  /** A CloudTrail client to use; else one is built from region, profile and endpointUrl. */
  client?: CloudTrailClient | undefined;
  region?: string | undefined;
  profile?: string | undefined;
  endpointUrl?: string | undefined;
  /** Socket idle timeout of each request of the client ctlake builds; a timeout is retried. @default 60000 */
  requestTimeoutMs?: number | undefined;
  /**
   * The most one request of the client ctlake builds may take, from sending
   * it to the last byte of the answer (an answer that trickles never trips
   * the idle timeout); passing it is a timeout, and retried. @default 120000
   */
  requestDeadlineMs?: number | undefined;
  /** Where `out: '-'` writes. @default process.stdout */
  stdout?: NodeJS.WritableStream | undefined;
  /** Datasets: Hive-style partition levels, e.g. `['eventTime:day']` or `['awsRegion', 'dt=eventTime:day']`. */
  partitionBy?: string[] | undefined;
  /** Datasets: rows per file at most. @default unlimited */
  maxRowsPerFile?: number | undefined;
  /** Datasets: a file is closed once it reaches this size (Parquet: plus up to one row group). @default unlimited */
  maxFileBytes?: number | undefined;
  /** Datasets: files open at once, whatever the number of partitions; bounds memory. @default 8 */
  maxOpenFiles?: number | undefined;
  /** Datasets: the name part of the files (`part-00000-KEY.parquet`) and the manifest's key. @default the QueryId */
  datasetKey?: string | undefined;
  /**
   * Datasets: take a checkpoint at the end of the first page after which at
   * least this many rows went out since the last one: every open file is
   * finished and committed (so files end there), and `onCheckpoint` is told
   * where the pages go on. The export is waited for until it resolves.
   * @default no checkpoints
   */
  checkpointRows?: number | undefined;
  /** Told of each checkpoint (see checkpointRows): keep it to resume the export later with `resumeFrom`. */
  onCheckpoint?: ((checkpoint: ExportCheckpoint) => Promise<void> | void) | undefined;
  /**
   * Datasets: go on from a checkpoint of an earlier run of this export (the
   * same `queryId`, `pageSize` and `datasetKey`) instead of the first page:
   * its files are read back and checked, kept, and the pages go on from its
   * NextToken, without starting the query again. A checkpoint that cannot be
   * built on fails with RESUME_REFUSED, InvalidNextTokenException with
   * INVALID_NEXT_TOKEN, results past Lake's 7 days with QUERY_NOT_FOUND: then
   * start over. Checked field by field (TypeError): it is input.
   */
  resumeFrom?: ExportCheckpoint | undefined;
  /** Datasets: the [start, end) window the export covers, recorded in the manifest. */
  window?: { start: string; end: string } | undefined;
  /** An S3 client for `s3://` outputs; else one is built from region, profile and s3EndpointUrl. */
  s3Client?: S3Client | undefined;
  /** An S3-compatible endpoint (MinIO, Ceph, R2). */
  s3EndpointUrl?: string | undefined;
  /** Path-style S3 addressing, which most S3-compatible stores need. @default false */
  s3ForcePathStyle?: boolean | undefined;
  /** Multipart part size; memory per open S3 file is at most s3PartSizeBytes × s3QueueSize. @default 8 MiB (5 MiB at least) */
  s3PartSizeBytes?: number | undefined;
  /** Parts uploaded at once per file. @default 4 */
  s3QueueSize?: number | undefined;
  /** Server-side encryption of every object written. */
  sse?: ServerSideEncryption | undefined;
  /** KMS key id or ARN for `sse: 'aws:kms'`. */
  sseKmsKeyId?: string | undefined;
  /** S3 storage class of every object written (STANDARD, STANDARD_IA, INTELLIGENT_TIERING, ...). */
  storageClass?: string | undefined;
}

export type { OutputFormat };
export type Compression = ParquetCompression;

export type ResolvedExportOptions = ResolvedSourceOptions<ExportOptions> & {
  sql: string | undefined;
  via: 'pages' | 'delivery';
  resumeFrom: ExportCheckpoint | undefined;
  /**
   * The longest the query is waited for (src/source/query-status.ts): MAX_QUERY_WAIT_MS,
   * or queryTimeoutMs when that is longer, so that the user's bound is the one that ends a wait.
   */
  maxWaitMs: number;
  slotRetry: RetryOptions | undefined;
  format: OutputFormat;
  compression: Compression;
  types: NdjsonTypes;
  columns: Record<string, ColumnType>;
  nested: NestedMode;
  storeType: LakeStoreType | undefined;
  rowGroupRows: number;
  /** Where the bytes go: exactly one of `out`, `destination` and `store`, checked. */
  sink: Sink;
  /** For a dataset (a folder `out`, or a `store`). */
  layout: DatasetLayout | undefined;
  s3: S3WriteOptions;
};

/**
 * Where an export writes, from the one of `out`, `destination` and `store`
 * that was given: a target that `out` names (ctlake opens it), or a
 * destination or store of the caller's (used as given, never closed by ctlake
 * beyond the Destination's two endings).
 */
export type Sink =
  | { kind: 'out'; out: string; target: Target }
  | { kind: 'destination'; destination: Destination }
  | { kind: 'store'; store: ObjectStore };

const MIB = 1024 * 1024;
const STORAGE_CLASSES = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR', 'EXPRESS_ONEZONE'];

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw optionError(name, value, `a whole number from ${min} to ${max}`);
  }
  return value;
}

/** The options of the page source, as a library user may give them: every default optional. */
export interface SourceOptions {
  /** The query whose results to read. */
  queryId: string;
  eventDataStore?: string | undefined;
  /**
   * MaxQueryResults for each GetQueryResults call, 1 to 1000. Larger pages mean
   * fewer calls; memory holds about three pages of rows at once.
   * @default 1000
   */
  pageSize?: number | undefined;
  /** Stops fetching; an export then aborts its destination and rejects with INTERRUPTED. */
  signal?: AbortSignal | undefined;
  /** @default { retries: 8, minDelayMs: 250, maxDelayMs: 20000 } */
  retry?: Partial<RetryOptions> | undefined;
  /** @default 500 */
  pollMinMs?: number | undefined;
  /** @default 5000 */
  pollMaxMs?: number | undefined;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  onPage?: ((event: PageEvent) => void) | undefined;
}

export type ResolvedSourceOptions<T extends Omit<SourceOptions, 'queryId'> = SourceOptions> = Omit<T, 'retry' | 'pageSize' | 'pollMinMs' | 'pollMaxMs'> & {
  pageSize: number;
  retry: RetryOptions;
  pollMinMs: number;
  pollMaxMs: number;
};

/** Validates and fills in the page source's options; throws TypeError naming the option. */
export function normalizeSourceOptions<T extends SourceOptions>(input: T): ResolvedSourceOptions<T> {
  if (typeof input !== 'object' || input === null) throw optionError('options', input, 'an object');
  checkQueryId(input.queryId);
  return normalizeFetchOptions(input);
}


/** Page size, backoff and polling: the options every reader of pages shares. */
function normalizeFetchOptions<T extends Omit<SourceOptions, 'queryId'>>(input: T): ResolvedSourceOptions<T> {
  const retry = resolveRetry(input.retry);
  const pollMinMs = checkInteger('pollMinMs', input.pollMinMs ?? 500, 1, 3_600_000);
  return {
    ...input,
    pageSize: checkInteger('pageSize', input.pageSize ?? 1000, 1, 1000),
    retry,
    pollMinMs,
    pollMaxMs: checkInteger('pollMaxMs', input.pollMaxMs ?? 5000, pollMinMs, 3_600_000),
  };
}

/** Fills in defaults and validates, once; nothing further down checks again. Throws TypeError. */
export function normalizeExportOptions(input: ExportOptions): ResolvedExportOptions {
  if (typeof input !== 'object' || input === null) throw optionError('options', input, 'an object');
  const sql = input.sql;
  if (sql !== undefined && (typeof sql !== 'string' || sql.trim() === '')) throw optionError('sql', sql, 'a SQL statement');
  if (sql !== undefined && input.queryId !== undefined) throw optionError('queryId', input.queryId, 'no queryId when sql is given: one or the other');
  const params = input.queryParameters;
  if (params !== undefined && (!Array.isArray(params) || params.length > 10 || params.some((p) => typeof p !== 'string' || p === ''))) {
    throw optionError('queryParameters', params, 'up to 10 non-empty strings');
  }
  if (params?.length && sql === undefined) throw optionError('queryParameters', params, 'sql to go with them');
  const deliveryS3Uri = input.deliveryS3Uri;
  if (deliveryS3Uri !== undefined && (typeof deliveryS3Uri !== 'string' || !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(deliveryS3Uri) || deliveryS3Uri.length > 1024)) {
    throw optionError('deliveryS3Uri', deliveryS3Uri, 's3://bucket or s3://bucket/prefix');
  }
  if (deliveryS3Uri !== undefined && sql === undefined) throw optionError('deliveryS3Uri', deliveryS3Uri, 'sql to go with it: Lake delivers a query it starts');
  const via = input.via ?? 'pages';
  if (via !== 'pages' && via !== 'delivery') throw optionError('via', input.via, "'pages' or 'delivery'");
  if (via === 'delivery' && deliveryS3Uri === undefined) throw optionError('via', input.via, 'a deliveryS3Uri to read the delivered files from');
  if (input.queryTimeoutMs !== undefined) checkInteger('queryTimeoutMs', input.queryTimeoutMs, 1, 7 * 86_400_000);
  if (input.requestTimeoutMs !== undefined) checkInteger('requestTimeoutMs', input.requestTimeoutMs, 1, 86_400_000);
  if (input.requestDeadlineMs !== undefined) checkInteger('requestDeadlineMs', input.requestDeadlineMs, 1, 86_400_000);
  const maxWaitMs = Math.max(MAX_QUERY_WAIT_MS, input.queryTimeoutMs ?? 0);
  // With sql, the QueryId comes from StartQuery.
  if (sql === undefined) checkQueryId(input.queryId);
  const source = normalizeFetchOptions(input);
  const slotRetry = input.slotRetry ? { ...DEFAULT_RETRY, ...input.slotRetry } : undefined;
  const sink = normalizeSink(input);
  const dataset = sink.kind === 'store' || (sink.kind === 'out' && sink.target.kind === 'dataset');
  const out = sink.kind === 'out' ? sink.out : '';
  const format = input.format ?? (dataset || /\.parquet$/i.test(out) ? 'parquet' : 'ndjson');
  if (format !== 'ndjson' && format !== 'parquet') throw optionError('format', input.format, "'ndjson' or 'parquet'");
  const compression = input.compression ?? (format === 'parquet' ? 'zstd' : out.endsWith('.gz') ? 'gzip' : 'none');
  const codecs = format === 'parquet' ? ['zstd', 'snappy', 'gzip', 'none'] : ['gzip', 'none'];
  if (!codecs.includes(compression)) throw optionError('compression', input.compression, `one of ${codecs.join(', ')} for ${format}`);
  const types = input.types ?? 'raw';
  if (types !== 'raw' && types !== 'typed') throw optionError('types', input.types, "'raw' or 'typed'");
  const nested = input.nested ?? 'typed';
  if (nested !== 'typed' && nested !== 'text' && nested !== 'json') throw optionError('nested', input.nested, "'typed', 'text' or 'json'");
  const storeType = input.storeType;
  if (storeType !== undefined && !LAKE_STORE_TYPES.includes(storeType)) throw optionError('storeType', storeType, `one of ${LAKE_STORE_TYPES.join(', ')}`);
  // Keyed by column names, which are data: a null-prototype copy, so that no name reads or sets a member of Object.prototype.
  const columns: Record<string, ColumnType> = Object.assign(Object.create(null) as Record<string, ColumnType>, input.columns);
  for (const [name, type] of Object.entries(columns)) {
    if (!COLUMN_TYPES.includes(type)) throw optionError(`columns.${name}`, type, `one of ${COLUMN_TYPES.join(', ')}`);
  }
  const rowGroupRows = checkInteger('rowGroupRows', input.rowGroupRows ?? 20_000, 1, 10_000_000);
  const layout = dataset ? normalizeLayout(input) : undefined;
  if (!dataset) {
    for (const name of ['partitionBy', 'maxRowsPerFile', 'maxFileBytes', 'maxOpenFiles'] as const) {
      if (input[name] !== undefined) throw optionError(name, input[name], `an out that is a dataset: a folder or s3://bucket/prefix/ ending in / (or a store)`);
    }
  }
  if (input.datasetKey !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(input.datasetKey)) {
    throw optionError('datasetKey', input.datasetKey, 'letters, digits, _, . and - (up to 128)');
  }
  for (const name of ['checkpointRows', 'onCheckpoint', 'resumeFrom'] as const) {
    if (input[name] !== undefined && !dataset) throw optionError(name, input[name], 'an out that is a dataset (or a store): checkpoints are of dataset files');
  }
  if (input.checkpointRows !== undefined) checkInteger('checkpointRows', input.checkpointRows, 1, Number.MAX_SAFE_INTEGER);
  if (input.onCheckpoint !== undefined && typeof input.onCheckpoint !== 'function') throw optionError('onCheckpoint', input.onCheckpoint, 'a function');
  const resumeFrom = input.resumeFrom === undefined ? undefined : checkCheckpoint(input.resumeFrom, { queryId: input.queryId, pageSize: source.pageSize, key: input.datasetKey ?? input.queryId });
  if (via === 'delivery' && (input.resumeFrom !== undefined || input.checkpointRows !== undefined)) throw optionError('via', via, "'pages' with checkpoints: a delivery is read whole");
  return { ...source, sql, via, resumeFrom, maxWaitMs, slotRetry, format, compression, types, columns, nested, storeType, rowGroupRows, sink, layout, s3: normalizeS3(input) };
}

/** Members each sink contract needs, checked before any I/O. */
const DESTINATION_METHODS = ['bytesWritten', 'commit', 'abort'] as const;
const STORE_METHODS = ['check', 'create', 'put', 'get', 'read', 'list', 'remove', 'getTagged', 'putIf'] as const;

/** Exactly one of `out`, `destination` and `store`, each checked against its contract. */
function normalizeSink(input: ExportOptions): Sink {
  const given = (['out', 'destination', 'store'] as const).filter((name) => input[name] !== undefined);
  if (given.length > 1) throw optionError(given[1]!, `${given.join(' and ')} both given`, 'exactly one of out, destination and store');
  if (input.destination !== undefined) return { kind: 'destination', destination: checkDestination(input.destination) };
  if (input.store !== undefined) return { kind: 'store', store: checkStore(input.store) };
  if (typeof input.out !== 'string' || input.out === '') throw optionError('out', input.out, "'-' for stdout, a file path, s3://bucket/key, or a folder ending in /");
  const target = parseTarget(input.out);
  if (target === undefined) throw optionError('out', input.out, "'-', a file path, file://PATH, s3://bucket/key, or a folder or s3://bucket/prefix/ ending in /");
  return { kind: 'out', out: input.out, target };
}

/** What is missing from a sink of the caller's: its bad members, named (never the object, which may be huge or circular). */
function missingMembers(value: object, strings: readonly string[], methods: readonly string[], extra: string[] = []): string[] {
  const record = value as Record<string, unknown>;
  return [
    ...strings.filter((name) => typeof record[name] !== 'string' || record[name] === ''),
    ...methods.filter((name) => typeof record[name] !== 'function').map((name) => `${name}()`),
    ...extra,
  ];
}

function checkDestination(value: unknown): Destination {
  const expected = 'a Destination: { location, writable, bytesWritten(), commit(), abort() }';
  if (typeof value !== 'object' || value === null) throw optionError('destination', value, expected);
  const writable = (value as { writable?: { write?: unknown; end?: unknown; on?: unknown } }).writable;
  const streamLike = typeof writable === 'object' && writable !== null && [writable.write, writable.end, writable.on].every((f) => typeof f === 'function');
  const missing = missingMembers(value, ['location'], DESTINATION_METHODS, streamLike ? [] : ['writable']);
  if (missing.length) throw optionError('destination', `an object without ${missing.join(', ')}`, expected);
  return value as Destination;
}

function checkStore(value: unknown): ObjectStore {
  const expected = `an ObjectStore: { root, ${STORE_METHODS.map((m) => `${m}()`).join(', ')} }`;
  if (typeof value !== 'object' || value === null) throw optionError('store', value, expected);
  const missing = missingMembers(value, ['root'], STORE_METHODS);
  if (missing.length) throw optionError('store', `an object without ${missing.join(', ')}`, expected);
  return value as ObjectStore;
}

function normalizeLayout(input: ExportOptions): DatasetLayout {
  let partitionBy;
  try {
    partitionBy = parsePartitionSpecs(input.partitionBy ?? []);
  } catch (error) {
    throw optionError('partitionBy', input.partitionBy, `COLUMN, COLUMN:hour|day|month or KEY=COLUMN:GRAIN (${(error as Error).message})`);
  }
  return {
    partitionBy,
    maxRowsPerFile: input.maxRowsPerFile === undefined ? undefined : checkInteger('maxRowsPerFile', input.maxRowsPerFile, 1, Number.MAX_SAFE_INTEGER),
    maxFileBytes: input.maxFileBytes === undefined ? undefined : checkInteger('maxFileBytes', input.maxFileBytes, 1, Number.MAX_SAFE_INTEGER),
    maxOpenFiles: checkInteger('maxOpenFiles', input.maxOpenFiles ?? 8, 1, 1000),
  };
}

function normalizeS3(input: ExportOptions): S3WriteOptions {
  if (input.sse !== undefined && input.sse !== 'AES256' && input.sse !== 'aws:kms') throw optionError('sse', input.sse, "'AES256' or 'aws:kms'");
  if (input.sseKmsKeyId !== undefined && input.sse !== 'aws:kms') throw optionError('sseKmsKeyId', input.sseKmsKeyId, "sse: 'aws:kms' to go with it");
  if (input.storageClass !== undefined && !STORAGE_CLASSES.includes(input.storageClass)) {
    throw optionError('storageClass', input.storageClass, `one of ${STORAGE_CLASSES.join(', ')}`);
  }
  return {
    partSizeBytes: checkInteger('s3PartSizeBytes', input.s3PartSizeBytes ?? 8 * MIB, 5 * MIB, 5 * 1024 * MIB),
    queueSize: checkInteger('s3QueueSize', input.s3QueueSize ?? 4, 1, 64),
    sse: input.sse,
    sseKmsKeyId: input.sseKmsKeyId,
    storageClass: input.storageClass,
  };
}
