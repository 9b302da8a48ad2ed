import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeQueryCommand, type CloudTrailClient, type DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';
import { CtlakeError } from '../errors.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

/** The six QueryStatus values of the service model. Only FINISHED means complete. */
export type QueryStatus = 'QUEUED' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

export const QUERY_STATUSES: readonly QueryStatus[] = ['QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

export function isPending(status: string | undefined): boolean {
  return status === 'QUEUED' || status === 'RUNNING';
}

/**
 * The error for a query that ended without FINISHED: it carries the status and
 * the service's ErrorMessage, and its code (QUERY_FAILED, QUERY_CANCELLED,
 * QUERY_TIMED_OUT) maps to exit code 3.
 */
export function queryEndedError(queryId: string, status: string | undefined, errorMessage: string | undefined): CtlakeError {
  const code = status === 'CANCELLED' ? 'QUERY_CANCELLED' : status === 'TIMED_OUT' ? 'QUERY_TIMED_OUT' : 'QUERY_FAILED';
  const reason = errorMessage ? `: ${errorMessage}` : '';
  return new CtlakeError(code, `query ${queryId} ended ${status ?? 'with no status'}${reason}`, { queryId, status });
}

export interface WaitOptions {
  queryId: string;
  eventDataStore?: string | undefined;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** First delay between two DescribeQuery polls, in ms. @default 500 */
  pollMinMs?: number | undefined;
  /** Cap on the delay between polls, in ms; delays grow by 1.5 up to it. @default 5000 */
  pollMaxMs?: number | undefined;
  /** Called after every DescribeQuery, with the status it returned. */
  onStatus?: ((description: DescribeQueryCommandOutput) => void) | undefined;
}

/**
 * Polls DescribeQuery until the query leaves QUEUED and RUNNING. Resolves with
 * the final description when the query FINISHED; rejects with
 * `queryEndedError` for FAILED, CANCELLED and TIMED_OUT. Each poll has the
 * usual backoff against throttling; the wait itself is abortable.
 */
export async function waitForQuery(client: CloudTrailClient, options: WaitOptions): Promise<DescribeQueryCommandOutput> {
  const { queryId, signal } = options;
  let delay = options.pollMinMs ?? 500;
  const maxDelay = options.pollMaxMs ?? 5000;
  for (;;) {
    const description = await withRetry(
      () =>
        client.send(
          new DescribeQueryCommand({ QueryId: queryId, ...(options.eventDataStore ? { EventDataStore: options.eventDataStore } : {}) }),
          { abortSignal: signal },
        ),
      { operation: 'DescribeQuery', queryId, signal, retry: options.retry, onRetry: options.onRetry },
    );
    options.onStatus?.(description);
    const status = description.QueryStatus;
    if (status === 'FINISHED') return description;
    if (!isPending(status)) throw queryEndedError(queryId, status, description.ErrorMessage);
    try {
      await sleep(delay, undefined, { signal });
    } catch (error) {
      throw new CtlakeError('INTERRUPTED', 'Export interrupted', { queryId, cause: error });
    }
    delay = Math.min(maxDelay, Math.round(delay * 1.5));
  }
}
