import { ListQueriesCommand, type CloudTrailClient, type Query } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, quoted, type ErrorMessage } from '../errors.js';
import type { QueryStatus } from './query-status.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

/** The options of one ListQueries paging, resolved (see listQueries for the public ones). */
export interface ListPagesOptions {
  /** The event data store whose queries to list (ARN or id). */
  eventDataStore: string;
  status?: QueryStatus | undefined;
  startTime?: Date | undefined;
  endTime?: Date | undefined;
  /** MaxResults of each call, 1 to 1000. @default the service's */
  maxResults?: number | undefined;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Pages read at most before the listing fails. @default LIST_PAGE_LIMIT */
  maxPages?: number | undefined;
}

/**
 * Pages of ListQueries read at most: the service keeps 7 days of queries,
 * and 1,000 pages are a million of them at MaxResults 1000, far more than an
 * account can run in that time (10 at once, each taking seconds at least).
 */
export const LIST_PAGE_LIMIT = 1000;

/**
 * Every page of ListQueries for one event data store, in order, each as the
 * list of its Queries. The one pager of ListQueries (under listQueries, which
 * `ctlake list` and the search for duplicates after a StartQuery whose answer
 * was lost call), so that every listing ends: a NextToken that any earlier page gave, or more than `maxPages`
 * pages, fails with UNEXPECTED_RESPONSE. An answer whose Queries is not a
 * list fails the same way. Each call has the usual backoff.
 */
export async function* listQueryPages(client: CloudTrailClient, options: ListPagesOptions): AsyncGenerator<Query[]> {
  const maxPages = options.maxPages ?? LIST_PAGE_LIMIT;
  const seen = new Map<string, number>();
  let token: string | undefined;
  for (let index = 0; ; index++) {
    const request = token;
    const page = await withRetry(
      () =>
        client.send(
          new ListQueriesCommand({
            EventDataStore: options.eventDataStore,
            ...(options.maxResults === undefined ? {} : { MaxResults: options.maxResults }),
            ...(request === undefined ? {} : { NextToken: request }),
            QueryStatus: options.status,
            StartTime: options.startTime,
            EndTime: options.endTime,
          }),
          { abortSignal: options.signal },
        ),
      { operation: 'ListQueries', signal: options.signal, retry: options.retry, onRetry: options.onRetry },
    );
    const queries: unknown = page.Queries ?? [];
    if (!Array.isArray(queries)) throw unexpected((n) => `the answer has Queries that is not a list, which CloudTrail never sends; check ${n('endpointUrl')}`, 'endpointUrl');
    const next: unknown = page.NextToken;
    if (next !== undefined && typeof next !== 'string') throw unexpected((n) => `page ${index} has a NextToken that is not a string (${quoted(next)}); check ${n('endpointUrl')}`, 'endpointUrl');
    yield queries as Query[];
    if (!next) return;
    const earlier = seen.get(next);
    if (earlier !== undefined) {
      throw unexpected(
        `page ${index} ${earlier === index - 1 ? 'returned its own NextToken again' : `returned the NextToken page ${earlier} gave`}; the service's chain of pages does not converge`,
      );
    }
    if (index + 1 >= maxPages) throw unexpected((n) => `page ${index} has a NextToken after ${maxPages} pages, the most ctlake reads; narrow the listing with ${n('status')}, ${n('since')} or ${n('until')}`);
    seen.set(next, index);
    token = next;
  }
}

function unexpected(what: ErrorMessage, option?: string): CtlakeError {
  return new CtlakeError('UNEXPECTED_RESPONSE', typeof what === 'string' ? `ListQueries: ${what}` : (n) => `ListQueries: ${what(n)}`, { option });
}
