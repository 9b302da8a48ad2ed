import { StartQueryCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError } from '../errors.js';
import { cancel, cancelQuery, describeQuery, isQueryId, listQueries } from './query-management.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

export interface StartOptions {
  sql: string;
  /** CloudTrail's positional QueryParameters, for `?` in the SQL (1 to 10). */
  parameters?: string[] | undefined;
  /** StartQuery's DeliveryS3Uri: Lake writes the results there too, as signed gzip CSV. */
  deliveryS3Uri?: string | undefined;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  /** Backoff while the account runs its 10 queries (MaxConcurrentQueriesException). @default WAIT_FOR_SLOT */
  slotRetry?: RetryOptions | undefined;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** The event data store, for finding duplicates; else the ids after FROM and JOIN in the SQL. */
  eventDataStore?: string | undefined;
  /** Told of duplicate queries found and cancelled, or of a search for them that failed. */
  onDuplicates?: ((report: { cancelled: string[]; error?: string | undefined }) => void) | undefined;
}

/**
 * A slot among the account's 10 concurrent queries can take minutes to free
 * up: MaxConcurrentQueriesException is waited out for up to about 30 minutes
 * (delays from 5 s, doubling, capped at 60 s), each wait reported by onRetry.
 */
export const WAIT_FOR_SLOT: RetryOptions = { retries: 40, minDelayMs: 5_000, maxDelayMs: 60_000 };

/**
 * StartQuery, resolving with the QueryId. A statement the service refuses
 * (InvalidQueryStatementException) fails with INVALID_QUERY and the
 * service's message; throttling and network faults are retried as ever.
 *
 * StartQuery has no idempotency token. When an attempt failed after the
 * request may have reached the service (a reset, a timeout, a 5xx), that
 * attempt may have started a query whose id was lost, which would scan, be
 * billed and hold one of the 10 slots for nothing. So after a retried start
 * succeeds, the queries of the event data store started since the first
 * such attempt, QUEUED or RUNNING, with the same SQL and another id, are
 * cancelled (listQueries, describeQuery, cancelQuery; best effort, within
 * 30 s and 3 retries a call, reported through onDuplicates).
 */
export async function startQuery(client: CloudTrailClient, options: StartOptions): Promise<string> {
  const input = {
    QueryStatement: options.sql,
    ...(options.parameters?.length ? { QueryParameters: options.parameters } : {}),
    ...(options.deliveryS3Uri ? { DeliveryS3Uri: options.deliveryS3Uri } : {}),
  };
  let uncertainSince: Date | undefined;
  const attempt = async () => {
    const sentAt = new Date();
    try {
      return await client.send(new StartQueryCommand(input), { abortSignal: options.signal });
    } catch (error) {
      if (mayHaveStarted(error)) uncertainSince ??= sentAt;
      throw error;
    }
  };
  const start = () =>
    withRetry(attempt, {
      operation: 'StartQuery',
      signal: options.signal,
      retry: options.retry,
      onRetry: options.onRetry,
    });
  const { QueryId } = await withRetry(start, {
    operation: 'StartQuery',
    signal: options.signal,
    retry: options.slotRetry ?? WAIT_FOR_SLOT,
    retryIf: (error) => error instanceof CtlakeError && error.awsErrorName === 'MaxConcurrentQueriesException',
    onRetry: options.onRetry,
  });
  if (typeof QueryId !== 'string' || QueryId === '') {
    throw new CtlakeError('UNEXPECTED_RESPONSE', (n) => `StartQuery: the service returned no QueryId; check ${n('endpointUrl')}`, { option: 'endpointUrl' });
  }
  if (uncertainSince) options.onDuplicates?.(await cancelDuplicates(client, options, QueryId, uncertainSince));
  return QueryId;
}

/**
 * A failure after which the service may have started the query: no
 * answer, a 2xx whose body was cut off, or a 5xx. Only a 4xx (throttling
 * included) certainly started nothing.
 */
function mayHaveStarted(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status < 400 || status >= 500;
}

/** Event data store ids after FROM or JOIN: Lake's SQL names the store it reads there. */
export function eventDataStoresIn(sql: string): string[] {
  return [...new Set([...sql.matchAll(/\b(?:FROM|JOIN)\s+"?([A-Za-z0-9][A-Za-z0-9:/_-]{19,})"?/gi)].map((m) => m[1]!.split('/').pop()!))];
}

async function cancelDuplicates(client: CloudTrailClient, options: StartOptions, keep: string, since: Date): Promise<{ cancelled: string[]; error?: string }> {
  const cancelled: string[] = [];
  const stores = options.eventDataStore ? [options.eventDataStore] : eventDataStoresIn(options.sql);
  const call = { signal: AbortSignal.timeout(30_000), retry: { ...options.retry, retries: Math.min(options.retry.retries, 3) } };
  try {
    if (stores.length === 0) return { cancelled, error: 'no event data store was given to look in' };
    for (const store of stores) {
      for await (const query of listQueries(client, { eventDataStore: store, since: new Date(since.getTime() - 60_000), ...call })) {
        if (query.QueryId === keep || (query.QueryStatus !== 'QUEUED' && query.QueryStatus !== 'RUNNING')) continue;
        // A listed id that is no UUID cannot be a query this StartQuery started.
        if (!isQueryId(query.QueryId)) continue;
        const described = await describeQuery(client, { queryId: query.QueryId, eventDataStore: store, ...call });
        if (described.QueryString?.trim() !== options.sql.trim()) continue;
        if ((await cancelQuery(client, { queryId: query.QueryId, ...call })).outcome === 'cancelled') cancelled.push(query.QueryId);
      }
    }
    return { cancelled };
  } catch (error) {
    return { cancelled, error: (error as Error).message.split('\n')[0] };
  }
}

/**
 * Best-effort CancelQuery of a query ctlake started and is leaving: an
 * interrupt, its queryTimeoutMs, or a failure. Resolves with the status the
 * service reports, or undefined when the query had already ended or the
 * call failed; never throws, so that the original error is what is reported.
 */
export async function cancelStartedQuery(client: CloudTrailClient, queryId: string, retry: RetryOptions): Promise<string | undefined> {
  try {
    const call = { signal: AbortSignal.timeout(10_000), retry: { ...retry, retries: Math.min(retry.retries, 3) }, onRetry: undefined };
    const result = await cancel(client, queryId, undefined, call, false);
    return result.outcome === 'cancelled' ? result.status : undefined;
  } catch {
    return undefined;
  }
}
