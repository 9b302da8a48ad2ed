import { pipeline } from 'node:stream/promises';
import type { ExportRun } from './export-run.js';
import { datasetKeyOf } from './export-run.js';
import { encodeStages, type Encoding } from '../formats/encode.js';
import type { FlatRecord } from '../rows/flatten-row.js';
import type { ColumnSchema } from '../rows/schema.js';
import { version } from '../version.js';
import { commitDataset, manifestFiles } from '../dataset/manifest.js';
import { writeDataset } from '../dataset/write-dataset.js';
import { queryRecordBatches } from './query-records.js';

/**
 * Step 4: the query's rows as record batches, one per page, with the run's
 * signal, the caller's callbacks, and the timeout cleared once DescribeQuery
 * has answered. COUNT_MISMATCH is thrown before the last batch ends, so a
 * writer never commits an incomplete result.
 */
export function recordBatches(run: ExportRun, queryId: string): AsyncGenerator<FlatRecord[]> {
  const options = run.options;
  return queryRecordBatches(
    run.client,
    {
      ...options,
      queryId,
      signal: run.controller.signal,
      onStatus: (description) => options.onStatus?.(description.QueryStatus ?? 'UNKNOWN'),
      onPage: (event) => options.onPage?.({ ...event, bytesWritten: run.destination?.bytesWritten() }),
      // The timeout bounds the wait for the query, not the export of its rows.
      onDescribe: () => clearTimeout(run.timer),
    },
    run.tally,
  );
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
  const files = await writeDataset(batches, store, options.layout!, encodingFor(run, queryId), key, run.controller.signal);
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
    schema: run.schema,
    startedAt: run.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    ctlakeVersion: version(),
    files: manifestFiles(files),
  });
  run.dataset.files = files;
  run.dataset.entry = manifest.exports.find((e) => e.key === key);
  run.dataset.uncommitted = undefined;
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
    createdBy: `ctlake ${version()}`,
    // Called once the first page is in, so DescribeQuery's SQL is known.
    metadata: (columns: readonly ColumnSchema[]) => {
      run.schema ??= [...columns];
      return {
        'ctlake.version': version(),
        'ctlake.query_id': queryId,
        ...(tally.description?.QueryString ? { 'ctlake.sql': tally.description.QueryString } : {}),
        'ctlake.columns': JSON.stringify(columns),
      };
    },
  };
}
