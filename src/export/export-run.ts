import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CtlakeError } from '../errors.js';
import type { ResolvedExportOptions } from './export-options.js';
import type { ColumnSchema } from '../rows/schema.js';
import type { ExportSchema } from './export-schema.js';
import type { PartitionLevel } from '../dataset/partition.js';
import type { Destination } from '../destinations/destination.js';
import type { ObjectStore } from '../destinations/store.js';
import type { LockHandle } from '../destinations/store-lock.js';
import type { Manifest, ManifestDelivery, ManifestExport } from '../dataset/manifest.js';
import type { WrittenFile } from '../dataset/write-dataset.js';
import { newTally, type RecordTally } from './query-records.js';
import { createCloudTrailClient } from '../source/cloudtrail-client.js';

/**
 * The state one export shares between its steps (open the target, take the
 * query, the timeout, write, fail, summarize), in one place. Each step reads
 * what the steps before it set and sets only its own fields; nothing else
 * holds export state.
 */
export interface ExportRun {
  readonly options: ResolvedExportOptions;
  readonly client: CloudTrailClient;
  /**
   * One controller for the whole run: the caller's signal stops it, and so
   * do the query timeout, a lost key lock and any failure, so that a page in
   * flight is not waited for. Its reason says which.
   */
  readonly controller: AbortController;
  readonly tally: RecordTally;
  readonly startedAt: Date;
  /** performance.now() at the start, for durationMs. */
  readonly startedMs: number;
  /** The one output (file, S3 object, stdout, or the caller's), when not a dataset. */
  destination: Destination | undefined;
  /** The dataset's store (a folder, an S3 prefix, or the caller's). */
  store: ObjectStore | undefined;
  /** An S3 client ctlake built for this run, destroyed when it ends. */
  s3: S3Client | undefined;
  /** The query exported: the caller's, or the one StartQuery answered. */
  queryId: string | undefined;
  /** The QueryId of a query ctlake started itself (from `sql`): cancelled if the run fails before it finished. */
  startedId: string | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Set when the query timeout fired: the failure the run ends with. */
  timedOut: CtlakeError | undefined;
  /** `_locks/KEY.lock` of a dataset export, held until the commit is done. */
  keyLock: LockHandle | undefined;
  schema: ColumnSchema[] | undefined;
  /** The columns settled from the SQL before the first row (export-schema.ts); set once DescribeQuery has answered. */
  exportSchema: ExportSchema | undefined;
  /** A dataset's partition levels, matched to the settled columns. */
  partitionLevels: PartitionLevel[] | undefined;
  /** A dataset export's progress, for the failure path and the summary. */
  dataset: {
    /**
     * The manifest as prepareDataset read it before the query (undefined: none
     * yet), for the schema check once the columns are settled; the commit
     * checks again under the manifest's lock.
     */
    manifest: Manifest | undefined;
    /** writeDataset began: the earlier export of this key may be partly replaced. */
    filesStarted: boolean;
    /** Data files that are in, while the manifest that lists them is not yet. */
    uncommitted: WrittenFile[] | undefined;
    /** The files the manifest lists, once it is committed. */
    files: WrittenFile[] | undefined;
    entry: ManifestExport | undefined;
  };
  /** Lake's delivery of the query (deliveryS3Uri), once verified: the rows came from it, or it was cross-checked. */
  delivery: ManifestDelivery | undefined;
  /** Listener on the caller's signal; removed when the run ends. */
  readonly stop: () => void;
}

/** A new run: builds the CloudTrail client unless the caller gave one, and ties the run's controller to the caller's signal. */
export function beginRun(options: ResolvedExportOptions): ExportRun {
  const controller = new AbortController();
  const stop = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  return {
    options,
    client: options.client ?? createCloudTrailClient(options),
    controller,
    tally: newTally(),
    startedAt: new Date(),
    startedMs: performance.now(),
    destination: undefined,
    store: undefined,
    s3: undefined,
    queryId: options.queryId,
    startedId: undefined,
    timer: undefined,
    timedOut: undefined,
    keyLock: undefined,
    schema: undefined,
    exportSchema: undefined,
    partitionLevels: undefined,
    dataset: { manifest: undefined, filesStarted: false, uncommitted: undefined, files: undefined, entry: undefined },
    delivery: undefined,
    stop,
  };
}

/** The dataset key of this run: `datasetKey`, else the QueryId. */
export function datasetKeyOf(run: ExportRun): string {
  return run.options.datasetKey ?? run.queryId ?? '';
}

/** Whether the caller stopped the run (its signal), as opposed to a timeout, a lost lock or a failure. */
export function callerAborted(run: ExportRun): boolean {
  return run.options.signal?.aborted === true;
}

/**
 * Ends a run, success or failure: the timer, the key lock, the listener on
 * the caller's signal, and the clients ctlake built (never the caller's
 * client, destination or store).
 */
export async function endRun(run: ExportRun): Promise<void> {
  clearTimeout(run.timer);
  await run.keyLock?.release().catch(() => undefined);
  run.options.signal?.removeEventListener('abort', run.stop);
  if (!run.options.client) run.client.destroy();
  if (run.s3 && !run.options.s3Client) run.s3.destroy();
}
