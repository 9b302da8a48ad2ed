import { CtlakeError, optionError } from '../errors.js';
import { queryCost, type QueryCost } from '../export/export-summary.js';
import { MAX_CONCURRENCY, MAX_PLANNED_SLICES } from './backfill.js';
import type { DayCount } from './store-census.js';
import { inRange, isoTime, MAX_WINDOW_MS, windowKey, type TimeWindow } from './time-windows.js';

/**
 * The slices of a migration (`ctlake migrate`), cut from a census of the
 * store (store-census.ts) so that each slice's query reads about the same
 * number of events, and the projection of a run over them: how long, how
 * much, and which days Lake's retention deletes before their turn. Pure
 * functions: no I/O, no clock (the caller passes `now`).
 */

/** One slice of a migration: [start, end) in epoch ms, its estimated events, and the UTC days it covers (YYYY-MM-DD). */
export interface PlannedSlice {
  /** windowKey({start, end}): the name its files and its state record carry. */
  key: string;
  start: number;
  end: number;
  events: number;
  days: string[];
}

export interface PlanSlicesOptions {
  /** [from, to), epoch ms; need not be midnights. */
  from: number;
  to: number;
  /** Events a slice aims at: whole days are merged while their sum stays at or below it. @default DEFAULT_TARGET_EVENTS */
  targetEventsPerSlice?: number | undefined;
  /** The longest slice, 1 minute to 366 days. @default DEFAULT_MAX_SLICE_MS */
  maxSliceMs?: number | undefined;
  /** The shortest piece a day is cut into, and splitSlice's floor, 1 minute to maxSliceMs. @default DEFAULT_MIN_SLICE_MS */
  minSliceMs?: number | undefined;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** 2 million events: at 1,000 rows a page and about a page a second, a slice of about 35 minutes of paging, well inside Lake's 7 days of kept results. */
export const DEFAULT_TARGET_EVENTS = 2_000_000;
export const DEFAULT_MAX_SLICE_MS = 31 * DAY_MS;
export const DEFAULT_MIN_SLICE_MS = MINUTE_MS;

const DAY_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const dayOf = (ms: number) => isoTime(ms).slice(0, 10);
const dayStartOf = (day: string) => Date.parse(`${day}T00:00:00Z`);

/**
 * [from, to) as slices, oldest first, that tile it exactly (no gap, no
 * overlap): consecutive whole UTC days, empty ones included, are merged
 * while their events stay ≤ targetEventsPerSlice and their length ≤
 * maxSliceMs; a day of more events than the target (or longer than
 * maxSliceMs) is a slice or more of its own, cut at whole minutes into
 * ceil(events / target) pieces of equal length, each estimated at its
 * share of the day's events, none shorter than minSliceMs (so a day of more
 * events than 1,440 minutes can hold gets pieces above the target). A piece
 * of a day is never merged with another day. The first and last slices are
 * clipped to [from, to), and the first and last days' counts are taken as
 * the counts of their part in the range (as countEventsByDay counts them).
 *
 * `days` is a census: a day it lacks holds no events, a day outside the
 * range is ignored, a day given twice or a count that is not a whole number
 * of 0 or more is a TypeError (OptionError `days`). Bounded: a plan of more
 * than MAX_PLANNED_SLICES slices is refused (INVALID_OPTION) before it is
 * built further, as backfill refuses one.
 */
export function planSlices(days: readonly DayCount[], options: PlanSlicesOptions): PlannedSlice[] {
  const { from, to } = options;
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (!inRange(value)) throw optionError(name, value, 'epoch milliseconds from 1970-01-01 to 9999-12-31');
  }
  if (!(from < to)) throw new CtlakeError('INVALID_OPTION', (n) => `${n('from')} must be before ${n('to')}`, { option: 'from' });
  const target = wholeOption('targetEventsPerSlice', options.targetEventsPerSlice, DEFAULT_TARGET_EVENTS, 1, Number.MAX_SAFE_INTEGER);
  const maxMs = wholeOption('maxSliceMs', options.maxSliceMs, DEFAULT_MAX_SLICE_MS, MINUTE_MS, MAX_WINDOW_MS);
  const minMs = wholeOption('minSliceMs', options.minSliceMs, DEFAULT_MIN_SLICE_MS, MINUTE_MS, maxMs);
  const counts = censusCounts(days);
  // No slice is longer than maxMs: a range of more than MAX_PLANNED_SLICES of them is refused before anything is built.
  if (Math.ceil((to - from) / maxMs) > MAX_PLANNED_SLICES) throw tooManySlices(from, to);

  const slices: PlannedSlice[] = [];
  const push = (slice: Omit<PlannedSlice, 'key'>) => {
    if (slices.length >= MAX_PLANNED_SLICES) throw tooManySlices(from, to);
    slices.push({ key: windowKey(slice), ...slice });
  };
  let open: Omit<PlannedSlice, 'key'> | undefined;
  for (let dayStart = Math.floor(from / DAY_MS) * DAY_MS; dayStart < to; dayStart += DAY_MS) {
    const start = Math.max(dayStart, from);
    const end = Math.min(dayStart + DAY_MS, to);
    const day = dayOf(dayStart);
    const events = counts.get(day) ?? 0;
    const pieces = Math.max(Math.ceil(events / target), Math.ceil((end - start) / maxMs));
    if (pieces > 1) {
      if (open) push(open);
      open = undefined;
      const cut = cutDay({ start, end }, events, pieces, minMs, day);
      if (slices.length + cut.length > MAX_PLANNED_SLICES) throw tooManySlices(from, to);
      for (const piece of cut) push(piece);
    } else if (open && open.events + events <= target && end - open.start <= maxMs) {
      open.end = end;
      open.events += events;
      open.days.push(day);
    } else {
      if (open) push(open);
      open = { start, end, events, days: [day] };
    }
  }
  if (open) push(open);
  return slices;
}

/** A day's part [start, end) in at most `pieces` pieces at whole minutes, each at least minMs long, events shared by length. */
function cutDay(part: TimeWindow, events: number, pieces: number, minMs: number, day: string): Array<Omit<PlannedSlice, 'key'>> {
  const length = part.end - part.start;
  const n = Math.min(pieces, Math.max(1, Math.floor(length / minMs)));
  const bounds = [part.start];
  for (let i = 1; i < n; i++) {
    const at = Math.round((part.start + (i * length) / n) / MINUTE_MS) * MINUTE_MS;
    if (at - bounds[bounds.length - 1]! >= minMs && part.end - at >= minMs) bounds.push(at);
  }
  bounds.push(part.end);
  const share = (at: number) => Math.round((events * (at - part.start)) / length);
  return bounds.slice(1).map((end, i) => ({ start: bounds[i]!, end, events: share(end) - share(bounds[i]!), days: [day] }));
}

/**
 * A slice in two halves, split at the whole minute nearest its middle, each
 * at least minSliceMs long, events shared by length; undefined when it
 * cannot be split so. For a slice whose query ended TIMED_OUT (Lake stops a
 * query after an hour): its halves are run instead.
 */
export function splitSlice(slice: PlannedSlice, minSliceMs: number = DEFAULT_MIN_SLICE_MS): [PlannedSlice, PlannedSlice] | undefined {
  const min = wholeOption('minSliceMs', minSliceMs, DEFAULT_MIN_SLICE_MS, 1, MAX_WINDOW_MS);
  const middle = slice.start + (slice.end - slice.start) / 2;
  const down = Math.floor(middle / MINUTE_MS) * MINUTE_MS;
  const candidates = middle - down <= down + MINUTE_MS - middle ? [down, down + MINUTE_MS] : [down + MINUTE_MS, down];
  const at = candidates.find((c) => c - slice.start >= min && slice.end - c >= min);
  if (at === undefined) return undefined;
  const first = Math.round((slice.events * (at - slice.start)) / (slice.end - slice.start));
  const half = (start: number, end: number, events: number): PlannedSlice => ({
    key: windowKey({ start, end }),
    start,
    end,
    events,
    days: slice.days.filter((day) => dayStartOf(day) < end && dayStartOf(day) + DAY_MS > start),
  });
  return [half(slice.start, at, first), half(at, slice.end, slice.events - first)];
}

/** The census as a Map from day to events, checked (see planSlices). */
function censusCounts(days: readonly DayCount[]): Map<string, number> {
  if (!Array.isArray(days)) throw optionError('days', days, 'a list of { day, events, eventIds }');
  const counts = new Map<string, number>();
  for (const entry of days) {
    const day: unknown = entry?.day;
    const events: unknown = entry?.events;
    if (typeof day !== 'string' || !DAY_TEXT.test(day) || dayOf(dayStartOf(day)) !== day) throw optionError('days', day, 'days as YYYY-MM-DD');
    if (!Number.isSafeInteger(events) || (events as number) < 0) throw optionError(`days (${day}).events`, events, 'a whole number of 0 or more');
    if (counts.has(day)) throw optionError('days', day, 'each day once');
    counts.set(day, events as number);
  }
  return counts;
}

function wholeOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw optionError(name, value, `a whole number from ${min} to ${max}`);
  return n;
}

function tooManySlices(from: number, to: number): CtlakeError {
  return new CtlakeError(
    'INVALID_OPTION',
    (n) =>
      `${n('from')} ${isoTime(from)} to ${n('to')} ${isoTime(to)} makes more than ${MAX_PLANNED_SLICES} slices: ` +
      `check ${n('from')} and ${n('to')}, or raise ${n('targetEventsPerSlice')} or ${n('maxSliceMs')}`,
    { option: 'targetEventsPerSlice' },
  );
}

// ---------------------------------------------------------------------------
// Projection

export interface ProjectPlanOptions {
  /** When the run would start, epoch ms. */
  now: number;
  /** The store's RetentionPeriod in days; undefined: not known, and no day is projected to expire. */
  retentionDays?: number | undefined;
  /** Slices run at once, 1 to 10 (Lake runs at most 10 queries at once per account). @default 4 */
  concurrency?: number | undefined;
  /** Rows a second one slice's chain of pages reads: one 1,000-row page a second, assumed, or a figure measured. @default 1000 */
  pageRowsPerSecond?: number | undefined;
  /** GetQueryResults and DescribeQuery calls a second the account may make, all slices together. @default 10 */
  readTps?: number | undefined;
  /** Time a query spends QUEUED and RUNNING before its first page, assumed. @default 60000 */
  queryRunMs?: number | undefined;
  /** Bytes Lake scans per event, assumed (CloudTrail events are about 1.5 KB), or a figure measured (BytesScanned / events). @default 1500 */
  bytesPerEvent?: number | undefined;
  /** Dollars per GB scanned: Lake bills $0.005. @default 0.005 */
  pricePerGb?: number | undefined;
}

/** One slice's turn in the projection. */
export interface ProjectedSlice {
  key: string;
  events: number;
  /** ISO times: when its query would start, and when its last page would be read. */
  startsAt: string;
  endsAt: string;
}

/** A day whose first events Lake deletes (eventTime older than retentionDays) before its slice would end. */
export interface ExpiringDay {
  day: string;
  /** The day's midnight plus retentionDays, ISO: from then Lake deletes its events. */
  deletedAt: string;
  slice: string;
  startsAt: string;
}

export interface MigrationPlan {
  slices: number;
  events: number;
  /** events × bytesPerEvent: an estimate of the bytes the slices' queries scan, and are billed for. */
  bytesEstimate: number;
  cost: QueryCost;
  /** From `now` to the end of the last slice. */
  durationMs: number;
  /** Each slice's turn, in the order given (oldest first). */
  schedule: ProjectedSlice[];
  /** Oldest first; empty when retentionDays is not known. */
  expiring: ExpiringDay[];
  /** The figures the projection used, and which of them were not given (so assumed). */
  assumptions: Required<Omit<ProjectPlanOptions, 'now' | 'retentionDays'>> & { now: string; retentionDays: number | undefined; assumed: string[] };
}

/** DescribeQuery calls a second one waiting slice makes, about: its polls back off to one each 5 s. */
const POLL_TPS = 0.2;

/**
 * How a run over `slices` (oldest first) would go: `concurrency` slices at
 * a time, each taking the next slice as it finishes one (as backfill's
 * workers do), each slice queryRunMs waiting for its query and then its
 * events at its rate of rows a second. That rate is pageRowsPerSecond,
 * unless the slices together would page faster than the account's readTps
 * allows (1,000 rows a call, less POLL_TPS per running slice for
 * DescribeQuery); then readTps is shared among them.
 *
 * A day expires when its slice's projected end is after the day's midnight
 * plus retentionDays (days of a slice of no events are not listed: they
 * lose nothing) (Lake deletes events by eventTime, daily): going
 * oldest first saves the most days, but a long run can still lose its old
 * days while its newest are fine, and the list says which. A figure
 * measured in a run (pageRowsPerSecond, bytesPerEvent) makes a better
 * projection than the defaults; the plan records which were assumed.
 */
export function projectPlan(slices: readonly PlannedSlice[], options: ProjectPlanOptions): MigrationPlan {
  if (!Number.isFinite(options.now)) throw optionError('now', options.now, 'epoch milliseconds');
  const assumed: string[] = [];
  const figure = (name: keyof ProjectPlanOptions, fallback: number, check: (n: number) => boolean, expected: string): number => {
    const value = options[name];
    if (value === undefined) assumed.push(name);
    const n = value ?? fallback;
    if (typeof n !== 'number' || !check(n)) throw optionError(name, value, expected);
    return n;
  };
  const positive = (n: number) => Number.isFinite(n) && n > 0;
  const concurrency = figure('concurrency', 4, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_CONCURRENCY, `a whole number from 1 to ${MAX_CONCURRENCY}`);
  const pageRowsPerSecond = figure('pageRowsPerSecond', 1000, positive, 'a number of rows above 0');
  const readTps = figure('readTps', 10, positive, 'a number of calls above 0');
  const queryRunMs = figure('queryRunMs', 60_000, (n) => Number.isFinite(n) && n >= 0, 'milliseconds, 0 or more');
  const bytesPerEvent = figure('bytesPerEvent', 1500, (n) => Number.isFinite(n) && n >= 0, 'a number of bytes, 0 or more');
  const pricePerGb = figure('pricePerGb', 0.005, (n) => Number.isFinite(n) && n >= 0, 'dollars, 0 or more');
  const retentionDays = options.retentionDays;
  if (retentionDays !== undefined && !(Number.isSafeInteger(retentionDays) && retentionDays > 0)) throw optionError('retentionDays', retentionDays, 'a whole number of days above 0');

  const chains = Math.max(1, Math.min(concurrency, slices.length));
  // The account's reads, less the running slices' polls, never below a tenth of them.
  const accountRows = Math.max(readTps - chains * POLL_TPS, readTps / 10) * 1000;
  const rate = Math.min(pageRowsPerSecond, accountRows / chains);

  const free = Array.from({ length: chains }, () => options.now);
  const schedule: ProjectedSlice[] = [];
  const expiring: ExpiringDay[] = [];
  // A day cut into pieces is listed once, with its first piece that ends too late.
  const listed = new Set<string>();
  let events = 0;
  let last = options.now;
  for (const slice of slices) {
    let w = 0;
    for (let i = 1; i < free.length; i++) if (free[i]! < free[w]!) w = i;
    const start = free[w]!;
    const end = start + queryRunMs + Math.ceil((slice.events / rate) * 1000);
    free[w] = end;
    last = Math.max(last, end);
    events += slice.events;
    const startsAt = isoTime(start);
    schedule.push({ key: slice.key, events: slice.events, startsAt, endsAt: isoTime(end) });
    // A slice of no events loses nothing to retention.
    if (retentionDays === undefined || slice.events === 0) continue;
    for (const day of slice.days) {
      const deletedAt = dayStartOf(day) + retentionDays * DAY_MS;
      if (end <= deletedAt || listed.has(day)) continue;
      listed.add(day);
      expiring.push({ day, deletedAt: isoTime(deletedAt), slice: slice.key, startsAt });
    }
  }
  const bytesEstimate = Math.round(events * bytesPerEvent);
  return {
    slices: slices.length,
    events,
    bytesEstimate,
    cost: queryCost(bytesEstimate, pricePerGb)!,
    durationMs: last - options.now,
    schedule,
    expiring,
    assumptions: { now: isoTime(options.now), retentionDays, concurrency, pageRowsPerSecond, readTps, queryRunMs, bytesPerEvent, pricePerGb, assumed },
  };
}
