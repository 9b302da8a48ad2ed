import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeQueryCommand, type CloudTrailClient, type DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, quoted, type ErrorMessage } from '../errors.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

import { QUERY_STATUSES, type QueryStatus } from '../lake-model.js';

export { QUERY_STATUSES, type QueryStatus };

export function isPending(status: string | undefined): boolean {
  return status === 'QUEUED' || status === 'RUNNING';
}

/**
 * The QueryStatus of an answer, which must be one of the six: an answer
 * without one (`{}` from an endpoint that is not CloudTrail) or with another
 * fails with UNEXPECTED_RESPONSE, never as a query that ended (exit 3).
 */
export function checkedStatus(status: unknown, operation: string, queryId: string, page?: number): QueryStatus {
  if (QUERY_STATUSES.includes(status as QueryStatus)) return status as QueryStatus;
  const what = status === undefined ? 'no QueryStatus, which every CloudTrail answer has' : `QueryStatus ${quoted(status)}, none of ${QUERY_STATUSES.join(', ')}`;
  return unexpected((n) => `${operation}: the answer${page === undefined ? '' : ` for page ${page}`} has ${what}; check ${n('endpointUrl')}`, queryId, page);
}

/**
 * Throws UNEXPECTED_RESPONSE: an answer that is not of the shape the service
 * model gives, which points at the endpoint (its `option` is `endpointUrl`).
 */
export function unexpected(message: ErrorMessage, queryId: string | undefined, page?: number): never {
  throw new CtlakeError('UNEXPECTED_RESPONSE', message, { queryId, page, option: 'endpointUrl' });
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
  /**
   * The longest the query is waited for while it is QUEUED or RUNNING, from
   * the first DescribeQuery, before the wait fails with UNEXPECTED_RESPONSE.
   * @default MAX_QUERY_WAIT_MS
   */
  maxWaitMs?: number | undefined;
  /** Called after every DescribeQuery, with the status it returned. */
  onStatus?: ((description: DescribeQueryCommandOutput) => void) | undefined;
}

/**
 * Lake ends a query that runs for an hour TIMED_OUT; a service that still
 * says QUEUED or RUNNING after twice that is not going to finish it. This
 * bounds a wait that has no queryTimeoutMs (which is the user's own, shorter
 * bound, and raises this one when it is longer: see normalizeExportOptions).
 */
export const MAX_QUERY_WAIT_MS = 2 * 3_600_000;

/**
 * Polls DescribeQuery until the query leaves QUEUED and RUNNING. Resolves with
 * the final description when the query FINISHED; rejects with
 * `queryEndedError` for FAILED, CANCELLED and TIMED_OUT. Each poll has the
 * usual backoff against throttling; the wait itself is abortable, and ends
 * with UNEXPECTED_RESPONSE once the query has been pending for `maxWaitMs`.
 */
export async function waitForQuery(client: CloudTrailClient, options: WaitOptions): Promise<DescribeQueryCommandOutput> {
  const { queryId } = options;
  const maxWait = options.maxWaitMs ?? MAX_QUERY_WAIT_MS;
  return pollDescribeQuery(client, { ...options, pollMinMs: options.pollMinMs ?? 500, pollMaxMs: options.pollMaxMs ?? 5000, maxWaitMs: maxWait }, {
    settle: (description) => {
      const status = checkedStatus(description.QueryStatus, 'DescribeQuery', queryId);
      options.onStatus?.(description);
      if (status === 'FINISHED') return description;
      if (!isPending(status)) throw queryEndedError(queryId, status, description.ErrorMessage);
      return undefined;
    },
    tooLong: (description) =>
      new CtlakeError(
        'UNEXPECTED_RESPONSE',
        `DescribeQuery: query ${queryId} is still ${description.QueryStatus} after ${waitText(maxWait)}, beyond Lake's one-hour run-time limit; the service is not settling it (cancel it with ctlake cancel)`,
        { queryId, status: description.QueryStatus },
      ),
  });
}

/** How a DescribeQuery poll loop (pollDescribeQuery) reads each answer. */
export interface PollSteps<T> {
  /** A value ends the wait with it; undefined polls again; a throw ends the wait with the error. */
  settle: (description: DescribeQueryCommandOutput) => T | undefined;
  /** The error once `maxWaitMs` has passed since the first poll with no value, given the last answer and the time waited. */
  tooLong: (description: DescribeQueryCommandOutput, waitedMs: number) => CtlakeError;
}

/**
 * The one DescribeQuery poll loop (waitForQuery, waitForDelivery): each
 * poll retried as every call is, then `steps.settle`; between polls an
 * abortable sleep (INTERRUPTED on abort) from `pollMinMs`, growing by 1.5
 * up to `pollMaxMs`; bounded by `maxWaitMs` (`steps.tooLong`).
 */
export async function pollDescribeQuery<T>(
  client: CloudTrailClient,
  options: Omit<WaitOptions, 'onStatus'> & { pollMinMs: number; pollMaxMs: number; maxWaitMs: number },
  steps: PollSteps<T>,
): Promise<T> {
  const { queryId, signal } = options;
  let delay = options.pollMinMs;
  const started = Date.now();
  for (;;) {
    const description = await withRetry(
      () =>
        client.send(
          new DescribeQueryCommand({ QueryId: queryId, ...(options.eventDataStore ? { EventDataStore: options.eventDataStore } : {}) }),
          { abortSignal: signal },
        ),
      { operation: 'DescribeQuery', queryId, signal, retry: options.retry, onRetry: options.onRetry },
    );
    const value = steps.settle(description);
    if (value !== undefined) return value;
    const waited = Date.now() - started;
    if (waited >= options.maxWaitMs) throw steps.tooLong(description, waited);
    try {
      await sleep(delay, undefined, { signal });
    } catch (error) {
      throw new CtlakeError('INTERRUPTED', 'Export interrupted', { queryId, cause: error });
    }
    delay = Math.min(options.pollMaxMs, Math.round(delay * 1.5));
  }
}

function waitText(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}
