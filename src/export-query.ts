import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CtlakeError, isCtlakeError } from './errors.js';
import { normalizeExportOptions, type Compression, type ExportOptions, type OutputFormat, type ResolvedExportOptions } from './export-options.js';
import { encodeNdjson, ndjsonCompressor } from './formats/ndjson.js';
import { encodeParquet } from './formats/parquet.js';
import type { ColumnSchema } from './rows/schema.js';
import { version } from './version.js';
import type { Destination } from './destinations/destination.js';
import { destinationError, fileDestination } from './destinations/file.js';
import { stdoutDestination } from './destinations/stdout.js';
import { newTally, queryRecordBatches } from './query-records.js';
import { createCloudTrailClient } from './source/cloudtrail-client.js';
import { cancelStartedQuery, startQuery } from './source/start-query.js';

export interface QueryStatisticsSummary {
  /** GetQueryResults' TotalResultsCount. */
  totalResultsCount: number | undefined;
  /** DescribeQuery's BytesScanned: the bytes billed. */
  bytesScanned: number | undefined;
  eventsScanned: number | undefined;
  eventsMatched: number | undefined;
  executionTimeInMillis: number | undefined;
  creationTime: Date | undefined;
}

export interface ExportSummary {
  queryId: string;
  /** The SQL, as DescribeQuery reports it. */
  sql: string | undefined;
  /** Whether ctlake started the query (`sql`) rather than exporting an existing one. */
  startedQuery: boolean;
  /** Rows written; equals totalResultsCount when the service reported one. */
  rows: number;
  pages: number;
  columns: string[];
  /** Bytes written to the destination, after compression. */
  bytes: number;
  /** Files committed (none for stdout). */
  files: string[];
  format: OutputFormat;
  compression: Compression;
  /** The Parquet file's schema (source column, file name, type); for NDJSON, undefined. */
  schema: ColumnSchema[] | undefined;
  durationMs: number;
  queryStatistics: QueryStatisticsSummary;
}

/**
 * Exports every row of a finished query, once and in order, to `out`. Waits
 * for a QUEUED or RUNNING query; rejects with a CtlakeError (QUERY_FAILED,
 * QUERY_CANCELLED, QUERY_TIMED_OUT, ...) otherwise. The output becomes
 * visible only when every row is written and their count matches the
 * service's TotalResultsCount; on any failure or abort it is removed.
 * Memory: about three pages of rows plus one page of encoded text.
 */
export async function exportQuery(input: ExportOptions): Promise<ExportSummary> {
  const options = normalizeExportOptions(input);
  const started = performance.now();
  const client = options.client ?? createCloudTrailClient(options);
  // One controller for the whole run: the caller's signal stops it, and so does
  // any failure, so that a page in flight is not waited for.
  const controller = new AbortController();
  const stop = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });

  const tally = newTally();
  let destination: Destination | undefined;
  let schema: ColumnSchema[] | undefined;
  let queryId = options.queryId;
  /** The QueryId of a query ctlake started itself (from `sql`). */
  let startedId: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timedOut: CtlakeError | undefined;
  try {
    destination = options.out === '-' ? stdoutDestination(options.stdout) : await fileDestination(options.out);
    if (queryId === undefined) {
      // normalizeExportOptions guarantees one of queryId and sql.
      queryId = await startQuery(client, {
        sql: options.sql as string,
        parameters: options.queryParameters,
        signal: controller.signal,
        retry: options.retry,
        slotRetry: options.slotRetry,
        onRetry: options.onRetry,
      });
      startedId = queryId;
      options.onQueryStarted?.(queryId);
    }
    if (options.queryTimeoutMs !== undefined) {
      const limit = options.queryTimeoutMs;
      timer = setTimeout(() => {
        timedOut = new CtlakeError('QUERY_TIMED_OUT', `query ${queryId} did not finish within --query-timeout ${Math.round(limit / 1000)}s`, { queryId, status: 'TIMED_OUT' });
        controller.abort(timedOut);
      }, limit);
    }
    const batches = queryRecordBatches(
      client,
      {
        ...options,
        queryId,
        signal: controller.signal,
        onStatus: (description) => options.onStatus?.(description.QueryStatus ?? 'UNKNOWN'),
        onPage: (event) => options.onPage?.({ ...event, bytesWritten: destination?.bytesWritten() }),
        // The timeout bounds the wait for the query, not the export of its rows.
        onDescribe: () => clearTimeout(timer),
      },
      tally,
    );
    const stages: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream | Writable> = [];
    if (options.format === 'parquet') {
      stages.push(Readable.from(encodeParquet(batches, parquetOptions(options, queryId, tally, (columns) => (schema = columns))), { objectMode: false }));
    } else {
      stages.push(Readable.from(encodeNdjson(batches, options.types, options), { objectMode: false }));
      const compressor = ndjsonCompressor(options.compression === 'gzip' ? 'gzip' : 'none');
      if (compressor) stages.push(compressor);
    }
    stages.push(destination.writable);
    await pipeline(stages, { signal: controller.signal });
    await destination.commit();
    const stats = tally.description?.QueryStatistics;
    return {
      queryId,
      sql: tally.description?.QueryString ?? options.sql,
      startedQuery: startedId !== undefined,
      rows: tally.rows,
      pages: tally.pages,
      columns: [...tally.columns],
      bytes: destination.bytesWritten(),
      files: options.out === '-' ? [] : [options.out],
      format: options.format,
      compression: options.compression,
      schema,
      durationMs: Math.round(performance.now() - started),
      queryStatistics: {
        totalResultsCount: tally.totalResultsCount,
        bytesScanned: stats?.BytesScanned ?? tally.bytesScanned,
        eventsScanned: stats?.EventsScanned,
        eventsMatched: stats?.EventsMatched,
        executionTimeInMillis: stats?.ExecutionTimeInMillis,
        creationTime: stats?.CreationTime,
      },
    };
  } catch (error) {
    controller.abort();
    await destination?.abort();
    const failure = timedOut ?? toExportError(error, queryId, destination?.location ?? options.out, options.signal);
    // A query ctlake started and is leaving unfinished is cancelled, so that it
    // stops scanning (and billing) and frees one of the account's 10 slots.
    if (startedId !== undefined && tally.description === undefined) {
      const status = await cancelStartedQuery(client, startedId, options.retry);
      if (status && timedOut) timedOut.message += `; cancelled it (${status})`;
    }
    throw failure;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
    if (!options.client) client.destroy();
  }

}

function parquetOptions(options: ResolvedExportOptions, queryId: string, tally: ReturnType<typeof newTally>, onSchema: (columns: ColumnSchema[]) => void) {
  return {
    compression: options.compression,
    rowGroupRows: options.rowGroupRows,
    typing: options,
    createdBy: `ctlake ${version()}`,
    onSchema: (columns: readonly ColumnSchema[]) => onSchema([...columns]),
    // Called once the first page is in, so DescribeQuery's SQL is known.
    metadata: (columns: readonly ColumnSchema[]): Record<string, string> => ({
      'ctlake.version': version(),
      'ctlake.query_id': queryId,
      ...(tally.description?.QueryString ? { 'ctlake.sql': tally.description.QueryString } : {}),
      'ctlake.columns': JSON.stringify(columns),
    }),
  };
}

function toExportError(error: unknown, queryId: string | undefined, location: string, signal: AbortSignal | undefined): CtlakeError {
  if (isCtlakeError(error) && error.code !== 'INTERRUPTED') return error;
  if (signal?.aborted || isCtlakeError(error, 'INTERRUPTED') || (error as Error).name === 'AbortError') {
    return new CtlakeError('INTERRUPTED', 'export interrupted; nothing was committed', { queryId, cause: error });
  }
  if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
    return new CtlakeError('DESTINATION_CLOSED', 'stdout closed by its reader', { queryId, cause: error });
  }
  if (typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall) {
    return destinationError(location, error);
  }
  return new CtlakeError('DESTINATION_FAILED', `export to ${location} failed: ${(error as Error).message}`, { queryId, cause: error });
}
