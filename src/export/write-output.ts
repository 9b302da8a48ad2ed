import { pipeline } from 'node:stream/promises';
import type { ExportRun } from './export-run.js';
import { datasetKeyOf } from './export-run.js';
import { encodeStages, type Encoding } from '../formats/encode.js';
import type { FlatRecord } from '../rows/flatten-row.js';
import type { ColumnSchema } from '../rows/schema.js';
import { version } from '../version.js';
import { commitDataset, datasetSchemaClash, manifestFiles } from '../dataset/manifest.js';
import { partitionKeyType, settlePartitionLevels } from '../dataset/partition.js';
import { CtlakeError } from '../errors.js';
import { writeDataset } from '../dataset/write-dataset.js';
import type { DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';
import { pageOfBatch, queryRecordBatches } from './query-records.js';
import { crossCheckedBatches, deliveredBatches } from './export-delivery.js';
import { checkpointProblem, resumedFiles, resumeRefused, type ExportCheckpoint } from './export-checkpoint.js';
import type { DatasetCheckpoints, WrittenFile } from '../dataset/write-dataset.js';
import { resolveExportSchema } from './export-schema.js';
import { columnRecords, type ColumnRecord } from '../rows/schema.js';
import { UNPARSED_COLUMN_SOURCE } from '../rows/unparsed-column.js';

/**
 * Step 4: the query's rows as record batches, one per page, with the run's
 * signal, the caller's callbacks, and the timeout cleared once DescribeQuery
 * has answered. COUNT_MISMATCH is thrown before the last batch ends, so a
 * writer never commits an incomplete result.
 */
export function recordBatches(run: ExportRun, queryId: string): AsyncGenerator<FlatRecord[]> {
  const options = run.options;
  const settle = settleColumns(run);
  if (options.via === 'delivery') return deliveredBatches(run, queryId, settle);
  const pages = queryRecordBatches(
    run.client,
    {
      ...options,
      queryId,
      resume: options.resumeFrom && { nextToken: options.resumeFrom.nextToken, pages: options.resumeFrom.pages, rows: options.resumeFrom.rows },
      signal: run.controller.signal,
      onStatus: (description) => options.onStatus?.(description.QueryStatus ?? 'UNKNOWN'),
      onPage: (event) => options.onPage?.({ ...event, bytesWritten: run.destination?.bytesWritten() }),
      // The timeout bounds the wait for the query, not the export of its rows.
      onDescribe: () => clearTimeout(run.timer),
      settle,
    },
    run.tally,
  );
  return options.deliveryS3Uri === undefined ? pages : crossCheckedBatches(run, queryId, pages);
}

/**
 * The export's columns, settled once DescribeQuery has answered and before
 * the first row (export-schema.ts), for pages and delivered files alike;
 * for a dataset, its partition levels and schema rule checked too.
 */
function settleColumns(run: ExportRun): (description: DescribeQueryCommandOutput | undefined) => Promise<readonly string[] | undefined> {
  const options = run.options;
  return async (description) => {
    run.exportSchema = await resolveExportSchema({
      sql: description?.QueryString ?? options.sql,
      typing: options,
      nested: options.nested,
      storeType: options.storeType,
      client: run.client,
      signal: run.controller.signal,
      retry: options.retry,
      onRetry: options.onRetry,
      onWarning: options.onWarning,
    });
    if (options.resumeFrom && run.exportSchema.source !== 'sql') {
      throw resumeRefused(options.resumeFrom, 'its columns came from the first page, which a resumed export does not read again');
    }
    if (run.exportSchema.source !== 'sql') return undefined;
    run.schema = run.exportSchema.columns;
    if (run.store && options.layout) await settleDataset(run, run.exportSchema.columns);
    return run.exportSchema.columns.map((c) => c.source).filter((source) => source !== UNPARSED_COLUMN_SOURCE);
  };
}

/**
 * Step 5a, one output: one pipeline from the batches through the format
 * into the destination's writable, then `commit()`. The only ending on
 * success; any rejection goes to failExport(), which calls `abort()`.
 */
export async function writeToDestination(run: ExportRun, batches: AsyncIterable<FlatRecord[]>, queryId: string): Promise<void> {
  const destination = run.destination!;
  const encoding = encodingFor(run, queryId);
  await pipeline([...encodeStages(batches, encoding, (columns) => (run.schema = [...columns])), destination.writable], { signal: run.controller.signal });
  await destination.commit();
}

/**
 * Step 5b, a dataset: the data files (writeDataset: each one whole or not
 * at all), then the manifest entry that lists them, which is the commit;
 * `_SUCCESS` comes with it. While the files are in and the manifest is not,
 * `run.dataset.uncommitted` lists them for the failure path.
 */
export async function writeDatasetExport(run: ExportRun, batches: AsyncIterable<FlatRecord[]>, queryId: string): Promise<void> {
  const { options, tally } = run;
  const store = run.store!;
  const key = datasetKeyOf(run);
  run.dataset.filesStarted = true;
  const given = options.layout!;
  // Read per batch, so the levels matched to the settled columns (settleDataset) apply from the first row.
  const layout = { ...given, get partitionBy() { return run.partitionLevels ?? given.partitionBy; } };
  const resume = options.resumeFrom;
  const checkpoints =
    options.checkpointRows !== undefined || resume
      ? datasetCheckpoints({
          queryId,
          pageSize: options.pageSize,
          everyRows: options.checkpointRows,
          resumed: resume ? resumedFiles(resume) : [],
          schema: () => run.schema && columnRecords(run.schema),
          save: options.onCheckpoint,
        })
      : undefined;
  const files = await writeDataset(batches, store, layout, encodingFor(run, queryId), key, run.controller.signal, checkpoints);
  run.dataset.uncommitted = files;
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
    schema: run.schema && columnRecords(run.schema),
    schemaSource: run.exportSchema?.source ?? 'first-page',
    ...(run.exportSchema?.storeType ? { storeType: run.exportSchema.storeType, storeTypeSource: run.exportSchema.storeTypeSource } : {}),
    partitions: layout.partitionBy.map((level) => ({ key: level.key, column: level.column, type: partitionKeyType(level) })),
    ...(run.delivery ? { delivery: run.delivery } : {}),
    startedAt: run.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    ctlakeVersion: version(),
    files: manifestFiles(files),
  });
  run.dataset.files = files;
  run.dataset.entry = manifest.exports.find((e) => e.key === key);
  run.dataset.uncommitted = undefined;
}

/**
 * A dataset export's checks once its columns are settled, before any file
 * is begun: the partition levels matched to the columns (INVALID_OPTION for
 * a key that is a column's name), and the dataset's schema rule
 * (SCHEMA_CHANGED when the dataset's other exports have another schema).
 */
async function settleDataset(run: ExportRun, columns: readonly ColumnSchema[]): Promise<void> {
  try {
    run.partitionLevels = settlePartitionLevels(run.options.layout!.partitionBy, columns);
  } catch (error) {
    throw new CtlakeError('INVALID_OPTION', (n) => `${n('partitionBy')}: ${(error as Error).message}`, { option: 'partitionBy' });
  }
  const clash = datasetSchemaClash(run.dataset.manifest, datasetKeyOf(run), columnRecords(columns));
  if (clash) throw new CtlakeError('SCHEMA_CHANGED', `${run.store!.root}: ${clash}`);
  const resume = run.options.resumeFrom;
  if (resume) {
    const problem = await checkpointProblem(run.store!, resume, columnRecords(columns));
    if (problem) throw resumeRefused(resume, problem);
  }
}

/** The encoding of every file of this export; Parquet footers carry the query id, SQL and column mapping. Sets `run.schema` once the columns are known. */
function encodingFor(run: ExportRun, queryId: string): Encoding {
  const { options, tally } = run;
  return {
    format: options.format,
    compression: options.compression,
    types: options.types,
    typing: options,
    rowGroupRows: options.rowGroupRows,
    // The form Java Parquet readers parse (parquet-mr's VersionParser): `APP version X (build Y)`.
    createdBy: `ctlake version ${version()} (build ${version()})`,
    schema: () => (run.exportSchema?.source === 'sql' ? run.exportSchema.columns : undefined),
    // Called once the first page is in, so DescribeQuery's SQL is known.
    metadata: (columns: readonly ColumnSchema[]) => {
      run.schema ??= [...columns];
      return {
        'ctlake.version': version(),
        'ctlake.query_id': queryId,
        ...(tally.description?.QueryString ? { 'ctlake.sql': tally.description.QueryString } : {}),
        'ctlake.columns': JSON.stringify(columnRecords(columns)),
      };
    },
  };
}

/**
 * The writeDataset checkpoints of an export: due at the end of a page that
 * has a next one, once `everyRows` rows have gone out since the last; each
 * is handed to `save` as an ExportCheckpoint.
 */
function datasetCheckpoints(options: {
  queryId: string;
  pageSize: number;
  everyRows: number | undefined;
  resumed: readonly WrittenFile[];
  schema: () => ColumnRecord[] | undefined;
  save: ((checkpoint: ExportCheckpoint) => Promise<void> | void) | undefined;
}): DatasetCheckpoints {
  const { everyRows, save } = options;
  return {
    resumed: options.resumed,
    due: (batch, rowsSince) => everyRows !== undefined && save !== undefined && rowsSince >= everyRows && pageOfBatch(batch)?.nextToken !== undefined,
    save: async (files, batch) => {
      const page = pageOfBatch(batch)!;
      const manifestFiles = files.map(({ path, partition, rows, bytes, sha256 }) => ({ path, partition, rows, bytes, sha256 }));
      await save!({
        queryId: options.queryId,
        pageSize: options.pageSize,
        nextToken: page.nextToken!,
        pages: page.index + 1,
        rows: manifestFiles.reduce((n, f) => n + f.rows, 0),
        files: manifestFiles,
        schema: options.schema(),
        at: new Date().toISOString(),
      });
    },
  };
}
