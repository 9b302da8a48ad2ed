import type { DescribedQuery, ListedQuery } from '../source/query-management.js';
import { escapeControl } from './terminal-text.js';
import { formatBytes, formatDuration } from './units.js';

/**
 * How `ctlake list`, `describe` and `cancel` print on stdout: pure functions
 * from the service's answers to text, so that the commands stay thin glue.
 * Text is for people; `--json` is for scripts and has a fixed shape (every
 * key present, `null` where the service gave no value).
 *
 * Every value in the text comes from the service (an id, a status, SQL, an
 * ErrorMessage) and goes through escapeControl, so that a query whose SQL
 * holds `\x1b[2J` cannot clear the terminal it is printed on, nor forge a
 * line. JSON is safe as it is: JSON.stringify escapes control characters.
 */

/** `2024-05-01T12:03:04.567Z` → `2024-05-01 12:03:04`, UTC; `-` when absent. */
export function formatUtc(date: Date | undefined): string {
  return date === undefined ? '-' : date.toISOString().slice(0, 19).replace('T', ' ');
}

/** One row of `ctlake list --json`. */
export interface QueryListing {
  queryId: string | null;
  status: string | null;
  creationTime: string | null;
}

export function queryListing(query: ListedQuery): QueryListing {
  return { queryId: query.QueryId, status: query.QueryStatus, creationTime: query.CreationTime?.toISOString() ?? null };
}

/**
 * The columns of the list table have fixed widths (a QueryId is a 36-character
 * UUID, the longest QueryStatus is 9 characters), so each page of ListQueries
 * can be printed as it arrives and still line up with the header: the table
 * never holds more than one page.
 */
const WIDTHS = [36, 9] as const;

export const LIST_HEADER = row(['QUERY ID', 'STATUS', 'CREATED (UTC)']);

export function listLine(query: ListedQuery): string {
  return row([escapeControl(query.QueryId), query.QueryStatus, formatUtc(query.CreationTime)]);
}

function row(cells: [string, string, string]): string {
  return `${cells[0].padEnd(WIDTHS[0])}  ${cells[1].padEnd(WIDTHS[1])}  ${cells[2]}\n`;
}

/** `ctlake describe --json`: describeQuery's answer in camelCase, flattened out of QueryStatistics. */
export interface QueryDescription {
  queryId: string | null;
  status: string | null;
  sql: string | null;
  creationTime: string | null;
  executionTimeInMillis: number | null;
  eventsMatched: number | null;
  eventsScanned: number | null;
  bytesScanned: number | null;
  errorMessage: string | null;
  deliveryS3Uri: string | null;
  deliveryStatus: string | null;
}

export function queryDescription(output: DescribedQuery): QueryDescription {
  const stats = output.QueryStatistics;
  return {
    queryId: output.QueryId,
    status: output.QueryStatus,
    sql: output.QueryString ?? null,
    creationTime: stats?.CreationTime?.toISOString() ?? null,
    executionTimeInMillis: stats?.ExecutionTimeInMillis ?? null,
    eventsMatched: stats?.EventsMatched ?? null,
    eventsScanned: stats?.EventsScanned ?? null,
    bytesScanned: stats?.BytesScanned ?? null,
    errorMessage: output.ErrorMessage ?? null,
    deliveryS3Uri: output.DeliveryS3Uri ?? null,
    deliveryStatus: output.DeliveryStatus ?? null,
  };
}

/**
 * `ctlake describe` as aligned `Label  value` lines. Every label is always
 * printed, with `-` for a value the service did not give, so that the layout
 * is the same for every query (`awk '/^Status/ {print $2}'` works on any).
 * A SQL of several lines continues under its first, indented to the values;
 * within each line, control characters are escaped (escapeControl), a lone
 * CR included.
 */
export function describeText(d: QueryDescription): string {
  const lines: Array<[string, string | null]> = [
    ['Query ID', d.queryId],
    ['Status', d.status],
    ['Created', d.creationTime === null ? null : `${formatUtc(new Date(d.creationTime))} UTC`],
    ['Execution time', d.executionTimeInMillis === null ? null : `${formatDuration(d.executionTimeInMillis)} (${d.executionTimeInMillis} ms)`],
    ['Events matched', d.eventsMatched === null ? null : String(d.eventsMatched)],
    ['Events scanned', d.eventsScanned === null ? null : String(d.eventsScanned)],
    ['Bytes scanned', d.bytesScanned === null ? null : `${formatBytes(d.bytesScanned)} (${d.bytesScanned} bytes)`],
    ['Error message', d.errorMessage],
    ['Delivery S3 URI', d.deliveryS3Uri],
    ['Delivery status', d.deliveryStatus],
    ['SQL', d.sql],
  ];
  const width = Math.max(...lines.map(([label]) => label.length)) + 2;
  const indent = ' '.repeat(width);
  return lines.map(([label, value]) => `${label.padEnd(width)}${(value ?? '-').split(/\r?\n/).map(escapeControl).join(`\n${indent}`)}\n`).join('');
}
