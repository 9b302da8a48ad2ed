import { CancelQueryCommand, DescribeQueryCommand, type CloudTrailClient, type DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';
import { CtlakeError } from '../errors.js';
import { createCloudTrailClient } from '../source/cloudtrail-client.js';
import { QUERY_STATUSES, type QueryStatus } from '../source/query-status.js';
import { listQueryPages } from '../source/list-queries.js';
import { DEFAULT_RETRY, withRetry, type RetryEvent, type RetryOptions } from '../source/retry.js';
import { clientOptions, duration, logFormat, oneOf, parse, required, usage } from './args.js';
import { isQueryId } from '../export/export-options.js';
import { parseTimestamp } from '../rows/parse-value.js';
import { EXIT } from './exit-codes.js';
import type { CliIO } from './cli-io.js';
import { Log } from './progress.js';
import { escapeControl } from './terminal-text.js';
import { LIST_HEADER, describeText, formatUtc, listLine, queryDescription, queryListing } from './query-table.js';

/** `ctlake cancel` of a query that had already ended (InactiveQueryException): nothing was cancelled. */
export const EXIT_QUERY_INACTIVE = 4;

const CONNECTION_HELP = `  --region REGION          AWS region (default: AWS_REGION, then the profile's)
  --profile NAME           AWS profile (default: AWS_PROFILE, then 'default')
  --endpoint-url URL       CloudTrail endpoint, e.g. a local emulator
                           (default: AWS_ENDPOINT_URL_CLOUDTRAIL, then AWS_ENDPOINT_URL)
  --log-format text|json   stderr as text, or one JSON object per line (default: text
                           on a terminal, json elsewhere; or CTLAKE_LOG_FORMAT)
  -h, --help               Show this help`;

export const LIST_HELP = `Usage: ctlake list --event-data-store ARN|ID [--status S] [--since T] [--until T] [--json]

List the queries of an event data store, newest first, as the service keeps
them (the past 7 days). Every page of ListQueries is read. The table has the
columns QUERY ID, STATUS and CREATED (UTC); with --json, one object per line:
{"queryId": ..., "status": ..., "creationTime": ISO-8601}. When no query
matches, stdout stays empty (no header) and a note goes to stderr; the exit
code is still 0.

Options:
  --event-data-store ARN|ID  The event data store (required; default
                           CTLAKE_EVENT_DATA_STORE)
  --status S               Only queries with this status: QUEUED, RUNNING, FINISHED,
                           FAILED, CANCELLED or TIMED_OUT
  --since T                Only queries created at or after T: a duration before
                           now (90m, 24h, 7d) or a UTC time (2024-05-01,
                           2024-05-01T00:00:00Z, '2024-05-01 00:00:00')
  --until T                Only queries created at or before T, written as for --since
  --json                   One JSON object per line instead of the table
${CONNECTION_HELP}

Exit codes: 0 success (also when no query matches), 1 failure, 2 usage error,
130 interrupted.
`;

export const DESCRIBE_HELP = `Usage: ctlake describe QUERY_ID [--json]

Show one query as DescribeQuery reports it: status, creation time (UTC),
execution time, events matched and scanned, bytes scanned (in binary units and
exactly), error message, S3 delivery and SQL. Every field is printed, '-' where
the service gives no value. With --json, one object with the keys queryId,
status, sql, creationTime (ISO-8601), executionTimeInMillis, eventsMatched,
eventsScanned, bytesScanned, errorMessage, deliveryS3Uri and deliveryStatus
(null where the service gives no value).

Options:
  --event-data-store ARN|ID  The query's event data store (optional)
  --json                   One JSON object instead of text
${CONNECTION_HELP}

Exit codes: 0 success, 1 failure (such as an unknown query id: results and
queries are kept 7 days), 2 usage error, 130 interrupted.
`;

export const CANCEL_HELP = `Usage: ctlake cancel QUERY_ID [--json]

Cancel a QUEUED or RUNNING query (CancelQuery) and print its id and the status
the service reports, such as '0a1b2c3d-... CANCELLED'; with --json,
{"queryId": ..., "status": ...}. A query that has already ended FINISHED,
FAILED, CANCELLED or TIMED_OUT cannot be cancelled: ctlake says which status
it ended with and exits 4.

Options:
  --event-data-store ARN|ID  The query's event data store (optional)
  --json                   One JSON object instead of text
${CONNECTION_HELP}

Exit codes: 0 cancelled, 1 failure, 2 usage error, 4 the query had already
ended (nothing to cancel), 130 interrupted.
`;

const COMMON_OPTIONS = {
  'event-data-store': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'endpoint-url': { type: 'string' },
  json: { type: 'boolean' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LIST_OPTIONS = { ...COMMON_OPTIONS, status: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } } as const;

interface CommonValues {
  region?: string | undefined;
  profile?: string | undefined;
  'endpoint-url'?: string | undefined;
  'log-format'?: string | undefined;
}


/** `ctlake list`: every page of ListQueries, printed page by page. */
export async function listCommand(args: string[], io: CliIO, say: (line: string) => void): Promise<number> {
  const { values } = parse(args, LIST_OPTIONS, 'list');
  if (values.help) {
    io.stdout.write(LIST_HELP);
    return EXIT.OK;
  }
  const eventDataStore = required(
    values['event-data-store'] ?? io.env.CTLAKE_EVENT_DATA_STORE,
    '--event-data-store',
    'the ARN or id of the event data store whose queries to list (or set CTLAKE_EVENT_DATA_STORE)',
  );
  const status = queryStatus(values.status);
  const now = Date.now();
  const since = values.since === undefined ? undefined : pointInTime(values.since, '--since', now);
  const until = values.until === undefined ? undefined : pointInTime(values.until, '--until', now);
  if (since && until && since > until) throw usage(`--since (${formatUtc(since)} UTC) is after --until (${formatUtc(until)} UTC)`);

  return withLake(values, io, args, async (_call, log, lake) => {
    let count = 0;
    const pages = listQueryPages(lake.client, { eventDataStore, maxResults: 1000, status, startTime: since, endTime: until, ...lake.context });
    for await (const queries of pages) {
      let text = count === 0 && queries.length > 0 && !values.json ? LIST_HEADER : '';
      for (const query of queries) text += values.json ? `${JSON.stringify(queryListing(query))}\n` : listLine(query);
      if (text) io.stdout.write(text);
      count += queries.length;
    }
    if (count === 0) {
      const filter = `${status ? ` with status ${status}` : ''}${since ? ` since ${formatUtc(since)} UTC` : ''}${until ? ` until ${formatUtc(until)} UTC` : ''}`;
      log.event('no-queries', `no queries${filter} in ${eventDataStore} (the service keeps queries for 7 days)`, { eventDataStore, status, since, until, queries: 0 });
    }
    return EXIT.OK;
  });
}

/** `ctlake describe QUERY_ID`: one DescribeQuery. */
export async function describeCommand(args: string[], io: CliIO, say: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(args, COMMON_OPTIONS, 'describe', true);
  if (values.help) {
    io.stdout.write(DESCRIBE_HELP);
    return EXIT.OK;
  }
  const queryId = queryIdArgument(positionals, 'describe');
  const eventDataStore = values['event-data-store'];
  return withLake(values, io, args, async (call) => {
    const output = await describe(call, queryId, eventDataStore);
    const description = queryDescription(output);
    io.stdout.write(values.json ? `${JSON.stringify(description)}\n` : describeText(description));
    return EXIT.OK;
  });
}

/**
 * `ctlake cancel QUERY_ID`: one CancelQuery. InactiveQueryException (the
 * query already ended) is not a failure of ctlake but an answer: a
 * DescribeQuery tells which status the query ended with, and the exit code is
 * EXIT_QUERY_INACTIVE, so that a script can tell "too late" from "failed".
 */
export async function cancelCommand(args: string[], io: CliIO, say: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(args, COMMON_OPTIONS, 'cancel', true);
  if (values.help) {
    io.stdout.write(CANCEL_HELP);
    return EXIT.OK;
  }
  const queryId = queryIdArgument(positionals, 'cancel');
  const eventDataStore = values['event-data-store'];
  const print = (status: string | undefined) =>
    io.stdout.write(values.json ? `${JSON.stringify({ queryId, status: status ?? null })}\n` : `${queryId} ${escapeControl(status ?? '-')}\n`);

  return withLake(values, io, args, async (call) => {
    let retried = false;
    try {
      const output = await call(
        'CancelQuery',
        queryId,
        (client, signal) => client.send(new CancelQueryCommand({ QueryId: queryId, EventDataStore: eventDataStore }), { abortSignal: signal }),
        () => (retried = true),
      );
      print(output.QueryStatus);
      return EXIT.OK;
    } catch (error) {
      if (!isInactiveQuery(error)) throw error;
    }
    let status: string | undefined;
    try {
      status = (await describe(call, queryId, eventDataStore)).QueryStatus;
    } catch {
      status = undefined; // the answer stays "already ended", only without its status
    }
    // A CancelQuery whose answer was lost and that was then sent again meets
    // its own success as InactiveQueryException: the query is CANCELLED
    // because of this command, so that is a success.
    if (retried && status === 'CANCELLED') {
      print(status);
      return EXIT.OK;
    }
    const message = `query ${queryId} already ended${status ? ` ${escapeControl(status)}` : ''}; nothing to cancel`;
    if (logFormat(args, io) === 'json') {
      io.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'error', message, exitCode: EXIT_QUERY_INACTIVE, queryId, status }) + '\n');
    } else say(`error: ${message}`);
    return EXIT_QUERY_INACTIVE;
  });
}

/** The client and the retry context of withLake, for the pagers of src/source that take them. */
interface Lake {
  client: CloudTrailClient;
  context: { signal: AbortSignal | undefined; retry: RetryOptions; onRetry: (event: RetryEvent) => void };
}

type Call = <T>(
  operation: string,
  queryId: string | undefined,
  send: (client: CloudTrailClient, signal: AbortSignal | undefined) => Promise<T>,
  onRetry?: () => void,
) => Promise<T>;

/**
 * Runs `body` with a client built from the flags (region, profile and endpoint
 * default as for `ctlake export`) and destroys the client afterwards. Every
 * call `body` makes through `call` has ctlake's backoff (io.retry over
 * DEFAULT_RETRY), reports its retries on stderr, and fails as a one-line
 * CtlakeError.
 */
async function withLake(
  values: CommonValues,
  io: CliIO,
  args: string[],
  body: (call: Call, log: Log, lake: Lake) => Promise<number>,
): Promise<number> {
  oneOf(values['log-format'], '--log-format', ['text', 'json'] as const);
  const format = logFormat(args, io);
  // `live` only keeps Log from starting its interval of export progress lines: these commands have no pages to report.
  const log = new Log(io.stderr, { format, quiet: false, live: true });
  const client = createCloudTrailClient(clientOptions(values, io));
  const retry = { ...DEFAULT_RETRY, ...io.retry };
  const call: Call = (operation, queryId, send, onRetry) =>
    withRetry(() => send(client, io.signal), {
      operation,
      queryId,
      signal: io.signal,
      retry,
      onRetry: (event) => {
        onRetry?.();
        log.retry(event);
      },
    });
  const context = { signal: io.signal, retry, onRetry: (event: RetryEvent) => log.retry(event) };
  try {
    return await body(call, log, { client, context });
  } finally {
    log.stop();
    client.destroy();
  }
}

function describe(call: Call, queryId: string, eventDataStore: string | undefined): Promise<DescribeQueryCommandOutput> {
  return call('DescribeQuery', queryId, (client, signal) =>
    client.send(new DescribeQueryCommand({ QueryId: queryId, EventDataStore: eventDataStore }), { abortSignal: signal }),
  );
}

/** toCtlakeError has no code of its own for InactiveQueryException (it is SERVICE_ERROR); the AWS name tells it. */
function isInactiveQuery(error: unknown): boolean {
  if (!(error instanceof CtlakeError)) return false;
  return error.awsErrorName === 'InactiveQueryException' || (error.cause instanceof Error && error.cause.name === 'InactiveQueryException');
}

function queryIdArgument(positionals: string[], command: string): string {
  const [queryId, extra] = positionals;
  if (queryId === undefined) throw usage(`ctlake ${command} needs a query id: ctlake ${command} QUERY_ID (see ctlake list)`);
  if (extra !== undefined) throw usage(`ctlake ${command} takes one query id, not also '${extra}'`);
  if (!isQueryId(queryId)) throw usage(`the query id must be a UUID such as 0a1b2c3d-0000-4000-8000-123456789abc, not '${queryId}'`);
  return queryId;
}

/** `--status`, without regard to case; the service's six values only. */
function queryStatus(text: string | undefined): QueryStatus | undefined {
  if (text === undefined) return undefined;
  const status = QUERY_STATUSES.find((s) => s === text.toUpperCase());
  if (!status) throw usage(`--status must be one of ${QUERY_STATUSES.join(', ')}, not '${text}'`);
  return status;
}

/**
 * `--since`/`--until`: a duration before `now` (`90m`, `24h`, `7d`, as
 * duration() reads them, but with its unit required) or a calendar time. A time without a zone is UTC,
 * as CloudTrail's own timestamps are; `2024-05-01` is its midnight. An
 * impossible date (`2024-02-30`) is refused, not rolled over.
 */
export function pointInTime(text: string, flag: string, now: number): Date {
  const fail = () =>
    usage(`${flag} must be a duration before now such as 90m, 24h or 7d, or a UTC time such as 2024-05-01 or 2024-05-01T00:00:00Z, not '${text}'`);
  if (!/^\d{4}-/.test(text.trim())) {
    if (!/[a-z]\s*$/i.test(text)) throw fail(); // a bare number: seconds? milliseconds? an epoch? Ask for a unit.
    try {
      return new Date(now - duration(text, flag));
    } catch {
      throw fail();
    }
  }
  try {
    return new Date(parseTimestamp(text.trim()));
  } catch {
    throw fail();
  }
}
