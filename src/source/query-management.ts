import { CancelQueryCommand, DescribeQueryCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, optionError } from '../errors.js';
import { QUERY_STATUSES, type QueryStatus } from '../lake-model.js';
import { listQueryPages } from './list-queries.js';
import { checkedStatus, unexpected } from './query-status.js';
import { resolveRetry, withRetry, type RetryEvent, type RetryOptions } from './retry.js';

/**
 * Query management: list, describe and cancel the queries of an account,
 * the calls behind `ctlake list`, `describe` and `cancel` and behind the
 * clean-up of duplicate queries after a StartQuery whose answer was lost.
 * Each call has ctlake's backoff (retry.ts) and so is bounded by its retries;
 * a listing is bounded by LIST_PAGE_LIMIT pages. Every failure is a
 * CtlakeError translated in one place (toCtlakeError), and a bad option an
 * OptionError (a TypeError naming it), thrown before any request.
 */

/** QueryId is a UUID in the service model: 36 characters of [a-f0-9-]. */
const QUERY_ID = /^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/;

export function isQueryId(value: unknown): value is string {
  return typeof value === 'string' && QUERY_ID.test(value);
}

/** Throws the OptionError for a `queryId` that is not a query id: the one check every caller of the library gets. */
export function checkQueryId(queryId: unknown): asserts queryId is string {
  if (!isQueryId(queryId)) throw optionError('queryId', queryId, 'a query id such as 0a1b2c3d-0000-4000-8000-123456789abc');
}

/** The options every call of query management shares. */
interface CallOptions {
  /** Stops the calls; the function then rejects with INTERRUPTED. */
  signal?: AbortSignal | undefined;
  /** @default { retries: 8, minDelayMs: 250, maxDelayMs: 20000 } */
  retry?: Partial<RetryOptions> | undefined;
  /** Told of each retry (throttling, 5xx, network faults) before its delay. */
  onRetry?: ((event: RetryEvent) => void) | undefined;
}

export interface ListQueriesOptions extends CallOptions {
  /** The event data store whose queries to list: its ARN or id. Required. */
  eventDataStore: string;
  /** Only the queries with this status. @default every status */
  status?: QueryStatus | undefined;
  /** Only the queries created at or after this time. */
  since?: Date | undefined;
  /** Only the queries created at or before this time. */
  until?: Date | undefined;
}

/** One query of a listing, as ListQueries gives it (checked: an id and one of the six statuses). */
export interface ListedQuery {
  QueryId: string;
  QueryStatus: QueryStatus;
  CreationTime: Date | undefined;
}

/**
 * The queries of an event data store, as ListQueries gives them: newest
 * first, the past 7 days (what the service keeps), every page read. Yields
 * each query as its page arrives, so that memory holds one page (at most
 * 1,000 queries). The listing ends: more than LIST_PAGE_LIMIT pages, or a
 * NextToken that an earlier page gave, fails with UNEXPECTED_RESPONSE, as
 * does an entry without a QueryId or with a status that is none of the six.
 * A bad option throws an OptionError at the call, before any request.
 */
export function listQueries(client: CloudTrailClient, options: ListQueriesOptions): AsyncGenerator<ListedQuery, void, undefined> {
  if (typeof options !== 'object' || options === null) throw optionError('options', options, 'an object');
  const { eventDataStore, status, since, until } = options;
  if (typeof eventDataStore !== 'string' || eventDataStore.trim() === '') throw optionError('eventDataStore', eventDataStore, 'the ARN or id of an event data store');
  if (status !== undefined && !QUERY_STATUSES.includes(status)) throw optionError('status', status, `one of ${QUERY_STATUSES.join(', ')}`);
  checkDate('since', since);
  checkDate('until', until);
  if (since && until && since.getTime() > until.getTime()) throw optionError('until', until, `a time at or after since (${since.toISOString()})`);
  const retry = resolveRetry(options.retry);
  return (async function* () {
    const pages = listQueryPages(client, {
      eventDataStore,
      status,
      startTime: since,
      endTime: until,
      maxResults: 1000,
      signal: options.signal,
      retry,
      onRetry: options.onRetry,
    });
    for await (const page of pages) {
      for (const entry of page) yield listed(entry);
    }
  })();
}

function checkDate(option: string, value: unknown): void {
  if (value !== undefined && !(value instanceof Date && Number.isFinite(value.getTime()))) throw optionError(option, value, 'a valid Date');
}

function listed(entry: unknown): ListedQuery {
  const { QueryId, QueryStatus, CreationTime } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  if (typeof QueryId !== 'string' || QueryId === '') unexpected((n) => `ListQueries: a query in the answer has no QueryId, which CloudTrail always sends; check ${n('endpointUrl')}`, undefined);
  return {
    QueryId,
    QueryStatus: checkedStatus(QueryStatus, 'ListQueries', QueryId),
    CreationTime: CreationTime instanceof Date && Number.isFinite(CreationTime.getTime()) ? CreationTime : undefined,
  };
}

export interface DescribeQueryOptions extends CallOptions {
  /** The query: a QueryId (a UUID). Required. */
  queryId: string;
  /** The query's event data store (ARN or id); optional, as in DescribeQuery. */
  eventDataStore?: string | undefined;
}

/** What DescribeQuery says of a query, checked: its id and one of the six statuses, the rest as the service gave it. */
export interface DescribedQuery {
  QueryId: string;
  QueryStatus: QueryStatus;
  /** The SQL. */
  QueryString: string | undefined;
  QueryStatistics:
    | {
        EventsMatched?: number | undefined;
        EventsScanned?: number | undefined;
        /** The billed bytes. */
        BytesScanned?: number | undefined;
        ExecutionTimeInMillis?: number | undefined;
        CreationTime?: Date | undefined;
      }
    | undefined;
  /** Why the query FAILED or was TIMED_OUT. */
  ErrorMessage: string | undefined;
  /** Where the service delivers the results, for a query started with a delivery location. */
  DeliveryS3Uri: string | undefined;
  /** PENDING, SUCCESS, FAILED, ... as the service reports the delivery. */
  DeliveryStatus: string | undefined;
}

/**
 * One DescribeQuery, with backoff. Resolves with the query's description;
 * an unknown id (or one of another region, or older than the 7 days the
 * service keeps) rejects with QUERY_NOT_FOUND, an answer with no status or
 * one that is none of the six, or the description of another query, with
 * UNEXPECTED_RESPONSE.
 */
export async function describeQuery(client: CloudTrailClient, options: DescribeQueryOptions): Promise<DescribedQuery> {
  const { queryId, eventDataStore, retry } = checkQueryOptions(options);
  return describe(client, queryId, eventDataStore, { signal: options.signal, retry, onRetry: options.onRetry });
}

async function describe(
  client: CloudTrailClient,
  queryId: string,
  eventDataStore: string | undefined,
  call: { signal: AbortSignal | undefined; retry: RetryOptions; onRetry: ((event: RetryEvent) => void) | undefined },
): Promise<DescribedQuery> {
  const output = await withRetry(
    () => client.send(new DescribeQueryCommand({ QueryId: queryId, ...(eventDataStore ? { EventDataStore: eventDataStore } : {}) }), { abortSignal: call.signal }),
    { operation: 'DescribeQuery', queryId, ...call },
  );
  const status = checkedStatus(output.QueryStatus, 'DescribeQuery', queryId);
  if (output.QueryId !== undefined && output.QueryId !== queryId) {
    unexpected((n) => `DescribeQuery: the answer describes another query than ${queryId}; check ${n('endpointUrl')}`, queryId);
  }
  const stats = output.QueryStatistics;
  return {
    QueryId: queryId,
    QueryStatus: status,
    QueryString: output.QueryString,
    QueryStatistics: stats && {
      EventsMatched: stats.EventsMatched,
      EventsScanned: stats.EventsScanned,
      BytesScanned: stats.BytesScanned,
      ExecutionTimeInMillis: stats.ExecutionTimeInMillis,
      CreationTime: stats.CreationTime,
    },
    ErrorMessage: output.ErrorMessage,
    DeliveryS3Uri: output.DeliveryS3Uri,
    DeliveryStatus: output.DeliveryStatus,
  };
}

export type CancelQueryOptions = DescribeQueryOptions;

/**
 * What cancelQuery did. `cancelled`: this call cancelled the query, and
 * `status` is the one CancelQuery reports (CANCELLED). `ended`: the query
 * had already ended before (InactiveQueryException), nothing was cancelled,
 * and `status` is the one it ended with (FINISHED, FAILED, CANCELLED,
 * TIMED_OUT), or undefined when DescribeQuery could not tell it.
 */
export interface CancelQueryResult {
  queryId: string;
  outcome: 'cancelled' | 'ended';
  status: QueryStatus | undefined;
}

/**
 * One CancelQuery of a QUEUED or RUNNING query, with backoff. A query that
 * had already ended is an answer, not a failure: it resolves with outcome
 * `ended` and the status DescribeQuery gives (`ctlake cancel` exits 4 for
 * it). A CancelQuery whose answer was lost and was sent again meets its own
 * success as InactiveQueryException; when the query is then CANCELLED, the
 * outcome is `cancelled`. An unknown id rejects with QUERY_NOT_FOUND.
 */
export async function cancelQuery(client: CloudTrailClient, options: CancelQueryOptions): Promise<CancelQueryResult> {
  const { queryId, eventDataStore, retry } = checkQueryOptions(options);
  return cancel(client, queryId, eventDataStore, { signal: options.signal, retry, onRetry: options.onRetry }, true);
}

/**
 * CancelQuery, resolved options. With `describeEnded` false an ended query's
 * status is not asked for (`ended` with status undefined): the best-effort
 * cancel of a query ctlake leaves does not need it.
 */
export async function cancel(
  client: CloudTrailClient,
  queryId: string,
  eventDataStore: string | undefined,
  call: { signal: AbortSignal | undefined; retry: RetryOptions; onRetry: ((event: RetryEvent) => void) | undefined },
  describeEnded: boolean,
): Promise<CancelQueryResult> {
  let retried = false;
  try {
    const output = await withRetry(
      () => client.send(new CancelQueryCommand({ QueryId: queryId, ...(eventDataStore ? { EventDataStore: eventDataStore } : {}) }), { abortSignal: call.signal }),
      {
        operation: 'CancelQuery',
        queryId,
        signal: call.signal,
        retry: call.retry,
        onRetry: (event) => {
          retried = true;
          call.onRetry?.(event);
        },
      },
    );
    return { queryId, outcome: 'cancelled', status: checkedStatus(output.QueryStatus, 'CancelQuery', queryId) };
  } catch (error) {
    if (!(error instanceof CtlakeError && error.awsErrorName === 'InactiveQueryException')) throw error;
  }
  if (!describeEnded) return { queryId, outcome: 'ended', status: undefined };
  let status: QueryStatus | undefined;
  try {
    status = (await describe(client, queryId, eventDataStore, call)).QueryStatus;
  } catch (error) {
    if (call.signal?.aborted) throw error;
    status = undefined; // the answer stays "already ended", only without its status
  }
  return { queryId, outcome: retried && status === 'CANCELLED' ? 'cancelled' : 'ended', status };
}

function checkQueryOptions(options: DescribeQueryOptions): { queryId: string; eventDataStore: string | undefined; retry: RetryOptions } {
  if (typeof options !== 'object' || options === null) throw optionError('options', options, 'an object');
  const { queryId, eventDataStore } = options;
  checkQueryId(queryId);
  if (eventDataStore !== undefined && (typeof eventDataStore !== 'string' || eventDataStore.trim() === '')) {
    throw optionError('eventDataStore', eventDataStore, 'the ARN or id of an event data store');
  }
  return { queryId, eventDataStore, retry: resolveRetry(options.retry) };
}
