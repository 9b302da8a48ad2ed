import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { createCloudTrailClient } from '../source/cloudtrail-client.js';
import { QUERY_STATUSES, type QueryStatus } from '../source/query-status.js';
import { cancelQuery, describeQuery, isQueryId, listQueries } from '../source/query-management.js';
import type { RetryEvent, RetryOptions } from '../source/retry.js';
import { clientOptions, duration, logFormat, oneOf, required, usage } from './args.js';
import { parseTimestamp } from '../rows/parse-value.js';
import { EXIT } from './exit-codes.js';
import type { CliIO } from './cli-io.js';
import { commandHelp, parseFlags } from './flag-table.js';
import { Log } from './progress.js';
import { CANCEL_SPEC, DESCRIBE_SPEC, LIST_SPEC } from './query-specs.js';
import { jsonLine } from './terminal-text.js';
import { LIST_HEADER, describeText, formatUtc, listLine, queryDescription, queryListing } from './query-table.js';

/**
 * `ctlake list`, `describe` and `cancel`: thin shells over the library's
 * listQueries, describeQuery and cancelQuery (src/source/query-management.ts).
 * Each parses its flags by its table (query-specs.ts), turns them into the
 * function's options, calls it, and prints the answer (query-table.ts).
 */

/** `ctlake cancel` of a query that had already ended (InactiveQueryException): nothing was cancelled. */
export const EXIT_QUERY_INACTIVE = 4;

/** `ctlake list`: every query of ListQueries, printed as its page arrives. */
export async function listCommand(args: string[], io: CliIO, _say: (line: string) => void): Promise<number> {
  const { values } = parseFlags(LIST_SPEC, args);
  if (values.help) {
    io.stdout.write(commandHelp(LIST_SPEC));
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

  return withLake(values, io, args, async ({ client, call, log }) => {
    let count = 0;
    for await (const query of listQueries(client, { eventDataStore, status, since, until, ...call })) {
      const line = values.json ? `${JSON.stringify(queryListing(query))}\n` : listLine(query);
      io.stdout.write(count === 0 && !values.json ? LIST_HEADER + line : line);
      count++;
    }
    if (count === 0) {
      const filter = `${status ? ` with status ${status}` : ''}${since ? ` since ${formatUtc(since)} UTC` : ''}${until ? ` until ${formatUtc(until)} UTC` : ''}`;
      log.event('no-queries', `no queries${filter} in ${eventDataStore} (the service keeps queries for 7 days)`, { eventDataStore, status, since, until, queries: 0 });
    }
    return EXIT.OK;
  });
}

/** `ctlake describe QUERY_ID`: one describeQuery. */
export async function describeCommand(args: string[], io: CliIO, _say: (line: string) => void): Promise<number> {
  const { values, positionals } = parseFlags(DESCRIBE_SPEC, args);
  if (values.help) {
    io.stdout.write(commandHelp(DESCRIBE_SPEC));
    return EXIT.OK;
  }
  const queryId = queryIdArgument(positionals, 'describe');
  const eventDataStore = values['event-data-store'];
  return withLake(values, io, args, async ({ client, call }) => {
    const description = queryDescription(await describeQuery(client, { queryId, eventDataStore, ...call }));
    io.stdout.write(values.json ? `${JSON.stringify(description)}\n` : describeText(description));
    return EXIT.OK;
  });
}

/**
 * `ctlake cancel QUERY_ID`: one cancelQuery. A query that had already ended
 * is not a failure of ctlake but an answer (outcome `ended`): the line says
 * which status it ended with, and the exit code is EXIT_QUERY_INACTIVE, so
 * that a script can tell "too late" from "failed".
 */
export async function cancelCommand(args: string[], io: CliIO, say: (line: string) => void): Promise<number> {
  const { values, positionals } = parseFlags(CANCEL_SPEC, args);
  if (values.help) {
    io.stdout.write(commandHelp(CANCEL_SPEC));
    return EXIT.OK;
  }
  const queryId = queryIdArgument(positionals, 'cancel');
  const eventDataStore = values['event-data-store'];
  return withLake(values, io, args, async ({ client, call }) => {
    const { outcome, status } = await cancelQuery(client, { queryId, eventDataStore, ...call });
    if (outcome === 'cancelled') {
      io.stdout.write(values.json ? `${JSON.stringify({ queryId, status: status ?? null })}\n` : `${queryId} ${status ?? '-'}\n`);
      return EXIT.OK;
    }
    const message = `query ${queryId} already ended${status ? ` ${status}` : ''}; nothing to cancel`;
    if (logFormat(args, io) === 'json') {
      io.stderr.write(jsonLine({ time: new Date().toISOString(), level: 'error', event: 'error', message, exitCode: EXIT_QUERY_INACTIVE, queryId, status }) + '\n');
    } else say(`error: ${message}`);
    return EXIT_QUERY_INACTIVE;
  });
}

interface ConnectionValues {
  region?: string | undefined;
  profile?: string | undefined;
  'endpoint-url'?: string | undefined;
  'log-format'?: string | undefined;
}

/** What withLake gives a command: the client, the options every call takes, the stderr log. */
interface Lake {
  client: CloudTrailClient;
  call: { signal: AbortSignal | undefined; retry: Partial<RetryOptions> | undefined; onRetry: (event: RetryEvent) => void };
  log: Log;
}

/**
 * Runs `body` with a client built from the flags (region, profile and
 * endpoint default as for `ctlake export`) and destroys the client
 * afterwards. Every call gets io.signal, io.retry (over the library's
 * default) and reports its retries on stderr.
 */
async function withLake(values: ConnectionValues, io: CliIO, args: string[], body: (lake: Lake) => Promise<number>): Promise<number> {
  oneOf(values['log-format'], '--log-format', ['text', 'json'] as const);
  // `live` only keeps Log from starting its interval of export progress lines: these commands have no pages to report.
  const log = new Log(io.stderr, { format: logFormat(args, io), quiet: false, live: true });
  const client = createCloudTrailClient(clientOptions(values, io));
  try {
    return await body({ client, call: { signal: io.signal, retry: io.retry, onRetry: (event) => log.retry(event) }, log });
  } finally {
    log.stop();
    client.destroy();
  }
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
