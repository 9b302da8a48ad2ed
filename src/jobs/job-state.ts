import { createHash } from 'node:crypto';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { CtlakeError, isCtlakeError, quoted, type OptionNamer } from '../errors.js';
import { removeLeftovers } from '../destinations/file.js';
import { localStore, type ObjectStore } from '../destinations/store.js';
import { parseS3Url } from '../destinations/target.js';
import { inRange, windowKey } from './time-windows.js';

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
export interface StateFile<S = JobState> {
  store: ObjectStore;
  name: string;
  lockName: string;
  location: string;
  read(): Promise<S | undefined>;
  /**
   * Written whole (a rename, or one PutObject), so a reader sees the old
   * state or the new one; and conditionally (S3 If-Match on the ETag read),
   * so that a run which lost its lock cannot overwrite its successor's.
   */
  write(state: S): Promise<void>;
}

/** `./state.json` or `s3://bucket/state/logins.json`. S3 needs `s3`, a client. */
export async function openStateFile<S = JobState>(
  location: string,
  s3: (() => Promise<S3Client>) | undefined,
  validate: (value: unknown, location: string) => S = validateState as unknown as (value: unknown, location: string) => S,
): Promise<StateFile<S>> {
  let store: ObjectStore;
  let name: string;
  if (location.startsWith('s3://')) {
    const url = parseS3Url(location);
    if (!url || !url.key || url.key.endsWith('/')) throw new CtlakeError('INVALID_OPTION', (n) => `${n('state')} must be a file or s3://bucket/key, not '${location}'`, { option: 'state' });
    const slash = url.key.lastIndexOf('/') + 1;
    const { s3Store } = await import('../destinations/s3.js');
    store = s3Store(await s3!(), url.bucket, url.key.slice(0, slash), { partSizeBytes: 8 * 1024 * 1024, queueSize: 1 });
    name = url.key.slice(slash);
  } else {
    if (location.endsWith('/')) throw new CtlakeError('INVALID_OPTION', (n) => `${n('state')} must be a file, not the folder '${location}'`, { option: 'state' });
    store = stateStore(localStore(path.dirname(path.resolve(location))), location);
    name = path.basename(location);
    // A run killed while it wrote the state (or its lock) left a temporary file beside it.
    await removeLeftovers(path.resolve(location));
  }
  /** The tag of the state as this run last read or wrote it. */
  let tag: string | undefined;
  let read = false;
  const readState = async (): Promise<S | undefined> => {
    const tagged = await store.getTagged(name);
    tag = tagged?.tag;
    read = true;
    if (tagged === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(tagged.data.toString('utf8'));
    } catch {
      throw new CtlakeError('STATE_INVALID', (n) => `${n('state')} ${location} is not JSON; ${stateFix(n)}`, { option: 'state' });
    }
    return validate(parsed, location);
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
        throw new CtlakeError(
          'LOCK_HELD',
          (n) => `${n('state')} ${location} was changed by another run while this one held the lock; this run stops, and the next one continues from the state as it is`,
          { option: 'state' },
        );
      }
      tag = written;
    },
  };
}

/** Local file errors that a rerun cannot fix: the state's path is wrong (a folder, no such folder, not ours to write). */
const PATH_ERRORS = new Set(['EISDIR', 'ENOTDIR', 'ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENAMETOOLONG', 'ELOOP']);

/**
 * A local state folder whose failures are said as the `state` option's (the
 * store's own messages name `out`, for exports). A wrong path (a folder where the state
 * or its lock should be, no such folder, no permission) is STATE_INVALID,
 * exit 2; a failure a rerun may not meet (ENOSPC, EIO) stays
 * DESTINATION_FAILED, exit 1.
 */
function stateStore(store: ObjectStore, location: string): ObjectStore {
  const said = (name: string) => (error: unknown): never => {
    const cause = isCtlakeError(error, 'DESTINATION_FAILED') ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
    if (typeof cause?.code !== 'string') throw error;
    const wrongPath = PATH_ERRORS.has(cause.code);
    throw new CtlakeError(
      wrongPath ? 'STATE_INVALID' : 'DESTINATION_FAILED',
      (n) =>
        `${n('state')} ${location} cannot be used: ${cause.code} at ${quoted(cause.path ?? store.root + name)}; ` +
        (wrongPath ? `give ${n('state')} a file (not a folder) in a folder this user can write` : 'the next run tries again'),
      { option: 'state', cause: error },
    );
  };
  return {
    ...store,
    getTagged: (name) => store.getTagged(name).catch(said(name)),
    putIf: (name, data, condition) => store.putIf(name, data, condition).catch(said(name)),
    remove: (name) => store.remove(name).catch(said(name)),
  };
}

/** The fix every refused state names. */
const stateFix = (n: OptionNamer) => `restore it from a backup, or delete it to start over from ${n('since')} (or ${n('from')})`;

const STATE_KEYS = new Set(['stateVersion', 'job', 'sqlSha256', 'out', 'exportedUntil', 'from', 'to', 'sliceMs', 'runs', 'updatedAt']);
const RUN_KEYS = new Set(['key', 'start', 'end', 'status', 'queryId', 'rows', 'bytesScanned', 'error', 'finishedAt']);
/** `2024-05-01T00:00:00Z`, with milliseconds or not: what isoTime() and toISOString() write. */
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z$/;

/**
 * A stored state, checked field by field before any of it is used: a
 * plain object of the known fields only (an unknown one is a hand edit or
 * a typo such as `exportedUntill`, which would silently restart the job),
 * every instant ISO-8601 UTC within EARLIEST_INSTANT..LATEST_INSTANT (so
 * `exportedUntil: 12345` is refused, not read as the year 12345), numbers
 * whole and not negative, and each run keyed by its own window. Returns a
 * copy built from the checked fields, its runs in a null-prototype object,
 * so that no key from the file (`__proto__`) reaches a prototype. Throws
 * STATE_INVALID naming the file, the field and the fix.
 */
export function validateState(value: unknown, location: string): JobState {
  const bad = (what: string): never => {
    throw new CtlakeError('STATE_INVALID', (n) => `${n('state')} ${location} is not a valid ctlake job state: ${what}; ${stateFix(n)}`, { option: 'state' });
  };
  const { isObject, text, instant, count } = stateFields(bad);
  if (!isObject(value)) return bad(`it holds ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not an object`);
  for (const key of Object.keys(value)) if (!STATE_KEYS.has(key)) bad(`it has an unknown field ${quoted(key)}`);
  if (value.stateVersion !== 1) bad(`its stateVersion is ${quoted(value.stateVersion)}, not 1`);
  if (value.job !== 'windows' && value.job !== 'backfill') bad(`its job is ${quoted(value.job)}, not "windows" or "backfill"`);
  const state: JobState = {
    stateVersion: 1,
    job: value.job as JobState['job'],
    sqlSha256: text('sqlSha256', value.sqlSha256),
    out: text('out', value.out),
    runs: Object.create(null) as Record<string, RunRecord>,
    updatedAt: text('updatedAt', value.updatedAt),
  };
  if (value.exportedUntil !== undefined) state.exportedUntil = instant('exportedUntil', value.exportedUntil);
  if (value.from !== undefined) state.from = instant('from', value.from);
  if (value.to !== undefined) state.to = instant('to', value.to);
  if (value.sliceMs !== undefined) state.sliceMs = count('sliceMs', value.sliceMs);
  if (!isObject(value.runs)) return bad(`its runs is ${quoted(value.runs)}, not an object of windows or slices by key`);
  for (const [key, run] of Object.entries(value.runs)) {
    const field = `runs[${quoted(key)}]`;
    if (!isObject(run)) return bad(`its ${field} is ${quoted(run)}, not an object`);
    for (const k of Object.keys(run)) if (!RUN_KEYS.has(k)) bad(`its ${field} has an unknown field ${quoted(k)}`);
    const start = instant(`${field}.start`, run.start);
    const end = instant(`${field}.end`, run.end);
    if (!(Date.parse(start) < Date.parse(end)) || windowKey({ start: Date.parse(start), end: Date.parse(end) }) !== key || run.key !== key) {
      bad(`its ${field} is not keyed by its own start and end`);
    }
    if (run.status !== 'done' && run.status !== 'failed') bad(`its ${field}.status is ${quoted(run.status)}, not "done" or "failed"`);
    const record: RunRecord = { key, start, end, status: run.status as RunRecord['status'], finishedAt: text(`${field}.finishedAt`, run.finishedAt) };
    if (run.queryId !== undefined) record.queryId = text(`${field}.queryId`, run.queryId);
    if (run.rows !== undefined) record.rows = count(`${field}.rows`, run.rows);
    if (run.bytesScanned !== undefined) record.bytesScanned = count(`${field}.bytesScanned`, run.bytesScanned);
    if (run.error !== undefined) record.error = text(`${field}.error`, run.error);
    state.runs[key] = record;
  }
  return state;
}

/**
 * The checks of a state's fields, each failing through `bad` with the field
 * named and the value quoted: an object; a string (of at most 4,096
 * characters: a state is input, and a field goes into messages); an
 * ISO-8601 UTC instant from 1970 to 9999; a whole number, not negative.
 */
export function stateFields(bad: (what: string) => never) {
  return {
    isObject: (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v),
    text: (field: string, v: unknown): string => (typeof v === 'string' && v.length <= 4096 ? v : bad(`its ${field} is ${quoted(v)}, not a string`)),
    instant: (field: string, v: unknown): string => {
      const ms = typeof v === 'string' && ISO_INSTANT.test(v) ? Date.parse(v) : NaN;
      return inRange(ms) ? (v as string) : bad(`its ${field} is ${quoted(v)}, not a UTC time such as 2026-01-01T00:00:00Z from 1970 to 9999`);
    },
    count: (field: string, v: unknown): number => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : bad(`its ${field} is ${quoted(v)}, not a whole number`)),
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
  // `what` is said in words (kind, SQL) or is an option (out, from, to, sliceMs), named through `n`.
  const differs = (what: string | ((n: OptionNamer) => string), a: unknown, b: unknown) => {
    if (a === b) return;
    const said = (n: OptionNamer) => (typeof what === 'string' ? what : what(n));
    throw new CtlakeError('STATE_INVALID', (n) => `${n('state')} ${location} belongs to another job (its ${said(n)} differs); give this job its own ${n('state')}`, { option: 'state' });
  };
  differs('kind', stored.job, fresh.job);
  differs('SQL', stored.sqlSha256, fresh.sqlSha256);
  differs((n) => n('out'), stored.out, fresh.out);
  if (fresh.job === 'backfill') {
    differs((n) => n('from'), stored.from, fresh.from);
    differs((n) => n('to'), stored.to, fresh.to);
    differs((n) => n('sliceMs'), stored.sliceMs, fresh.sliceMs);
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
