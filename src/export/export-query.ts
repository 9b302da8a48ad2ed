import { normalizeExportOptions, type ExportOptions } from './export-options.js';
import { beginRun, endRun } from './export-run.js';
import { openTarget, prepareDataset } from './export-target.js';
import { armTimeout, takeQuery } from './take-query.js';
import { recordBatches, writeDatasetExport, writeToDestination } from './write-output.js';
import { failExport } from './export-failure.js';
import { summarize, type ExportSummary } from './export-summary.js';

export type { ExportSummary, QueryStatisticsSummary } from './export-summary.js';

/**
 * Exports every row of a finished query, once and in order, to `out` (or
 * the caller's `destination` or `store`). Waits for a QUEUED or RUNNING
 * query; rejects with a CtlakeError (QUERY_FAILED, QUERY_CANCELLED,
 * QUERY_TIMED_OUT, ...) otherwise. The output becomes visible only when
 * every row is written and their count matches the service's
 * TotalResultsCount; on any failure or abort it is removed.
 * Memory: about three pages of rows plus one page of encoded text (a
 * dataset: plus one row group per open file, maxOpenFiles of them).
 *
 * The steps, each a function with its contract, sharing one ExportRun:
 * open the target (before StartQuery), take or start the query, arm the
 * timeout, read the record batches, write them (one destination, or a
 * dataset and its manifest), and summarize; on any failure, failExport.
 */
export async function exportQuery(input: ExportOptions): Promise<ExportSummary> {
  const options = normalizeExportOptions(input);
  const run = beginRun(options);
  try {
    await openTarget(run);
    const dataset = run.store !== undefined && options.layout !== undefined;
    if (dataset) await prepareDataset(run);
    const queryId = await takeQuery(run);
    armTimeout(run, queryId);
    const batches = recordBatches(run, queryId);
    if (dataset) await writeDatasetExport(run, batches, queryId);
    else await writeToDestination(run, batches, queryId);
    return summarize(run, queryId);
  } catch (error) {
    throw await failExport(run, error);
  } finally {
    await endRun(run);
  }
}
