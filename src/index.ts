/**
 * ctlake's public contract: everything a library user may rely on is named
 * here, and anything not named here may change without notice. A test
 * (test/public-contract.test.ts) pins these names, so that widening or
 * narrowing the contract is a visible decision in a diff.
 *
 * Two more entry points keep heavy code out of `import 'ctlake'`:
 * `ctlake/emulator` (the local CloudTrail Lake, which loads DuckDB) and
 * `ctlake/s3` (an S3 ObjectStore, which loads the S3 client).
 */

// One export: a query's rows, once and in order, committed only when complete.
export { exportQuery } from './export/export-query.js';
export type { ExportSummary, QueryStatisticsSummary } from './export/export-query.js';
export type { Compression, ExportOptions, OutputFormat, PageEvent, SourceOptions } from './export/export-options.js';

// The rows as a stream, for a consumer of one's own.
export { createRowStream } from './export/query-records.js';
export type { FlatRecord } from './rows/flatten-row.js';

// Scheduled windows and backfills, with state and locks.
export { exportWindows } from './jobs/export-windows.js';
export type { WindowOptions, WindowRunSummary } from './jobs/export-windows.js';
export { backfill } from './jobs/backfill.js';
export type { BackfillOptions, BackfillProgress, BackfillSummary } from './jobs/backfill.js';
export type { JobOptions, RunResult } from './jobs/job-run.js';

// A whole event data store: planned, paced, resumable, reconciled.
export { migrate } from './jobs/migrate.js';
export type { MigrateOptions, MigrateProgress, MigrateSummary } from './jobs/migrate.js';
export type { MigrationPlan } from './jobs/migrate-plan.js';
export type { MigrateSlice, MigrateState } from './jobs/migrate-state.js';
export type { ReconcileResult } from './jobs/reconcile.js';
export type { ExportCheckpoint } from './export/export-checkpoint.js';
export type { JobState, RunRecord } from './jobs/job-state.js';

// Where bytes go: the sink contracts, and the local store ctlake ships.
export type { Destination } from './destinations/destination.js';
export type { ObjectStore, StoredObject } from './destinations/store.js';
export { localStore } from './destinations/store.js';

// Datasets: what the manifest says, and checking a dataset against it.
export { verifyDataset } from './dataset/verify.js';
export type { VerifyReport } from './dataset/verify.js';
export type { Manifest, ManifestExport, ManifestFile } from './dataset/manifest.js';

// Query management: the calls behind `ctlake list`, `describe` and `cancel`.
export { cancelQuery, describeQuery, listQueries } from './source/query-management.js';
export type { CancelQueryOptions, CancelQueryResult, DescribeQueryOptions, DescribedQuery, ListQueriesOptions, ListedQuery } from './source/query-management.js';

// The client, types and schema vocabulary that options and summaries use.
export { createCloudTrailClient } from './source/cloudtrail-client.js';
export type { ClientOptions } from './source/cloudtrail-client.js';
export { RateLimiter } from './source/rate-limit.js';
export type { RateLimiterOptions } from './source/rate-limit.js';
export { CallStats } from './source/call-stats.js';
export type { CallStatsSnapshot } from './source/call-stats.js';
export { limitClient } from './source/limit-client.js';
export type { RetryEvent, RetryOptions } from './source/retry.js';
export type { QueryStatus } from './lake-model.js';
export type { ColumnSchema } from './rows/schema.js';
export type { ColumnType, NestedMode } from './rows/column-types.js';

// The one error family.
export { CtlakeError, isCtlakeError } from './errors.js';
export type { CtlakeErrorCode, CtlakeErrorContext } from './errors.js';
