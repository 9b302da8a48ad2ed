import { CtlakeError } from '../errors.js';
import type { ExportRun } from './export-run.js';
import { lockKey } from './export-target.js';
import { startQuery } from '../source/start-query.js';

/**
 * Step 2: the query to export. The caller's `queryId` is taken as it is;
 * with `sql`, ctlake starts the query (StartQuery, waiting for a free slot)
 * and sets `run.startedId`, so that the failure path cancels it. A dataset's
 * key that only the new QueryId names is locked now.
 */
export async function takeQuery(run: ExportRun): Promise<string> {
  if (run.queryId !== undefined) return run.queryId;
  const options = run.options;
  // normalizeExportOptions guarantees one of queryId and sql.
  const queryId = await startQuery(run.client, {
    sql: options.sql as string,
    parameters: options.queryParameters,
    deliveryS3Uri: options.deliveryS3Uri,
    signal: run.controller.signal,
    retry: options.retry,
    slotRetry: options.slotRetry,
    onRetry: options.onRetry,
    eventDataStore: options.eventDataStore,
    onDuplicates: ({ cancelled, error }) => {
      if (cancelled.length) options.onWarning?.(`a retried StartQuery had started ${cancelled.length} duplicate quer${cancelled.length === 1 ? 'y' : 'ies'}; cancelled ${cancelled.join(', ')}`);
      if (error) options.onWarning?.(`a retried StartQuery may have started a duplicate query that could not be looked for (${error}); check ctlake list --status RUNNING`);
    },
  });
  run.queryId = queryId;
  run.startedId = queryId;
  options.onQueryStarted?.(queryId);
  // A new query's id is a new key: nobody else can hold it, but its lock still marks the export as running.
  if (run.store && options.layout && run.keyLock === undefined) await lockKey(run, queryId);
  return queryId;
}

/**
 * Step 3: with `queryTimeoutMs`, aborts the run with QUERY_TIMED_OUT
 * (`run.timedOut`) when the query has not finished in time. The timeout
 * bounds the wait for the query, not the export of its rows: the first
 * DescribeQuery that finds it finished clears it (see writeRecords' onDescribe).
 */
export function armTimeout(run: ExportRun, queryId: string): void {
  const limit = run.options.queryTimeoutMs;
  if (limit === undefined) return;
  run.timer = setTimeout(() => {
    // Names the option through the message's namer: `queryTimeoutMs` for the library, the CLI's `--query-timeout`.
    run.timedOut = new CtlakeError('QUERY_TIMED_OUT', (name) => `query ${queryId} did not finish within ${name('queryTimeoutMs')} ${Math.round(limit / 1000)}s`, {
      queryId,
      status: 'TIMED_OUT',
      option: 'queryTimeoutMs',
    });
    run.controller.abort(run.timedOut);
  }, limit);
}
