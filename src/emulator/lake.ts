import type { QueryResultRow } from '../lake-model.js';
import { QUERY_STATUSES, type QueryStatus } from '../source/query-status.js';
import { Deliveries } from './delivery.js';
import { describeEventDataStore, retentionCutoff, type EventDataStoreInfo } from './event-data-store.js';
import type { FaultPlan } from './faults.js';
import { QueryStore, type StoredQuery, type TokenKey } from './query-store.js';
import { ServiceError } from './service-error.js';

/** What the emulator needs of a SQL engine (src/emulator/sql-engine.ts provides it). */
export interface SqlRunner {
  /** DuckDB's parse error for a statement that does not parse, else undefined. */
  check(sql: string): Promise<string | undefined>;
  /** `aggregate`: the query aggregates, so Lake reads a sliver of each event it scans (see `timeoutEvents`). */
  run(
    sql: string,
    options?: { table?: boolean },
  ): Promise<{ rows: QueryResultRow[]; eventsScanned: number; bytesScanned: number; aggregate: boolean; columns?: string[]; table?: Array<Array<string | null>> | undefined }>;
  /** Deletes the events older than `cutoff` (the store's retention); resolves to how many went. */
  expireBefore(cutoff: Date): Promise<number>;
  close(): void | Promise<void>;
}

/** Timings and limits of started queries. */
export interface LifecycleOptions {
  /** How long a started query stays QUEUED. @default 0 */
  queuedMs?: number | undefined;
  /** The least time a started query stays RUNNING, however fast its SQL. @default 0 */
  runningMs?: number | undefined;
  /** Run-time limit: a query still RUNNING after it ends TIMED_OUT. @default 3600000 (Lake's hour) */
  maxRunMs?: number | undefined;
  /** How long queries and their results are kept. @default 7 days, as on the service */
  retentionMs?: number | undefined;
  /** Queries QUEUED or RUNNING at once before StartQuery answers MaxConcurrentQueriesException. @default 10 */
  maxConcurrentQueries?: number | undefined;
  /**
   * The emulator's stand-in for Lake's hour: a query whose scan charges more
   * than this many events ends TIMED_OUT, with the ErrorMessage of a query
   * that ran out of time, and keeps the first floor(rows × N / charged) rows
   * of its result as the partial results Lake serves for a timed-out query.
   * A query charges the events in its eventTime range (its EventsScanned);
   * one that aggregates (GROUP BY, or only aggregate calls in its select
   * list) charges 1/100 of them, as Lake reads a sliver of each event for it.
   * @default unlimited
   */
  timeoutEvents?: number | undefined;
  /** The key that binds page tokens to what they page (see QueryStore). @default a random key per emulator */
  tokenKey?: TokenKey | undefined;
}

/** The share of each scanned event an aggregate query is charged for `timeoutEvents`. */
export const AGGREGATE_SCAN_SHARE = 1 / 100;

type Input = Record<string, unknown>;

/**
 * The state behind the emulator's operations: one event data store, its
 * queries and their lifecycle. Each method takes a request's JSON input and
 * returns the response's JSON output, or throws a ServiceError named as in
 * the service model.
 */
export class Lake {
  readonly store: QueryStore;
  readonly #eds: EventDataStoreInfo;
  readonly #engine: () => Promise<SqlRunner>;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #queuedMs: number;
  readonly #runningMs: number;
  readonly #maxRunMs: number;
  readonly #maxConcurrent: number;
  readonly #timeoutEvents: number | undefined;
  readonly #faults: FaultPlan | undefined;
  readonly #deliveries: Deliveries;
  #maxActive = 0;

  /**
   * `faults` bends the answers as its misbehaviours say (tokenCycle,
   * endlessTokens, countDrift, statusDisagree, listTokenCycle,
   * listEndlessTokens). `deliveries` writes the results of queries started
   * with DeliveryS3Uri, and holds the key ListPublicKeys publishes; the
   * default has no S3 endpoint, so StartQuery refuses DeliveryS3Uri.
   */
  constructor(eds: EventDataStoreInfo, engine: () => Promise<SqlRunner>, lifecycle: LifecycleOptions = {}, faults?: FaultPlan, deliveries?: Deliveries) {
    this.#eds = eds;
    this.#faults = faults;
    this.#deliveries = deliveries ?? new Deliveries({}, { region: 'us-east-1', accountId: eds.accountId });
    this.#engine = engine;
    this.store = new QueryStore(lifecycle.retentionMs, lifecycle.tokenKey);
    this.#queuedMs = lifecycle.queuedMs ?? 0;
    this.#runningMs = lifecycle.runningMs ?? 0;
    this.#maxRunMs = lifecycle.maxRunMs ?? 3_600_000;
    this.#maxConcurrent = lifecycle.maxConcurrentQueries ?? 10;
    const timeout = lifecycle.timeoutEvents;
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 0)) {
      throw new TypeError(`startEmulator: timeoutEvents must be a whole number of events, not ${JSON.stringify(timeout)}`);
    }
    this.#timeoutEvents = timeout;
  }

  /** The most queries QUEUED or RUNNING at one time so far. */
  get maxActiveQueries(): number {
    return Math.max(this.#maxActive, this.store.active());
  }

  /** The operations the emulator answers, by X-Amz-Target operation name. */
  readonly operations: Record<string, (input: Input) => unknown> = {
    StartQuery: (input) => this.#startQuery(input),
    DescribeQuery: (input) => this.#describeQuery(input),
    GetQueryResults: (input) => this.#getQueryResults(input),
    CancelQuery: (input) => this.#cancelQuery(input),
    ListQueries: (input) => this.#listQueries(input),
    ListEventDataStores: (input) => this.#listEventDataStores(input),
    GetEventDataStore: (input) => this.#getEventDataStore(input),
    ListPublicKeys: (input) => this.#deliveries.key.listPublicKeys(input),
  };

  /** Stops the timers, and the deliveries under way. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#deliveries.close();
  }

  #checkStore(input: Input, required = false): void {
    const eds = input.EventDataStore;
    if (eds === undefined && !required) return;
    if (eds === undefined) throw new ServiceError('InvalidParameterException', 'EventDataStore is required.');
    if (eds !== this.#eds.arn && eds !== this.#eds.id) {
      throw new ServiceError('EventDataStoreNotFoundException', `The specified event data store ${String(eds)} was not found.`);
    }
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  async #startQuery(input: Input): Promise<unknown> {
    if (typeof input.QueryStatement !== 'string' || input.QueryStatement.trim() === '') {
      throw new ServiceError('InvalidParameterException', 'QueryStatement is required (query aliases are not emulated).');
    }
    const delivery = input.DeliveryS3Uri === undefined ? undefined : this.#deliveries.accept(input.DeliveryS3Uri);
    const sql = bindParameters(input.QueryStatement, input.QueryParameters);
    const engine = await this.#engine();
    const problem = await engine.check(sql);
    if (problem) throw new ServiceError('InvalidQueryStatementException', problem);
    // Counted after the awaits, right before the query is added: StartQuery
    // calls that overlap must not all pass the check and exceed the limit.
    if (this.store.active() >= this.#maxConcurrent) {
      throw new ServiceError('MaxConcurrentQueriesException', `You are already running the maximum number of concurrent queries (${this.#maxConcurrent}). Wait a minute for some queries to finish, and then run the query again.`);
    }
    const query = this.store.addStarted(sql, delivery);
    this.#maxActive = Math.max(this.#maxActive, this.store.active());
    this.#later(this.#queuedMs, () => this.#run(query, engine));
    return { QueryId: query.queryId };
  }

  #run(query: StoredQuery, engine: SqlRunner): void {
    if (query.status !== 'QUEUED') return; // cancelled while queued
    query.status = 'RUNNING';
    const started = Date.now();
    const settle = (status: QueryStatus, fill: (q: StoredQuery) => void) => {
      if (query.status !== 'RUNNING') return; // cancelled or timed out meanwhile
      fill(query);
      query.status = status;
      query.final = status;
      query.executionTimeInMillis = Date.now() - started;
    };
    const timedOut = `Query exceeded the maximum run time of ${Math.round(this.#maxRunMs / 1000)} seconds.`;
    this.#later(this.#maxRunMs, () =>
      settle('TIMED_OUT', (q) => {
        q.errorMessage = timedOut;
      }),
    );
    const run = async () => {
      await engine.expireBefore(retentionCutoff(this.#eds.retentionDays));
      return engine.run(query.sql ?? '', { table: query.delivery !== undefined });
    };
    run().then(
      (result) => {
        const { over, rows } = this.#withinTimeout(result);
        this.#later(Math.max(0, this.#runningMs - (Date.now() - started)), () =>
          settle(over ? 'TIMED_OUT' : 'FINISHED', (q) => {
            q.rows = rows;
            q.totalResultsCount = rows.length;
            q.eventsScanned = result.eventsScanned;
            q.bytesScanned = result.bytesScanned;
            if (over) q.errorMessage = timedOut;
            // Only a query that FINISHED delivers; one that timed out keeps its partial rows to itself.
            else if (q.delivery) this.#deliveries.deliver(q.delivery, { queryId: q.queryId, columns: result.columns ?? [], table: result.table ?? [], completedAt: new Date() });
          }),
        );
      },
      (error: unknown) =>
        settle('FAILED', (q) => {
          q.errorMessage = error instanceof Error ? error.message : String(error);
        }),
    );
  }

  /**
   * Whether a result's scan charges more than `timeoutEvents` (see
   * LifecycleOptions), and the rows it keeps: all of them, or the first
   * floor(rows × limit / charged) of a query that timed out.
   */
  #withinTimeout(result: Awaited<ReturnType<SqlRunner['run']>>): { over: boolean; rows: QueryResultRow[] } {
    const limit = this.#timeoutEvents;
    const charged = result.aggregate ? result.eventsScanned * AGGREGATE_SCAN_SHARE : result.eventsScanned;
    if (limit === undefined || charged <= limit) return { over: false, rows: result.rows };
    return { over: true, rows: result.rows.slice(0, Math.floor((result.rows.length * limit) / charged)) };
  }

  #describeQuery(input: Input): unknown {
    this.#checkStore(input);
    const query = this.store.get(input.QueryId);
    this.store.observe(query);
    return {
      QueryId: query.queryId,
      QueryString: query.sql,
      QueryStatus: query.status,
      QueryStatistics: {
        EventsMatched: query.status === 'FINISHED' || query.status === 'TIMED_OUT' ? query.totalResultsCount : 0,
        EventsScanned: query.eventsScanned,
        BytesScanned: query.bytesScanned,
        ExecutionTimeInMillis: query.executionTimeInMillis,
        CreationTime: epochSeconds(query.creationTime),
      },
      ErrorMessage: errorMessage(query),
      ...(query.delivery ? this.#deliveries.describe(query.delivery, query.status) : {}),
    };
  }

  #getQueryResults(input: Input): unknown {
    this.#checkStore(input);
    const query = this.store.get(input.QueryId);
    const size = maxResults(input.MaxQueryResults);
    const offset = input.NextToken === undefined ? 0 : this.store.offsetOf(query, String(input.NextToken), size);
    let status = this.store.observe(query);
    if (status === 'FINISHED' && this.#faults?.disagree()) status = 'RUNNING';
    // A TIMED_OUT query still serves the rows it had (its partial results), each page saying TIMED_OUT.
    if (status !== 'FINISHED' && !(status === 'TIMED_OUT' && query.rows.length > 0)) {
      return { QueryStatus: status, QueryStatistics: { ResultsCount: 0, TotalResultsCount: 0, BytesScanned: query.bytesScanned }, QueryResultRows: [], ErrorMessage: errorMessage(query) };
    }
    const faults = this.#faults?.options ?? {};
    const index = Math.floor(offset / size);
    let page = this.store.page(query, offset, size);
    if (faults.endlessTokens) {
      const n = query.rows.length;
      const rows = offset < n ? page.rows : faults.endlessTokens === 'rows' && n > 0 ? Array.from({ length: size }, (_, i) => query.rows[(offset + i) % n]!) : [];
      page = { rows, nextToken: this.store.pageToken(query, size, offset + size) };
    }
    if (faults.tokenCycle !== undefined && faults.tokenCycle >= 1) {
      // Pages before K go on; page K points back at page 1, whose token page 0 gave.
      if (index < faults.tokenCycle) page.nextToken ??= this.store.pageToken(query, size, offset + size);
      else if (index === faults.tokenCycle) page.nextToken = this.store.pageToken(query, size, size);
    }
    const drift = faults.countDrift;
    const total = drift === 'missing' ? null : drift !== undefined && index < drift.length ? drift[index]! : query.totalResultsCount;
    return {
      QueryStatus: status,
      QueryStatistics: { ResultsCount: page.rows.length, ...(total === null ? {} : { TotalResultsCount: total }), BytesScanned: query.bytesScanned },
      QueryResultRows: page.rows,
      NextToken: page.nextToken,
      ErrorMessage: errorMessage(query),
    };
  }

  #cancelQuery(input: Input): unknown {
    this.#checkStore(input);
    const query = this.store.get(input.QueryId);
    this.store.observe(query);
    if (query.status !== 'QUEUED' && query.status !== 'RUNNING') {
      throw new ServiceError('InactiveQueryException', `The query ${query.queryId} is ${query.status} and cannot be cancelled.`);
    }
    Object.assign(query, { pending: [], final: 'CANCELLED', status: 'CANCELLED', errorMessage: 'Query was cancelled by the user.' });
    return { QueryId: query.queryId, QueryStatus: query.status };
  }

  #listQueries(input: Input): unknown {
    this.#checkStore(input, true);
    const status = input.QueryStatus;
    if (status !== undefined && !QUERY_STATUSES.includes(status as QueryStatus)) {
      throw new ServiceError('InvalidQueryStatusException', `The query status ${String(status)} is not valid. Valid values are ${QUERY_STATUSES.join(', ')}.`);
    }
    const startTime = dateInput(input.StartTime);
    const endTime = dateInput(input.EndTime);
    if (startTime && endTime && startTime > endTime) {
      throw new ServiceError('InvalidDateRangeException', 'A date range for the query was specified that is not valid. Be sure that the start time is chronologically before the end time.');
    }
    const size = maxResults(input.MaxResults);
    const scope = `list/${String(status)}/${String(input.StartTime)}/${String(input.EndTime)}/${size}`;
    const offset = input.NextToken === undefined ? 0 : this.store.tokenOffset(scope, String(input.NextToken));
    const all = this.store.list({ status: status as QueryStatus | undefined, startTime, endTime });
    const end = Math.min(offset + size, all.length);
    let nextToken = end < all.length ? this.store.token(scope, end) : undefined;
    const faults = this.#faults?.options ?? {};
    const index = Math.floor(offset / size);
    if (faults.listEndlessTokens) nextToken = this.store.token(scope, offset + size);
    if (faults.listTokenCycle !== undefined && faults.listTokenCycle >= 1) {
      if (index < faults.listTokenCycle) nextToken ??= this.store.token(scope, offset + size);
      else if (index === faults.listTokenCycle) nextToken = this.store.token(scope, size);
    }
    return {
      Queries: all.slice(Math.min(offset, end), end).map((q) => ({ QueryId: q.queryId, QueryStatus: q.status, CreationTime: epochSeconds(q.creationTime) })),
      NextToken: nextToken,
    };
  }

  /**
   * The service lists a store by its ARN and name only: the model marks the
   * other EventDataStore members (AdvancedEventSelectors, Status, ...) as
   * "no longer returned by ListEventDataStores". GetEventDataStore has them.
   */
  #listEventDataStores(input: Input): unknown {
    maxResults(input.MaxResults);
    if (input.NextToken !== undefined) throw new ServiceError('InvalidNextTokenException', 'A token that is not valid.');
    return { EventDataStores: [{ EventDataStoreArn: this.#eds.arn, Name: this.#eds.name }] };
  }

  #getEventDataStore(input: Input): unknown {
    this.#checkStore(input, true);
    return describeEventDataStore(this.#eds);
  }
}

function errorMessage(query: StoredQuery): string | undefined {
  return query.status === 'FAILED' || query.status === 'CANCELLED' || query.status === 'TIMED_OUT' ? query.errorMessage : undefined;
}

function maxResults(value: unknown): number {
  const size = value ?? 1000;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 1000) {
    throw new ServiceError('InvalidMaxResultsException', 'Maximum results must be from 1 to 1000.');
  }
  return size;
}

/** awsJson1_1 sends timestamps as epoch seconds (with a fraction). */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function dateInput(value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new ServiceError('InvalidParameterException', 'StartTime and EndTime must be timestamps.');
  return new Date(value * 1000);
}

/**
 * Replaces each `?` outside string literals with the next parameter as a SQL
 * string literal. The counts must match.
 */
export function bindParameters(sql: string, parameters: unknown): string {
  const values = parameters === undefined ? [] : parameters;
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
    throw new ServiceError('InvalidParameterException', 'QueryParameters must be a list of strings.');
  }
  let out = '';
  let used = 0;
  let inString = false;
  for (const char of sql) {
    if (char === "'") inString = !inString;
    if (char === '?' && !inString) {
      if (used >= values.length) throw new ServiceError('InvalidParameterException', `The query has more ? placeholders than the ${values.length} QueryParameters given.`);
      out += `'${String(values[used++]).replace(/'/g, "''")}'`;
    } else {
      out += char;
    }
  }
  if (used < values.length) throw new ServiceError('InvalidParameterException', `${values.length} QueryParameters were given for ${used} ? placeholders.`);
  return out;
}
