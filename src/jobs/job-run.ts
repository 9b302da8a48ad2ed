import type { S3Client } from '@aws-sdk/client-s3';
import { CtlakeError, isCtlakeError, optionError } from '../errors.js';
import { exportQuery, type ExportSummary } from '../export/export-query.js';
import { normalizeExportOptions, type ExportOptions } from '../export/export-options.js';
import { parseTarget } from '../destinations/target.js';
import { acquireLock, checkLease, type LockHandle } from '../destinations/store-lock.js';
import { openStateFile, type JobState, type RunRecord, type StateFile } from './job-state.js';
import { isoTime, missingPlaceholders, renderSql, windowKey, type TimeWindow } from './time-windows.js';

/** The options of every export a job runs; the job sets the SQL, key and window of each. */
export type JobExportOptions = Omit<ExportOptions, 'sql' | 'queryId' | 'datasetKey' | 'window' | 'onQueryStarted'>;

export interface JobOptions extends JobExportOptions {
  /** The SQL, with `{{start}}` and `{{end}}` where the window's bounds go. */
  sqlTemplate: string;
  /** Where the job's state is kept: a file or `s3://bucket/key`; its lock is `STATE.lock` beside it. */
  state?: string | undefined;
  /** The lock's lease, MIN_LOCK_LEASE_MS to MAX_LOCK_LEASE_MS; see acquireLock. @default 600000 */
  lockLeaseMs?: number | undefined;
}

/** How one window or slice went. */
export interface RunResult extends RunRecord {
  summary?: ExportSummary | undefined;
  /**
   * Why a failed window or slice failed, as thrown (not recorded in the
   * state, which keeps `error`, its message): a caller with names of its own
   * for options shows it with `describe` (the CLI: its flags).
   */
  failure?: unknown;
}

/**
 * Checks what every job needs: a dataset (an `out` folder or prefix, or a
 * caller's `store`: each window or slice gets its own files in it; a single
 * `destination` cannot hold them), and SQL with both placeholders. Throws
 * INVALID_OPTION, which the CLI shows as a usage error, or an OptionError.
 */
export function checkJob(options: JobOptions): void {
  const missing = missingPlaceholders(options.sqlTemplate);
  if (missing.length) {
    throw new CtlakeError('INVALID_OPTION', `the SQL lacks ${missing.join(' and ')}: write WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`);
  }
  if (options.destination !== undefined) throw optionError('destination', 'a single destination', 'an out that is a dataset, or a store: each window or slice gets its own files');
  if (options.store === undefined && parseTarget(options.out ?? '')?.kind !== 'dataset') {
    throw new CtlakeError('INVALID_OPTION', (n) => `${n('out')} must be a dataset (a folder or s3://bucket/prefix/ ending in /) so that each window has its own files, not '${options.out}'`, {
      option: 'out',
    });
  }
  // Every export of the job shares these options: a bad one fails the run
  // now (TypeError), not each window or slice in turn.
  normalizeExportOptions({ ...options, sql: renderSql(options.sqlTemplate, { start: 0, end: 60_000 }) });
  checkLease(options.lockLeaseMs);
}

/**
 * Opens the state and takes its lock, runs `body`, then releases the lock,
 * whatever happens. A state on S3 gets an S3 client built as the export's.
 * A run that lost its lock fails with the lock's LOCK_HELD error ("lock
 * lost: ..."), not with the INTERRUPTED its exports end with when the lost
 * lock aborts them: an interrupt is the caller's signal only.
 */
export async function withJobState<T, S = JobState>(
  options: Pick<JobOptions, 'state' | 's3Client' | 'region' | 'profile' | 's3EndpointUrl' | 's3ForcePathStyle' | 'lockLeaseMs' | 'signal'>,
  body: (state: StateFile<S> | undefined, lock: LockHandle | undefined) => Promise<T>,
  validate?: (value: unknown, location: string) => S,
): Promise<T> {
  if (!options.state) return body(undefined, undefined);
  let s3: S3Client | undefined;
  const s3Client = async () => {
    if (options.s3Client) return options.s3Client;
    const { createS3Client } = await import('../destinations/s3.js');
    return (s3 = createS3Client({ region: options.region, profile: options.profile, endpointUrl: options.s3EndpointUrl, forcePathStyle: options.s3ForcePathStyle }));
  };
  try {
    const file = await openStateFile<S>(options.state, s3Client, validate);
    const lock = await acquireLock(file.store, file.lockName, { leaseMs: options.lockLeaseMs });
    try {
      return await body(file, lock);
    } catch (error) {
      if (lock.lost.aborted && !options.signal?.aborted && !isCtlakeError(error, 'LOCK_HELD')) throw lock.lost.reason;
      throw error;
    } finally {
      await lock.release().catch(() => undefined);
    }
  } finally {
    s3?.destroy();
  }
}

/** Exports one window or slice to its own files, and says how it went; throws only for an interrupt or misuse. */
export async function runWindow(options: JobOptions, window: TimeWindow, signal: AbortSignal | undefined): Promise<RunResult> {
  const key = windowKey(window);
  const base = { key, start: isoTime(window.start), end: isoTime(window.end) };
  try {
    const summary = await exportQuery({
      ...options,
      sql: renderSql(options.sqlTemplate, window),
      datasetKey: key,
      window: { start: base.start, end: base.end },
      signal,
    });
    return {
      ...base,
      status: 'done',
      queryId: summary.queryId,
      rows: summary.rows,
      bytesScanned: summary.queryStatistics.bytesScanned,
      finishedAt: new Date().toISOString(),
      summary,
    };
  } catch (error) {
    // An interrupt stops the job; so does misuse, which every window would repeat.
    if (signal?.aborted || isCtlakeError(error, 'INTERRUPTED') || isCtlakeError(error, 'INVALID_OPTION') || error instanceof TypeError) throw error;
    const failure = error instanceof Error ? error : new Error(String(error));
    return { ...base, status: 'failed', queryId: (error as CtlakeError).queryId, error: failure.message.split('\n')[0], finishedAt: new Date().toISOString(), failure: error };
  }
}

/** What a job's state records as its output, so that a state is never continued into another: `out`, or the store's root. */
export function outputOf(options: JobOptions): string {
  return options.out ?? options.store?.root ?? '';
}

/** The record kept in the state: the result without the export's summary. */
export function toRecord({ summary: _, failure: __, ...record }: RunResult): RunRecord {
  return record;
}

export function now(): string {
  return new Date().toISOString();
}

export type { JobState };
