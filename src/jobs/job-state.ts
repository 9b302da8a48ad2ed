import { createHash } from 'node:crypto';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { CtlakeError } from '../errors.js';
import { localStore, type ObjectStore } from '../destinations/store.js';
import { parseS3Url } from '../destinations/target.js';

/** One window or slice of a job, as its state records it. */
export interface RunRecord {
  key: string;
  /** ISO-8601 UTC. */
  start: string;
  end: string;
  status: 'done' | 'failed';
  queryId?: string | undefined;
  rows?: number | undefined;
  bytesScanned?: number | undefined;
  /** The one-line error of a failed window or slice. */
  error?: string | undefined;
  finishedAt: string;
}

/**
 * A job's state, one JSON object in a local file or an S3 object. It says
 * what is exported, so that the next run starts where this one stopped,
 * and which job it belongs to, so that a state is never used for another
 * job's SQL or destination.
 */
export interface JobState {
  stateVersion: 1;
  job: 'windows' | 'backfill';
  /** SHA-256 of the SQL template. */
  sqlSha256: string;
  out: string;
  /** Windows: every window before this instant is exported (ISO-8601). */
  exportedUntil?: string | undefined;
  /** Backfill: its range and slice, fixed at its first run. */
  from?: string | undefined;
  to?: string | undefined;
  sliceMs?: number | undefined;
  /** Windows (the most recent 500) and slices, by key. */
  runs: Record<string, RunRecord>;
  updatedAt: string;
}

/** Where a job keeps its state and its lock (`STATE.lock` beside it). */
export interface StateFile {
  store: ObjectStore;
  name: string;
  lockName: string;
  location: string;
  read(): Promise<JobState | undefined>;
  /**
   * Written whole (a rename, or one PutObject), so a reader sees the old
   * state or the new one; and conditionally (S3 If-Match on the ETag read),
   * so that a run which lost its lock cannot overwrite its successor's.
   */
  write(state: JobState): Promise<void>;
}

/** `./state.json` or `s3://bucket/state/logins.json`. S3 needs `s3`, a client. */
export async function openStateFile(location: string, s3: (() => Promise<S3Client>) | undefined): Promise<StateFile> {
  let store: ObjectStore;
  let name: string;
  if (location.startsWith('s3://')) {
    const url = parseS3Url(location);
    if (!url || !url.key || url.key.endsWith('/')) throw new CtlakeError('INVALID_OPTION', `--state must be a file or s3://bucket/key, not '${location}'`);
    const slash = url.key.lastIndexOf('/') + 1;
    const { s3Store } = await import('../destinations/s3.js');
    store = s3Store(await s3!(), url.bucket, url.key.slice(0, slash), { partSizeBytes: 8 * 1024 * 1024, queueSize: 1 });
    name = url.key.slice(slash);
  } else {
    if (location.endsWith('/')) throw new CtlakeError('INVALID_OPTION', `--state must be a file, not the folder '${location}'`);
    store = localStore(path.dirname(path.resolve(location)));
    name = path.basename(location);
  }
  /** The tag of the state as this run last read or wrote it. */
  let tag: string | undefined;
  let read = false;
  const readState = async (): Promise<JobState | undefined> => {
    const tagged = await store.getTagged(name);
    tag = tagged?.tag;
    read = true;
    if (tagged === undefined) return undefined;
    const data = tagged.data;
    let state: JobState;
    try {
      state = JSON.parse(data.toString('utf8')) as JobState;
    } catch {
      throw new CtlakeError('STATE_INVALID', `--state ${location} is not JSON; restore it, or give a new --state to start over`);
    }
    if (state?.stateVersion !== 1 || typeof state.runs !== 'object') {
      throw new CtlakeError('STATE_INVALID', `--state ${location} is not a ctlake job state (version 1); give a new --state to start over`);
    }
    return state;
  };
  return {
    store,
    name,
    lockName: `${name}.lock`,
    location,
    read: readState,
    async write(state) {
      if (!read) await readState();
      const data = Buffer.from(JSON.stringify(state, null, 2) + '\n');
      // Conditional on the state this run read or last wrote: if another
      // writer got in between (a lock lost and taken over), this run stops
      // rather than overwrite what that one recorded.
      const written = await store.putIf(name, data, tag === undefined ? { ifAbsent: true } : { ifTag: tag });
      if (written === undefined) {
        throw new CtlakeError('LOCK_HELD', `--state ${location} was changed by another run while this one held the lock; this run stops, and the next one continues from the state as it is`);
      }
      tag = written;
    },
  };
}

export function sqlHash(sql: string): string {
  return createHash('sha256').update(sql.trim()).digest('hex');
}

/**
 * The state to continue from: a new one, or the stored one when it belongs
 * to this job. A state of another SQL, destination or range is refused
 * (STATE_INVALID), because continuing from it would skip or repeat rows.
 */
export function continueState(stored: JobState | undefined, fresh: JobState, location: string): JobState {
  if (!stored) return fresh;
  const differs = (what: string, a: unknown, b: unknown) => {
    if (a !== b) throw new CtlakeError('STATE_INVALID', `--state ${location} belongs to another job (its ${what} differs); give this job its own --state`);
  };
  differs('kind', stored.job, fresh.job);
  differs('SQL', stored.sqlSha256, fresh.sqlSha256);
  differs('--out', stored.out, fresh.out);
  if (fresh.job === 'backfill') {
    differs('--from', stored.from, fresh.from);
    differs('--to', stored.to, fresh.to);
    differs('--slice', stored.sliceMs, fresh.sliceMs);
  }
  return stored;
}

/** Keeps the most recent `keep` runs (by start), so a state of a job that runs for years stays small. */
export function trimRuns(state: JobState, keep = 500): void {
  const keys = Object.keys(state.runs);
  if (keys.length <= keep) return;
  const sorted = keys.sort((a, b) => state.runs[a]!.start.localeCompare(state.runs[b]!.start));
  for (const key of sorted.slice(0, keys.length - keep)) delete state.runs[key];
}
