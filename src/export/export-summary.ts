import type { Compression, OutputFormat } from './export-options.js';
import type { ExportRun } from './export-run.js';
import type { ColumnSchema } from '../rows/schema.js';
import type { ManifestExport } from '../dataset/manifest.js';

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
  /**
   * Files committed (none for stdout): a path, an s3:// URL, a caller's
   * destination's `location`, or a dataset's data files in full (its
   * store's `root` followed by each path).
   */
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

/** Step 6, after a commit: what the run wrote, from the run's tally and its committed files. */
export function summarize(run: ExportRun, queryId: string): ExportSummary {
  const { options, tally } = run;
  const { files, entry } = run.dataset;
  const store = run.store;
  const stats = tally.description?.QueryStatistics;
  const stdout = options.sink.kind === 'out' && options.sink.target.kind === 'stdout';
  return {
    queryId,
    sql: tally.description?.QueryString ?? options.sql,
    startedQuery: run.startedId !== undefined,
    rows: tally.rows,
    pages: tally.pages,
    columns: [...tally.columns],
    bytes: files ? files.reduce((n, f) => n + f.bytes, 0) : run.destination!.bytesWritten(),
    files: files ? files.map((f) => store!.root + f.path) : stdout ? [] : [run.destination!.location],
    dataset: store && entry ? { root: store.root, export: entry } : undefined,
    format: options.format,
    compression: options.compression,
    schema: run.schema,
    durationMs: Math.round(performance.now() - run.startedMs),
    queryStatistics: {
      totalResultsCount: tally.totalResultsCount,
      bytesScanned: stats?.BytesScanned ?? tally.bytesScanned,
      eventsScanned: stats?.EventsScanned,
      eventsMatched: stats?.EventsMatched,
      executionTimeInMillis: stats?.ExecutionTimeInMillis,
      creationTime: stats?.CreationTime,
    },
  };
}
