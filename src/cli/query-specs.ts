import { AWS_FLAGS } from './aws-flags.js';
import type { CommandSpec, FlagSpec } from './flag-table.js';

/**
 * The flag tables of `ctlake list`, `describe` and `cancel` (STYLE habit
 * 13): parsing and `--help` are generated from them, and each flag that
 * sets a library option says which (`option`), so that a library error that
 * names the option is shown under the flag. This file loads nothing but the
 * types of flag-table.ts, so that a registry can list the commands without
 * loading the SDK; their code is query-commands.ts.
 */

const CONNECTION_FLAGS = {
  ...AWS_FLAGS,
  'log-format': {
    type: 'string',
    value: 'text|json',
    help: 'stderr as text, or one JSON object per line (default: text on a terminal, json elsewhere; or CTLAKE_LOG_FORMAT)',
  },
  help: { type: 'boolean', short: 'h', help: 'Show this help' },
} as const satisfies Record<string, FlagSpec>;

const JSON_FLAG = { type: 'boolean', help: 'One JSON object instead of text' } as const satisfies FlagSpec;

const QUERY_STORE_FLAG = {
  type: 'string',
  value: 'ARN|ID',
  option: 'eventDataStore',
  help: "The query's event data store (optional)",
} as const satisfies FlagSpec;

export const LIST_SPEC = {
  name: 'list',
  summary: 'List the queries of the last 7 days (filter by status and time)',
  usage: 'list --event-data-store ARN|ID [--status S] [--since T] [--until T] [--json]',
  description: `List the queries of an event data store, newest first, as the service keeps
them (the past 7 days). Every page of ListQueries is read. The table has the
columns QUERY ID, STATUS and CREATED (UTC); with --json, one object per line:
{"queryId": ..., "status": ..., "creationTime": ISO-8601}. When no query
matches, stdout stays empty (no header) and a note goes to stderr; the exit
code is still 0.`,
  flags: {
    'event-data-store': {
      type: 'string',
      value: 'ARN|ID',
      option: 'eventDataStore',
      help: 'The event data store (required; default CTLAKE_EVENT_DATA_STORE)',
    },
    status: {
      type: 'string',
      value: 'S',
      option: 'status',
      help: 'Only queries with this status: QUEUED, RUNNING, FINISHED, FAILED, CANCELLED or TIMED_OUT',
    },
    since: {
      type: 'string',
      value: 'T',
      option: 'since',
      help: "Only queries created at or after T: a duration before now (90m, 24h, 7d) or a UTC time (2024-05-01, 2024-05-01T00:00:00Z, '2024-05-01 00:00:00')",
    },
    until: { type: 'string', value: 'T', option: 'until', help: 'Only queries created at or before T, written as for --since' },
    json: { type: 'boolean', help: 'One JSON object per line instead of the table' },
    ...CONNECTION_FLAGS,
  },
  footer: `Exit codes: 0 success (also when no query matches), 1 failure, 2 usage error,
130 interrupted.`,
} as const satisfies CommandSpec;

export const DESCRIBE_SPEC = {
  name: 'describe',
  summary: "Show a query's status, SQL and statistics (BytesScanned, the billed bytes)",
  usage: 'describe QUERY_ID [--json]',
  description: `Show one query as DescribeQuery reports it: status, creation time (UTC),
execution time, events matched and scanned, bytes scanned (in binary units and
exactly), error message, S3 delivery and SQL. Every field is printed, '-' where
the service gives no value. With --json, one object with the keys queryId,
status, sql, creationTime (ISO-8601), executionTimeInMillis, eventsMatched,
eventsScanned, bytesScanned, errorMessage, deliveryS3Uri and deliveryStatus
(null where the service gives no value).`,
  flags: { 'event-data-store': QUERY_STORE_FLAG, json: JSON_FLAG, ...CONNECTION_FLAGS },
  footer: `Exit codes: 0 success, 1 failure (such as an unknown query id: results and
queries are kept 7 days), 2 usage error, 130 interrupted.`,
  positionals: true,
} as const satisfies CommandSpec;

export const CANCEL_SPEC = {
  name: 'cancel',
  summary: 'Cancel a QUEUED or RUNNING query',
  usage: 'cancel QUERY_ID [--json]',
  description: `Cancel a QUEUED or RUNNING query (CancelQuery) and print its id and the status
the service reports, such as '0a1b2c3d-... CANCELLED'; with --json,
{"queryId": ..., "status": ...}. A query that has already ended FINISHED,
FAILED, CANCELLED or TIMED_OUT cannot be cancelled: ctlake says which status
it ended with and exits 4.`,
  flags: { 'event-data-store': QUERY_STORE_FLAG, json: JSON_FLAG, ...CONNECTION_FLAGS },
  footer: `Exit codes: 0 cancelled, 1 failure, 2 usage error, 4 the query had already
ended (nothing to cancel), 130 interrupted.`,
  positionals: true,
} as const satisfies CommandSpec;
