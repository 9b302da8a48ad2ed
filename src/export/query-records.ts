import { Readable } from 'node:stream';
import type { CloudTrailClient, DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';
import { CtlakeError } from '../errors.js';
import { normalizeSourceOptions, type PageEvent, type SourceOptions } from './export-options.js';
import { ColumnSet, type FlatRecord } from '../rows/flatten-row.js';
import { queryPages, type QueryPagesOptions } from '../source/query-pages.js';
import { readAhead } from '../source/read-ahead.js';

export interface RecordBatchesOptions extends QueryPagesOptions {
  onPage?: ((event: PageEvent) => void) | undefined;
  /**
   * Settles the export's columns once DescribeQuery has answered, before the
   * first row is flattened (also for a result with no rows): resolves to the
   * source columns every record then carries, or undefined to take the
   * columns as the pages bring them.
   */
  settle?: ((description: DescribeQueryCommandOutput | undefined) => Promise<readonly string[] | undefined>) | undefined;
}

/** The page a batch came from, for a checkpoint after it: its index and the token of the page after it. */
export interface BatchPage {
  index: number;
  nextToken: string | undefined;
}

const batchPages = new WeakMap<readonly FlatRecord[], BatchPage>();

/** The page a batch of queryRecordBatches came from; undefined for any other array. */
export function pageOfBatch(batch: readonly FlatRecord[]): BatchPage | undefined {
  return batchPages.get(batch);
}

/** What a finished pass over the pages saw. */
export interface RecordTally {
  rows: number;
  pages: number;
  columns: string[];
  totalResultsCount: number | undefined;
  bytesScanned: number | undefined;
  description: DescribeQueryCommandOutput | undefined;
}

/**
 * Flattened record batches, one per page, with the next page fetched while
 * the consumer handles this one (readAhead). `tally` is filled in as pages
 * pass. After the last page the rows seen are checked against the
 * TotalResultsCount the service reported, and a difference throws
 * COUNT_MISMATCH before the consumer sees the end: an incomplete export can
 * never commit.
 */
export async function* queryRecordBatches(
  client: CloudTrailClient,
  options: RecordBatchesOptions,
  tally: RecordTally = newTally(),
): AsyncGenerator<FlatRecord[]> {
  const columns = new ColumnSet();
  tally.columns = columns.names;
  // A resumed chain's count includes the pages read before it (the check against TotalResultsCount is of the whole query).
  if (options.resume) {
    tally.rows = options.resume.rows;
    tally.pages = options.resume.pages;
  }
  // Settling starts as soon as DescribeQuery has answered, so that its work (loading the SQL grammar, reading the SQL,
  // GetEventDataStore) overlaps the first page's round trip; the first row waits for it.
  let settling: Promise<void> | undefined;
  const settle = (): Promise<void> => {
    if (settling === undefined) {
      settling = (async () => {
        const sources = await options.settle!(tally.description);
        if (sources !== undefined) columns.expect(sources);
      })();
      // Awaited before the first row or at the end; never an unhandled rejection meanwhile.
      settling.catch(() => undefined);
    }
    return settling;
  };
  const pages = readAhead(
    queryPages(client, {
      ...options,
      onDescribe: (description) => {
        tally.description = description;
        options.onDescribe?.(description);
        if (options.settle !== undefined) void settle();
      },
    }),
  );
  let settled = options.settle === undefined;
  for await (const page of pages) {
    if (!settled) {
      await settle();
      settled = true;
    }
    const records = page.rows.map((row) => columns.toRecord(row));
    // The records share the rows' strings; the row objects can go now.
    page.rows = [];
    tally.rows += records.length;
    tally.pages += 1;
    tally.totalResultsCount = page.totalResultsCount ?? tally.totalResultsCount;
    tally.bytesScanned = page.bytesScanned ?? tally.bytesScanned;
    options.onPage?.({ page: page.index, rows: records.length, totalRows: tally.rows, totalResultsCount: tally.totalResultsCount });
    batchPages.set(records, { index: page.index, nextToken: page.nextToken });
    yield records;
  }
  if (!settled) await settle();
  if (tally.totalResultsCount !== undefined && tally.totalResultsCount !== tally.rows) {
    throw new CtlakeError(
      'COUNT_MISMATCH',
      `query ${options.queryId}: read ${tally.rows} rows but the service reported TotalResultsCount ${tally.totalResultsCount}; nothing was committed, rerun the export`,
      { queryId: options.queryId },
    );
  }
}

export function newTally(): RecordTally {
  return { rows: 0, pages: 0, columns: [], totalResultsCount: undefined, bytesScanned: undefined, description: undefined };
}

/**
 * The rows of a query as an object-mode Readable of flattened records, with
 * real backpressure: when the consumer stops reading, fetching stops after
 * at most two pages beyond what the stream buffers (16 records): the one read
 * ahead and the one requested early (queryPages). Options are
 * checked at once (TypeError); errors while reading destroy the stream with a
 * CtlakeError.
 */
export function createRowStream(client: CloudTrailClient, input: SourceOptions): Readable {
  const options = normalizeSourceOptions(input);
  async function* rows() {
    for await (const batch of queryRecordBatches(client, options)) yield* batch;
  }
  return Readable.from(rows(), { objectMode: true, highWaterMark: 16 });
}
