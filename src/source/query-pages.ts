import { GetQueryResultsCommand, type CloudTrailClient, type DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';
import { CtlakeError } from '../errors.js';
import type { QueryResultRow } from '../rows/flatten-row.js';
import { isPending, queryEndedError, waitForQuery } from './query-status.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

/** One GetQueryResults page, as the service returned it. */
export interface QueryPage {
  /** Zero-based position of the page in the query's chain of NextTokens. */
  index: number;
  rows: QueryResultRow[];
  /** QueryStatistics.TotalResultsCount: the rows the whole query returns. */
  totalResultsCount: number | undefined;
  /** QueryStatistics.BytesScanned on this page. */
  bytesScanned: number | undefined;
}

export interface QueryPagesOptions {
  queryId: string;
  /** The event data store's ARN or id. GetQueryResults no longer needs it; DescribeQuery may. */
  eventDataStore?: string | undefined;
  /** MaxQueryResults, 1 to 1000 (checked by normalizeExportOptions). */
  pageSize: number;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Passed to waitForQuery. */
  pollMinMs?: number | undefined;
  pollMaxMs?: number | undefined;
  /** Called after every DescribeQuery while the query is waited for. */
  onStatus?: ((description: DescribeQueryCommandOutput) => void) | undefined;
  /** Called once with the DescribeQuery of the FINISHED query, before the first page. */
  onDescribe?: ((description: DescribeQueryCommandOutput) => void) | undefined;
}

/**
 * Yields every page of a query's results, in order, each exactly once.
 *
 * First DescribeQuery is polled until the query leaves QUEUED and RUNNING, so a
 * query is never read as if complete (the SDK's paginateGetQueryResults does not
 * check QueryStatus, and ignores its pageSize). Then GetQueryResults is called
 * with MaxQueryResults and the previous NextToken until there is none. A failed
 * call is retried with the same NextToken, so a retried page is yielded once.
 * Nothing is fetched ahead: wrap the generator in `readAhead` for that.
 */
export async function* queryPages(client: CloudTrailClient, options: QueryPagesOptions): AsyncGenerator<QueryPage> {
  const { queryId, signal } = options;
  const description = await waitForQuery(client, options);
  options.onDescribe?.(description);

  let nextToken: string | undefined;
  for (let index = 0; ; index++) {
    const token = nextToken;
    const response = await withRetry(
      () =>
        client.send(
          new GetQueryResultsCommand({ QueryId: queryId, MaxQueryResults: options.pageSize, ...(token ? { NextToken: token } : {}) }),
          { abortSignal: signal },
        ),
      { operation: 'GetQueryResults', queryId, page: index, signal, retry: options.retry, onRetry: options.onRetry },
    );
    const status = response.QueryStatus;
    if (isPending(status)) {
      // Described as FINISHED but paged as pending: wait again and ask for the same page.
      await waitForQuery(client, options);
      index--;
      continue;
    }
    if (status !== 'FINISHED') throw queryEndedError(queryId, status, response.ErrorMessage);
    const rows = response.QueryResultRows ?? [];
    if (!Array.isArray(rows)) {
      throw new CtlakeError('UNEXPECTED_RESPONSE', `GetQueryResults: page ${index} has no list of rows; check --endpoint-url`, { queryId, page: index });
    }
    yield {
      index,
      rows: rows as QueryResultRow[],
      totalResultsCount: response.QueryStatistics?.TotalResultsCount,
      bytesScanned: response.QueryStatistics?.BytesScanned,
    };
    if (!response.NextToken) return;
    if (response.NextToken === token) {
      throw new CtlakeError('UNEXPECTED_RESPONSE', `GetQueryResults: page ${index} returned its own NextToken again; the service is looping`, { queryId, page: index });
    }
    nextToken = response.NextToken;
  }
}
