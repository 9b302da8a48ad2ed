import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { CtlakeError, isCtlakeError, quoted } from '../errors.js';
import { normalizeExportOptions, type Compression, type ExportOptions, type OutputFormat, type ResolvedExportOptions } from './export-options.js';
import { encodeStages, type Encoding } from '../formats/encode.js';
import type { ColumnSchema } from '../rows/schema.js';
import { version } from '../version.js';
import type { Destination } from '../destinations/destination.js';
import { destinationError, fileDestination } from '../destinations/file.js';
import { stdoutDestination } from '../destinations/stdout.js';
import { localStore, type ObjectStore } from '../destinations/store.js';
import { commitDataset, lockExportKey, manifestFiles, readManifest, removeLeftovers, withdrawSuccess, type ManifestExport } from '../dataset/manifest.js';
import type { LockHandle } from '../destinations/store-lock.js';
import { writeDataset, type WrittenFile } from '../dataset/write-dataset.js';
import { newTally, queryRecordBatches } from './query-records.js';
import { createCloudTrailClient } from '../source/cloudtrail-client.js';
import { cancelStartedQuery, startQuery } from '../source/start-query.js';

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
  /** Files committed (none for stdout): a path, an s3:// URL, or a dataset's data files in full. */
  files: string[];
  /** For a dataset: its root, and this export's entry in its manifest (files with rows, bytes, SHA-256). */
  dataset?: { root: string; export: ManifestExport } | undefined;
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
  const startedAt = new Date();
  let destination: Destination | undefined;
  let store: ObjectStore | undefined;
  let s3: S3Client | undefined;
  let datasetFiles: WrittenFile[] | undefined;
  let entry: ManifestExport | undefined;
  let filesStarted = false;
  /** Data files that are in, while the manifest that lists them is not yet. */
  let uncommitted: WrittenFile[] | undefined;
  let schema: ColumnSchema[] | undefined;
  let queryId = options.queryId;
  /** The QueryId of a query ctlake started itself (from `sql`). */
  let startedId: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timedOut: CtlakeError | undefined;
  /** `_locks/KEY.lock` of a dataset export, held until the commit is done. */
  let keyLock: LockHandle | undefined;
  const lockKey = async (key: string) => {
    keyLock = await lockExportKey(store!, key);
    const before = keyLock.tookOver;
    if (before) options.onWarning?.(`took over the lock of export ${quoted(key)} from a run that is gone (host ${quoted(before.host)}, pid ${before.pid}, since ${quoted(before.acquiredAt)})`);
    keyLock.lost.addEventListener('abort', () => controller.abort(keyLock!.lost.reason), { once: true });
  };
  try {
    // Opened before StartQuery, so that an unwritable --out fails before a query is started and billed.
    ({ destination, store, s3 } = await openTarget(options));
    if (store && options.layout) {
      // Before anything is started or written: a manifest that cannot be
      // trusted stops the export (VERIFY_FAILED, with the repair), as the
      // commit would act on the paths it lists; and the key is locked, so
      // that two runs of one export never interleave their files.
      await readManifest(store);
      const known = options.datasetKey ?? queryId;
      if (known !== undefined) await lockKey(known);
      if (options.target.kind === 'dataset' && options.target.store.kind === 'local') {
        const removed = await removeLeftovers(store);
        if (removed.length) options.onWarning?.(`removed ${removed.length} temporary file${removed.length === 1 ? '' : 's'} left in ${store.root} by killed runs (${removed.slice(0, 3).map((n) => quoted(n)).join(', ')}${removed.length > 3 ? ', ...' : ''})`);
      }
    }
    if (queryId === undefined) {
      // normalizeExportOptions guarantees one of queryId and sql.
      queryId = await startQuery(client, {
        sql: options.sql as string,
        parameters: options.queryParameters,
        signal: controller.signal,
        retry: options.retry,
        slotRetry: options.slotRetry,
        onRetry: options.onRetry,
        eventDataStore: options.eventDataStore,
        onDuplicates: ({ cancelled, error }) => {
          if (cancelled.length) options.onWarning?.(`a retried StartQuery had started ${cancelled.length} duplicate quer${cancelled.length === 1 ? 'y' : 'ies'}; cancelled ${cancelled.join(', ')}`);
          if (error) options.onWarning?.(`a retried StartQuery may have started a duplicate query that could not be looked for (${error}); check ctlake list --status RUNNING`);
        },
      });
      startedId = queryId;
      options.onQueryStarted?.(queryId);
      // A new query's id is a new key: nobody else can hold it, but its lock still marks the export as running.
      if (store && options.layout && keyLock === undefined) await lockKey(queryId);
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
    const encoding = encodingFor(options, queryId, tally, (columns) => (schema ??= [...columns]));
    if (store && options.layout) {
      const key = options.datasetKey ?? queryId;
      filesStarted = true;
      const files = await writeDataset(batches, store, options.layout, encoding, key, controller.signal);
      uncommitted = files;
      const stats = tally.description?.QueryStatistics;
      const manifest = await commitDataset(store, {
        key,
        queryId,
        sql: tally.description?.QueryString ?? options.sql,
        ...(options.window ? { window: options.window } : {}),
        format: options.format,
        compression: options.compression,
        rows: tally.rows,
        totalResultsCount: tally.totalResultsCount,
        bytesScanned: stats?.BytesScanned ?? tally.bytesScanned,
        eventsScanned: stats?.EventsScanned,
        schema,
        startedAt: startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        ctlakeVersion: version(),
        files: manifestFiles(files),
      });
      datasetFiles = files;
      entry = manifest.exports.find((e) => e.key === key);
      uncommitted = undefined;
    } else {
      await pipeline([...encodeStages(batches, encoding, (columns) => (schema = [...columns])), destination!.writable], { signal: controller.signal });
      await destination!.commit();
    }
    const stats = tally.description?.QueryStatistics;
    return {
      queryId,
      sql: tally.description?.QueryString ?? options.sql,
      startedQuery: startedId !== undefined,
      rows: tally.rows,
      pages: tally.pages,
      columns: [...tally.columns],
      bytes: datasetFiles ? datasetFiles.reduce((n, f) => n + f.bytes, 0) : destination!.bytesWritten(),
      files: datasetFiles ? datasetFiles.map((f) => store!.root + f.path) : options.target.kind === 'stdout' ? [] : [destination!.location],
      dataset: store && entry ? { root: store.root, export: entry } : undefined,
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
    // A run whose key lock was taken over stops, and says why (not "interrupted").
    const lost = keyLock?.lost.aborted ? (keyLock.lost.reason as CtlakeError) : undefined;
    const failure = timedOut ?? lost ?? toExportError(error, queryId, destination?.location ?? options.out, options.signal);
    // writeDataset removed this export's files; an earlier export of the same
    // key that it overwrote is gone with them, so the dataset must not claim
    // to be complete.
    if (store && uncommitted) await removeUncommitted(store, options.datasetKey ?? queryId ?? '', uncommitted);
    if (store && filesStarted && (await withdrawSuccess(store, options.datasetKey ?? queryId ?? '').catch(() => false))) {
      failure.message += `; the earlier export ${options.datasetKey ?? queryId} in ${store.root} was partly replaced, so _SUCCESS was removed: rerun`;
    }
    // A query ctlake started and is leaving unfinished is cancelled, so that it
    // stops scanning (and billing) and frees one of the account's 10 slots.
    if (startedId !== undefined && tally.description === undefined) {
      const status = await cancelStartedQuery(client, startedId, options.retry);
      if (status && timedOut) timedOut.message += `; cancelled it (${status})`;
    }
    throw failure;
  } finally {
    clearTimeout(timer);
    await keyLock?.release().catch(() => undefined);
    options.signal?.removeEventListener('abort', stop);
    if (!options.client) client.destroy();
    if (s3 && !options.s3Client) s3.destroy();
  }

}

/**
 * After a failed commit: removes this export's data files unless the
 * manifest already lists them (the failure came after it was written).
 * Best effort: what cannot be removed is what `verify` reports as extra.
 */
async function removeUncommitted(store: ObjectStore, key: string, files: readonly WrittenFile[]): Promise<void> {
  let manifest;
  try {
    manifest = await readManifest(store);
  } catch {
    // A manifest that cannot be read now may list these very files: removing
    // them could lose the earlier export they replaced. Left for verify.
    return;
  }
  const listed = new Set(manifest?.exports.find((e) => e.key === key)?.files.map((f) => f.path));
  await Promise.allSettled(files.filter((f) => !listed.has(f.path)).map((f) => store.remove(f.path)));
}

/** The encoding of every file of this export; Parquet footers carry the query id, SQL and column mapping. */
function encodingFor(options: ResolvedExportOptions, queryId: string, tally: ReturnType<typeof newTally>, onSchema: (columns: readonly ColumnSchema[]) => void): Encoding {
  return {
    format: options.format,
    compression: options.compression,
    types: options.types,
    typing: options,
    rowGroupRows: options.rowGroupRows,
    createdBy: `ctlake ${version()}`,
    // Called once the first page is in, so DescribeQuery's SQL is known.
    metadata: (columns) => {
      onSchema(columns);
      return {
        'ctlake.version': version(),
        'ctlake.query_id': queryId,
        ...(tally.description?.QueryString ? { 'ctlake.sql': tally.description.QueryString } : {}),
        'ctlake.columns': JSON.stringify(columns),
      };
    },
  };
}

/** The destination (one file, object or stdout) or the store (a dataset) that `out` names, checked for writing. */
async function openTarget(options: ResolvedExportOptions): Promise<{ destination?: Destination; store?: ObjectStore; s3?: S3Client }> {
  const target = options.target;
  switch (target.kind) {
    case 'stdout':
      return { destination: stdoutDestination(options.stdout) };
    case 'file':
      return { destination: await fileDestination(target.path) };
    case 's3':
    case 'dataset': {
      if (target.kind === 'dataset' && target.store.kind === 'local') {
        const store = localStore(target.store.dir);
        await store.check();
        return { store };
      }
      // Loaded only for S3 outputs: the S3 SDK is large.
      const s3Module = await import('../destinations/s3.js');
      const s3 = options.s3Client ?? s3Module.createS3Client({ region: options.region, profile: options.profile, endpointUrl: options.s3EndpointUrl, forcePathStyle: options.s3ForcePathStyle });
      const where = target.kind === 's3' ? { bucket: target.bucket, prefix: target.key.slice(0, target.key.lastIndexOf('/') + 1) } : (target.store as { bucket: string; prefix: string });
      const { bucket, prefix } = where;
      const store = s3Module.s3Store(s3, bucket, prefix, options.s3);
      try {
        await store.check();
      } catch (error) {
        if (!options.s3Client) s3.destroy();
        throw error;
      }
      if (target.kind === 'dataset') return { store, s3 };
      return { destination: s3Module.s3Destination(s3, bucket, target.key, options.s3), s3 };
    }
  }
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
