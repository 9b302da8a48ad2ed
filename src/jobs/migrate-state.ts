import { CtlakeError, quoted, type OptionNamer } from '../errors.js';
import { checkCheckpoint, type ExportCheckpoint } from '../export/export-checkpoint.js';
import { stateFields } from './job-state.js';
import { windowKey } from './time-windows.js';

/**
 * One slice of a migration as its state records it. A slice that ended
 * TIMED_OUT is `split`: its two halves are slices of their own (`children`),
 * and the slices that are not split tile the migration's range exactly.
 */
export interface MigrateSlice {
  key: string;
  /** [start, end), ISO-8601 UTC. */
  start: string;
  end: string;
  /** The events the plan counted for it (Lake's count per day, shared out by time within a day). */
  events: number;
  /** todo: not exported yet; done: committed; failed: the last try failed (the next run tries again); split: timed out, see children; mismatch: reconciliation found other counts, it is exported again. */
  status: 'todo' | 'done' | 'failed' | 'split' | 'mismatch';
  /** The query of the last try, and when it was started: a rerun within Lake's 7 days reads it again instead of starting another. */
  queryId?: string | undefined;
  queryStartedAt?: string | undefined;
  /** Where the last try's pages stood at its last committed part file. */
  checkpoint?: ExportCheckpoint | undefined;
  rows?: number | undefined;
  bytesScanned?: number | undefined;
  /** The one-line error of the last failed try. */
  error?: string | undefined;
  children?: [string, string] | undefined;
  finishedAt?: string | undefined;
}

/** What the last reconciliation found. */
export interface ReconcileRecord {
  at: string;
  ok: boolean;
  /** Days compared, and those left out because retention has deleted them since. */
  days: number;
  expiredDays: number;
  /** Days whose counts differ, each with its slices (at most 1,000 kept). */
  mismatches: Array<{ days: string[]; slices: string[]; lakeEvents: number; rows: number }>;
}

/**
 * A migration's state: the store, the SQL and the output it belongs to, its
 * range, the plan's slices and how each went, and the last reconciliation.
 * One JSON object, written whole as slices start, checkpoint and end.
 */
export interface MigrateState {
  stateVersion: 1;
  job: 'migrate';
  eventDataStore: string;
  sqlSha256: string;
  out: string;
  from: string;
  to: string;
  plannedAt: string;
  /** By key, in a null-prototype object. */
  slices: Record<string, MigrateSlice>;
  reconciliation?: ReconcileRecord | undefined;
  updatedAt: string;
}

/** Slices a state holds at most (splits included). */
export const MAX_STATE_SLICES = 200_000;

const STATE_KEYS = new Set(['stateVersion', 'job', 'eventDataStore', 'sqlSha256', 'out', 'from', 'to', 'plannedAt', 'slices', 'reconciliation', 'updatedAt']);
const SLICE_KEYS = new Set(['key', 'start', 'end', 'events', 'status', 'queryId', 'queryStartedAt', 'checkpoint', 'rows', 'bytesScanned', 'error', 'children', 'finishedAt']);
const STATUSES = new Set(['todo', 'done', 'failed', 'split', 'mismatch']);

const stateFix = (n: OptionNamer) => `restore it from a backup, or delete it to plan the migration again (the slices done are in ${n('out')}'s manifest, and are exported again)`;

/**
 * A stored migration state, checked field by field before any of it is
 * used (it is input: edited, damaged, or another job's): the known fields
 * only, instants ISO-8601 UTC, counts whole, each slice keyed by its own
 * [start, end), each split's children present and halving it, the slices
 * that are not split tiling [from, to) with no gap and no overlap, and each
 * checkpoint checked as resumeFrom would check it. Returns a copy built from
 * the checked fields, slices in a null-prototype object. Throws
 * STATE_INVALID naming the file, the field and the fix.
 */
export function validateMigrateState(value: unknown, location: string): MigrateState {
  const bad = (what: string): never => {
    throw new CtlakeError('STATE_INVALID', (n) => `${n('state')} ${location} is not a valid ctlake migration state: ${what}; ${stateFix(n)}`, { option: 'state' });
  };
  const { isObject, text, instant, count } = stateFields(bad);
  if (!isObject(value)) return bad(`it holds ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not an object`);
  if (value.job !== 'migrate') bad(`its job is ${quoted(value.job)}, not "migrate"`);
  for (const key of Object.keys(value)) if (!STATE_KEYS.has(key)) bad(`it has an unknown field ${quoted(key)}`);
  if (value.stateVersion !== 1) bad(`its stateVersion is ${quoted(value.stateVersion)}, not 1`);
  const state: MigrateState = {
    stateVersion: 1,
    job: 'migrate',
    eventDataStore: text('eventDataStore', value.eventDataStore),
    sqlSha256: text('sqlSha256', value.sqlSha256),
    out: text('out', value.out),
    from: instant('from', value.from),
    to: instant('to', value.to),
    plannedAt: instant('plannedAt', value.plannedAt),
    slices: Object.create(null) as Record<string, MigrateSlice>,
    updatedAt: text('updatedAt', value.updatedAt),
  };
  if (!isObject(value.slices)) return bad(`its slices is ${quoted(value.slices)}, not an object of slices by key`);
  const entries = Object.entries(value.slices);
  if (entries.length > MAX_STATE_SLICES) bad(`it has ${entries.length} slices, more than ${MAX_STATE_SLICES}`);
  for (const [key, slice] of entries) {
    const field = `slices[${quoted(key)}]`;
    if (!isObject(slice)) return bad(`its ${field} is ${quoted(slice)}, not an object`);
    for (const k of Object.keys(slice)) if (!SLICE_KEYS.has(k)) bad(`its ${field} has an unknown field ${quoted(k)}`);
    const start = instant(`${field}.start`, slice.start);
    const end = instant(`${field}.end`, slice.end);
    if (!(Date.parse(start) < Date.parse(end)) || windowKey({ start: Date.parse(start), end: Date.parse(end) }) !== key || slice.key !== key) bad(`its ${field} is not keyed by its own start and end`);
    if (!STATUSES.has(slice.status as string)) bad(`its ${field}.status is ${quoted(slice.status)}, not one of ${[...STATUSES].join(', ')}`);
    const record: MigrateSlice = { key, start, end, events: count(`${field}.events`, slice.events), status: slice.status as MigrateSlice['status'] };
    if (slice.queryId !== undefined) record.queryId = text(`${field}.queryId`, slice.queryId);
    if (slice.queryStartedAt !== undefined) record.queryStartedAt = instant(`${field}.queryStartedAt`, slice.queryStartedAt);
    if (slice.rows !== undefined) record.rows = count(`${field}.rows`, slice.rows);
    if (slice.bytesScanned !== undefined) record.bytesScanned = count(`${field}.bytesScanned`, slice.bytesScanned);
    if (slice.error !== undefined) record.error = text(`${field}.error`, slice.error);
    if (slice.finishedAt !== undefined) record.finishedAt = instant(`${field}.finishedAt`, slice.finishedAt);
    if (slice.children !== undefined) {
      const children: unknown = slice.children;
      if (!Array.isArray(children) || children.length !== 2 || children.some((c) => typeof c !== 'string')) return bad(`its ${field}.children is not two slice keys`);
      record.children = [children[0] as string, children[1] as string];
    }
    if ((record.status === 'split') !== (record.children !== undefined)) bad(`its ${field} is ${record.status} ${record.children ? 'with' : 'without'} children`);
    if (slice.checkpoint !== undefined) {
      try {
        const cp = slice.checkpoint as { pageSize?: unknown };
        record.checkpoint = checkCheckpoint(slice.checkpoint, { queryId: record.queryId, pageSize: cp?.pageSize as number, key });
      } catch (error) {
        bad(`its ${field}.checkpoint: ${(error as Error).message}`);
      }
    }
    state.slices[key] = record;
  }
  for (const slice of Object.values(state.slices)) {
    if (!slice.children) continue;
    const [a, b] = slice.children.map((k) => state.slices[k]);
    if (!a || !b || a.start !== slice.start || a.end !== b.start || b.end !== slice.end) bad(`its slices[${quoted(slice.key)}] is split into slices that do not halve it`);
  }
  // The slices not split cover [from, to) exactly: nothing is left out, nothing is exported twice.
  let at = state.from;
  for (const slice of leafSlices(state)) {
    if (slice.start !== at) bad(`its slices leave a gap or overlap at ${at}`);
    at = slice.end;
  }
  if (at !== state.to) bad(`its slices end at ${at}, not at its to ${state.to}`);
  if (value.reconciliation !== undefined) state.reconciliation = checkReconciliation(value.reconciliation, bad);
  return state;
}

function checkReconciliation(value: unknown, bad: (what: string) => never): ReconcileRecord {
  const r = value as Record<string, unknown>;
  const ok = typeof r === 'object' && r !== null && typeof r.at === 'string' && typeof r.ok === 'boolean' && Number.isSafeInteger(r.days) && Number.isSafeInteger(r.expiredDays) && Array.isArray(r.mismatches);
  if (!ok) bad('its reconciliation is not a reconciliation record');
  const mismatches = (r.mismatches as unknown[]).slice(0, 1000).map((m) => {
    const x = m as Record<string, unknown>;
    const strings = (v: unknown) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]).slice(0, 1000) : bad('its reconciliation lists a mismatch without days and slices'));
    return { days: strings(x?.days), slices: strings(x?.slices), lakeEvents: Number(x?.lakeEvents) || 0, rows: Number(x?.rows) || 0 };
  });
  return { at: r.at as string, ok: r.ok as boolean, days: r.days as number, expiredDays: r.expiredDays as number, mismatches };
}

/** The slices that are not split, oldest first: together they tile the range. */
export function leafSlices(state: MigrateState): MigrateSlice[] {
  return Object.values(state.slices)
    .filter((s) => s.status !== 'split')
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}
