import { CancelQueryCommand, StartQueryCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CtlakeError } from '../errors.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

export interface StartOptions {
  sql: string;
  /** CloudTrail's positional QueryParameters, for `?` in the SQL (1 to 10). */
  parameters?: string[] | undefined;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  /** Backoff while the account runs its 10 queries (MaxConcurrentQueriesException). @default WAIT_FOR_SLOT */
  slotRetry?: RetryOptions | undefined;
  onRetry?: ((event: RetryEvent) => void) | undefined;
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
 */
export async function startQuery(client: CloudTrailClient, options: StartOptions): Promise<string> {
  const input = { QueryStatement: options.sql, ...(options.parameters?.length ? { QueryParameters: options.parameters } : {}) };
  const start = () =>
    withRetry(() => client.send(new StartQueryCommand(input), { abortSignal: options.signal }), {
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
  if (typeof QueryId !== 'string' || QueryId === '') throw new CtlakeError('UNEXPECTED_RESPONSE', 'StartQuery: the service returned no QueryId; check --endpoint-url');
  return QueryId;
}

/**
 * Best-effort CancelQuery of a query ctlake started and is leaving: an
 * interrupt, a --query-timeout, or a failure. Resolves with the status the
 * service reports, or undefined when the query had already ended or the
 * call failed; never throws, so that the original error is what is reported.
 */
export async function cancelStartedQuery(client: CloudTrailClient, queryId: string, retry: RetryOptions): Promise<string | undefined> {
  try {
    const signal = AbortSignal.timeout(10_000);
    const result = await withRetry(() => client.send(new CancelQueryCommand({ QueryId: queryId }), { abortSignal: signal }), {
      operation: 'CancelQuery',
      queryId,
      signal,
      retry: { ...retry, retries: Math.min(retry.retries, 3) },
    });
    return result.QueryStatus;
  } catch {
    return undefined;
  }
}
