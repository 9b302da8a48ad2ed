import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, optionError, quoted } from '../errors.js';
import type { QueryResultRow } from '../lake-model.js';
import { queryPages } from '../source/query-pages.js';
import type { RetryEvent, RetryOptions } from '../source/retry.js';
import { cancelStartedQuery, startQuery } from '../source/start-query.js';
import { inRange, isoTime, lakeTime, MAX_WINDOW_MS, type TimeWindow } from './time-windows.js';

/**
 * How many events an event data store holds per UTC day, counted by Lake
 * itself: the figures a migration plan (migrate-plan.ts) cuts its slices
 * by. One GROUP BY query per chunk of at most 366 days, one chunk at a
 * time, so a census holds one of the account's 10 query slots at most.
 */

/** One UTC day of a census: `events` is COUNT(*), `eventIds` COUNT(DISTINCT eventID); a difference means events stored twice. */
export interface DayCount {
  day: string;
  events: number;
  eventIds: number;
}

export interface CensusOptions {
  /** The event data store's id or ARN; the SQL names its id after FROM. */
  eventDataStore: string;
  /** [from, to), epoch ms. */
  from: number;
  to: number;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** MaxQueryResults of each GetQueryResults, 1 to 1000. @default 1000 */
  pageSize?: number | undefined;
  /** Told of each query as it is started, for progress and logs. */
  onQuery?: ((event: { queryId: string; chunk: TimeWindow; sql: string }) => void) | undefined;
  /** Passed to queryPages (DescribeQuery polling). */
  pollMinMs?: number | undefined;
  pollMaxMs?: number | undefined;
}

export interface Census {
  /**
   * Every UTC day that [from, to) touches, oldest first, each once: a day
   * Lake listed no row for holds no events and is given as 0. The first
   * and last days count only the events inside [from, to).
   */
  days: DayCount[];
  /** Queries run. */
  queries: number;
  /** BytesScanned of those queries together: what the census was billed for. */
  bytesScanned: number;
}

const DAY_MS = 86_400_000;
/** The longest chunk one query counts: 366 days, the longest window ctlake runs. */
export const CENSUS_CHUNK_MS = MAX_WINDOW_MS;
/**
 * The longest range a census takes: 100 chunks, about 100 years. Lake keeps
 * events at most 3653 days; a longer range is a typo, and its zero-filled
 * days (one object each) would grow without use.
 */
export const MAX_CENSUS_DAYS = 36_600;
/**
 * Rows one chunk's query may return: its days (367 when it starts mid-day)
 * and a margin. Rows of distinct days inside the chunk never reach it; it
 * bounds the reading of a chain whatever its rows are checked for.
 */
const CHUNK_ROW_LIMIT = 370;

/** `<id>` of an id or an ARN `arn:...:eventdatastore/<id>`, as the SQL's FROM names it. */
const STORE_ID = /^(?:arn:[a-z0-9-]+:cloudtrail:[a-z0-9-]*:\d*:eventdatastore\/)?([A-Za-z0-9][A-Za-z0-9_-]{2,127})$/;

/** The SQL of one chunk, exactly as Lake runs it. */
export function censusSql(storeId: string, chunk: TimeWindow): string {
  return (
    `SELECT date_trunc('day', eventTime) AS day, COUNT(*) AS events, COUNT(DISTINCT eventID) AS eventids FROM ${storeId} ` +
    `WHERE eventTime >= '${lakeTime(chunk.start)}' AND eventTime < '${lakeTime(chunk.end)}' GROUP BY 1 ORDER BY 1`
  );
}

/**
 * [from, to) in chunks of at most CENSUS_CHUNK_MS, each after the first
 * starting at a UTC midnight, so that no day is split between two chunks
 * (and so counted by two queries).
 */
export function censusChunks(from: number, to: number): TimeWindow[] {
  const chunks: TimeWindow[] = [];
  for (let start = from; start < to; ) {
    const end = Math.min(to, Math.floor(start / DAY_MS) * DAY_MS + CENSUS_CHUNK_MS);
    chunks.push({ start, end });
    start = end;
  }
  return chunks;
}

/**
 * Counts the events of [from, to) per UTC day (see Census). Each chunk's
 * query is started with startQuery (which waits out
 * MaxConcurrentQueriesException) and read with queryPages (which waits for
 * FINISHED; FAILED and TIMED_OUT are errors). Every row is checked before
 * it is believed: `day` a UTC midnight (`YYYY-MM-DD 00:00:00.000` or
 * `YYYY-MM-DD`) of a day the chunk touches, listed once; `events` and
 * `eventids` whole numbers; no other column. A row that is not so fails
 * with UNEXPECTED_RESPONSE naming the row and the field, its value quoted
 * and cut. An abort, or any failure after a query started, cancels that
 * query (cancelStartedQuery), so that it does not go on scanning and being
 * billed. Memory: one DayCount a day of the range, bounded by MAX_CENSUS_DAYS.
 */
export async function countEventsByDay(client: CloudTrailClient, options: CensusOptions): Promise<Census> {
  const { from, to } = options;
  const match = typeof options.eventDataStore === 'string' ? STORE_ID.exec(options.eventDataStore) : null;
  if (!match) throw optionError('eventDataStore', options.eventDataStore, 'an event data store id or ARN');
  const storeId = match[1]!;
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (!inRange(value)) throw optionError(name, value, 'epoch milliseconds from 1970-01-01 to 9999-12-31');
  }
  if (!(from < to)) throw new CtlakeError('INVALID_OPTION', (n) => `${n('from')} must be before ${n('to')}`, { option: 'from' });
  const firstDay = Math.floor(from / DAY_MS);
  const dayCount = Math.ceil(to / DAY_MS) - firstDay;
  if (dayCount > MAX_CENSUS_DAYS) {
    throw new CtlakeError('INVALID_OPTION', (n) => `${n('from')} ${isoTime(from)} to ${n('to')} ${isoTime(to)} is ${dayCount} days, more than the ${MAX_CENSUS_DAYS} a census counts; check ${n('from')} and ${n('to')}`, {
      option: 'from',
    });
  }
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw optionError('pageSize', options.pageSize, 'a whole number from 1 to 1000');

  const counted = new Map<string, DayCount>();
  let queries = 0;
  let bytesScanned = 0;
  for (const chunk of censusChunks(from, to)) {
    const sql = censusSql(storeId, chunk);
    const queryId = await startQuery(client, { sql, signal: options.signal, retry: options.retry, onRetry: options.onRetry, eventDataStore: storeId });
    queries++;
    options.onQuery?.({ queryId, chunk, sql });
    try {
      let rows = 0;
      let described: number | undefined;
      let paged = 0;
      const pages = queryPages(client, {
        queryId,
        eventDataStore: storeId,
        pageSize,
        signal: options.signal,
        retry: options.retry,
        onRetry: options.onRetry,
        pollMinMs: options.pollMinMs,
        pollMaxMs: options.pollMaxMs,
        onDescribe: (d) => (described = d.QueryStatistics?.BytesScanned),
      });
      for await (const page of pages) {
        paged = Math.max(paged, page.bytesScanned ?? 0);
        for (const row of page.rows) {
          if (++rows > CHUNK_ROW_LIMIT) throw unexpectedRow(queryId, rows - 1, `is more than the ${CHUNK_ROW_LIMIT} rows a census of at most 367 days returns`);
          const count = parseCensusRow(row, chunk, queryId, rows - 1);
          if (counted.has(count.day)) throw unexpectedRow(queryId, rows - 1, `lists day ${count.day} a second time`);
          counted.set(count.day, count);
        }
      }
      bytesScanned += Number.isSafeInteger(described) && described! >= 0 ? described! : paged;
    } catch (error) {
      await cancelStartedQuery(client, queryId, options.retry);
      throw error;
    }
  }
  const days: DayCount[] = [];
  for (let d = firstDay; d < firstDay + dayCount; d++) {
    const day = isoTime(d * DAY_MS).slice(0, 10);
    days.push(counted.get(day) ?? { day, events: 0, eventIds: 0 });
  }
  return { days, queries, bytesScanned };
}

const DAY_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?: 00:00:00(?:\.0{1,9})?)?$/;
const FIELDS = new Map([
  ['day', 'day'],
  ['events', 'events'],
  ['eventids', 'eventIds'],
]);

/**
 * One census row, checked (see countEventsByDay). Lake writes a row as
 * single-key maps; the keys are compared lower-cased, as Lake lower-cases
 * unquoted aliases.
 */
export function parseCensusRow(row: QueryResultRow, chunk: TimeWindow, queryId: string, index: number): DayCount {
  const values = new Map<string, string>();
  for (const cell of row) {
    for (const [key, value] of Object.entries(cell)) {
      const field = FIELDS.get(key.toLowerCase());
      if (field === undefined) throw unexpectedRow(queryId, index, `has a column ${quoted(key)} the census SQL does not select`);
      if (values.has(field)) throw unexpectedRow(queryId, index, `has the column ${quoted(key)} twice`);
      values.set(field, value);
    }
  }
  const text = values.get('day');
  const parts = text === undefined ? null : DAY_TEXT.exec(text);
  const ms = parts ? Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3])) : NaN;
  const day = parts ? `${parts[1]}-${parts[2]}-${parts[3]}` : '';
  // A real date (2024-02-30 is not: Date.UTC rolls it over) of a day the chunk touches.
  if (!parts || isoTime(ms).slice(0, 10) !== day || ms + DAY_MS <= chunk.start || ms >= chunk.end) {
    throw unexpectedRow(queryId, index, `has day ${quoted(text ?? null)}, not a UTC day from ${isoTime(chunk.start)} to ${isoTime(chunk.end)}`);
  }
  const count = (field: 'events' | 'eventIds', column: string): number => {
    const value = values.get(field);
    const n = value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n)) throw unexpectedRow(queryId, index, `has ${column} ${quoted(value ?? null)}, not a whole number of 0 or more`);
    return n;
  };
  const events = count('events', 'events');
  const eventIds = count('eventIds', 'eventids');
  if (eventIds > events) throw unexpectedRow(queryId, index, `has eventids ${eventIds} above its events ${events}`);
  return { day, events, eventIds };
}

function unexpectedRow(queryId: string, index: number, what: string): CtlakeError {
  return new CtlakeError('UNEXPECTED_RESPONSE', `census query: row ${index} ${what}; the service did not answer the census SQL as Lake does`, { queryId });
}
