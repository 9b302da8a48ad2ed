/**
 * ctlake's public contract. Everything a library user may rely on is named
 * here; anything not exported here may change without notice.
 */
export { exportQuery } from './export/export-query.js';
export type { ExportSummary, QueryStatisticsSummary } from './export/export-query.js';
export { normalizeExportOptions, normalizeSourceOptions } from './export/export-options.js';
export type { Compression, OutputFormat, ExportOptions, PageEvent, ResolvedExportOptions, ResolvedSourceOptions, SourceOptions } from './export/export-options.js';
export { createRowStream, queryRecordBatches } from './export/query-records.js';
export type { RecordBatchesOptions, RecordTally } from './export/query-records.js';
export { queryPages } from './source/query-pages.js';
export type { QueryPage, QueryPagesOptions } from './source/query-pages.js';
export { readAhead } from './source/read-ahead.js';
export { waitForQuery, queryEndedError, QUERY_STATUSES } from './source/query-status.js';
export type { QueryStatus, WaitOptions } from './source/query-status.js';
export { withRetry, isRetryable, DEFAULT_RETRY } from './source/retry.js';
export type { RetryOptions, RetryEvent } from './source/retry.js';
export { createCloudTrailClient } from './source/cloudtrail-client.js';
export type { ClientOptions } from './source/cloudtrail-client.js';
export { flattenRow, ColumnSet } from './rows/flatten-row.js';
export type { QueryResultRow, FlatRecord } from './rows/flatten-row.js';
export { buildSchema, safeColumnNames } from './rows/schema.js';
export type { ColumnSchema } from './rows/schema.js';
export { typeForColumn, parseColumnSpec, KNOWN_FIELD_TYPES, NESTED_FIELDS, COLUMN_TYPES } from './rows/column-types.js';
export type { ColumnType, NestedMode, TypingOptions } from './rows/column-types.js';
export { parseValue } from './rows/parse-value.js';
export { prestoToJson, prestoValueToJson } from './rows/presto-json.js';
export type { Destination } from './destinations/destination.js';
export type { ObjectStore, StoredObject } from './destinations/store.js';
export type { S3WriteOptions, ServerSideEncryption } from './destinations/s3.js';
export { verifyDataset } from './dataset/verify.js';
export type { VerifyReport } from './dataset/verify.js';
export { MANIFEST, SUCCESS } from './dataset/manifest.js';
export type { Manifest, ManifestExport, ManifestFile } from './dataset/manifest.js';
export { parsePartitionSpecs, partitionPath } from './dataset/partition.js';
export type { PartitionLevel, TimeGrain } from './dataset/partition.js';
export type { DatasetLayout, WrittenFile } from './dataset/write-dataset.js';
export { localStore } from './destinations/store.js';
export { exportWindows } from './jobs/export-windows.js';
export type { WindowOptions, WindowRunSummary } from './jobs/export-windows.js';
export { backfill, MAX_CONCURRENCY } from './jobs/backfill.js';
export type { BackfillOptions, BackfillProgress, BackfillSummary } from './jobs/backfill.js';
export type { JobOptions, RunResult } from './jobs/job-run.js';
export type { JobState, RunRecord } from './jobs/job-state.js';
export { CtlakeError, isCtlakeError } from './errors.js';
export type { CtlakeErrorCode, CtlakeErrorContext } from './errors.js';
