import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { startEmulator } from '../emulator/server.js';
import { DELIVERY_FAILURES } from '../emulator/delivery.js';
import { BILLING_MODES } from '../emulator/event-data-store.js';
import { LAKE_STORE_TYPES } from '../rows/lake-schema.js';
import { logFormat, usage } from './args.js';
import { milliseconds, share, utcTime, wholeNumber, word } from './flag-readers.js';
import { EXIT } from './exit-codes.js';
import { commandHelp, parseFlags, type CommandSpec } from './flag-table.js';
import { Log } from './progress.js';
import type { CliIO } from './cli-io.js';

export const EMULATOR_SPEC = {
  name: 'emulator',
  usage: 'emulator [options] [--events] [FILE|DIR ...]',
  positionals: true,
  description: `A local CloudTrail Lake on 127.0.0.1 for any AWS client (the JS SDK, boto3,
the AWS CLI with --endpoint-url). It speaks CloudTrail's JSON protocol for
StartQuery, DescribeQuery, GetQueryResults, CancelQuery, ListQueries,
ListEventDataStores, GetEventDataStore and ListPublicKeys, and runs the SQL on
DuckDB (the optional dependency @duckdb/node-api). With --s3-endpoint-url, a
query started with DeliveryS3Uri writes its results (result_N.csv.gz) and a
signed result_sign.json to that S3-compatible endpoint, as Lake delivers. It
prints its endpoint, event data store ARN, store type and event count on
stdout, and runs until Ctrl-C (exit 0). Signatures are not checked: any
credentials work.`,
  flags: {
    port: { type: 'string', read: wholeNumber(0, 65535), short: 'p', value: 'N', option: 'port', help: 'Port on 127.0.0.1; 0 picks a free one (default 0)' },
    events: {
      type: 'string',
      multiple: true,
      value: 'FILE|DIR',
      option: 'events',
      help:
        'CloudTrail log files as trails write them ({"Records": [...]}, .json or .json.gz), NDJSON of events (.ndjson, .jsonl, .gz), ' +
        'or directories of them; repeatable, and bare FILE arguments count too',
    },
    'store-type': {
      type: 'string',
      read: word(LAKE_STORE_TYPES),
      value: 'TYPE',
      option: 'storeType',
      help:
        `What the event data store holds: ${LAKE_STORE_TYPES.join(', ')} (default cloudtrail-events). ` +
        'Its table has the columns Lake publishes for that type; samples exist for cloudtrail-events and integration-events',
    },
    sample: { type: 'string', read: wholeNumber(0, 100_000_000), value: 'N', option: 'sample', help: 'Generate N sample events of the store type (default 1000 when no --events)' },
    seed: { type: 'string', read: wholeNumber(0, 2 ** 32 - 1), value: 'S', option: 'seed', help: 'Seed of the sample generator (default 1): same seed, same events' },
    'events-from': { type: 'string', read: utcTime, value: 'T', option: 'eventsFrom', help: 'Sample eventTimes start at this UTC time (default 2024-05-01T00:00:00Z, or 7 days before --events-to)' },
    'events-to': { type: 'string', read: utcTime, value: 'T', option: 'eventsTo', help: 'Sample eventTimes end before this UTC time (default 7 days after --events-from)' },
    'uneven-days': { type: 'boolean', option: 'unevenDays', help: 'Spread sample events unevenly over the days: quiet weekends, busy days, one day in 25 empty' },
    region: { type: 'string', value: 'REGION', option: 'region', help: 'Region in the event data store ARN (default us-east-1)' },
    'queued-time': { type: 'string', read: milliseconds, value: 'D', option: 'queuedMs', help: 'How long a started query stays QUEUED (default 0; e.g. 500ms, 2s)' },
    'running-time': { type: 'string', read: milliseconds, value: 'D', option: 'runningMs', help: 'Least time a started query stays RUNNING (default 0)' },
    'max-run-time': { type: 'string', read: milliseconds, value: 'D', option: 'maxRunMs', help: 'Run-time limit before TIMED_OUT (default 1h)' },
    retention: { type: 'string', read: milliseconds, value: 'D', option: 'retentionMs', help: 'How long results are kept (default 7d)' },
    'tps-read': {
      type: 'string',
      read: wholeNumber(1, 1_000_000),
      value: 'N',
      option: 'tpsRead',
      help: 'Requests per second to GetQueryResults, DescribeQuery, ListQueries, GetEventDataStore, ListEventDataStores and ListPublicKeys before ThrottlingException (a token bucket of N; default unlimited)',
    },
    'tps-write': { type: 'string', read: wholeNumber(1, 1_000_000), value: 'N', option: 'tpsWrite', help: 'The same for StartQuery, CancelQuery and the rest (default unlimited)' },
    'timeout-events': {
      type: 'string',
      read: wholeNumber(0, Number.MAX_SAFE_INTEGER),
      value: 'N',
      option: 'timeoutEvents',
      help: 'A query scanning more than N events (an aggregate: N × 100) ends TIMED_OUT with partial rows (default unlimited)',
    },
    'retention-days': {
      type: 'string',
      read: wholeNumber(7, 3653),
      value: 'N',
      option: 'retentionDays',
      help: "The store's RetentionPeriod: events before the UTC day N days ago are gone (default 2557)",
    },
    'billing-mode': { type: 'string', read: word(BILLING_MODES), value: 'MODE', option: 'billingMode', help: `GetEventDataStore's BillingMode: ${BILLING_MODES.join(' or ')} (default the first)` },
    federation: { type: 'boolean', option: 'federation', help: 'GetEventDataStore says FederationStatus ENABLED, with a FederationRoleArn' },
    's3-endpoint-url': {
      type: 'string',
      read: endpointUrl,
      value: 'URL',
      option: 's3EndpointUrl',
      group: 'Delivery to S3',
      help:
        'The S3-compatible endpoint (MinIO, s3rver, LocalStack) that StartQuery\'s DeliveryS3Uri delivers to, path-style, with the AWS SDK\'s default credentials; ' +
        'without it StartQuery refuses DeliveryS3Uri',
    },
    'delivery-delay': { type: 'string', read: milliseconds, value: 'D', option: 'deliveryDelayMs', group: 'Delivery to S3', help: 'How long after a query finishes its delivery starts (default 50ms); DeliveryStatus is PENDING meanwhile' },
    'delivery-file-rows': { type: 'string', read: wholeNumber(1, 100_000_000), value: 'N', option: 'deliveryFileRows', group: 'Delivery to S3', help: 'Rows per result_N.csv.gz file (default 100000)' },
    'signing-key': { type: 'string', value: 'FILE', option: 'signingKey', group: 'Delivery to S3', help: 'RSA private key (PEM) that signs result_sign.json (default a 2048-bit key made at start); ListPublicKeys publishes its public half' },
    'delivery-failure': {
      type: 'string',
      read: word(DELIVERY_FAILURES),
      value: 'STATUS',
      option: 'faults.deliveryFailure',
      group: 'Delivery to S3',
      help: `Make every delivery end with this DeliveryStatus: ${DELIVERY_FAILURES.join(', ')} (the *_SIGNING_FILE ones write the results but no sign file)`,
    },
    'token-key': { type: 'string', value: 'KEY', option: 'tokenKey', help: 'Key of the page tokens (hex or text): emulators with the same key and data accept each other\'s tokens' },
    'throttle-rate': { type: 'string', read: share, value: 'P', option: 'faults.throttleRate', help: 'Share of requests answered ThrottlingException, 0 to 1' },
    'error-rate': { type: 'string', read: share, value: 'P', option: 'faults.serverErrorRate', help: 'Share of requests answered HTTP 500, 0 to 1' },
    'reset-rate': { type: 'string', read: share, value: 'P', option: 'faults.resetRate', help: 'Share of responses cut off by a connection reset, 0 to 1' },
    latency: { type: 'string', read: milliseconds, value: 'D', option: 'faults.latencyMs', help: 'Delay before every answer (e.g. 50ms)' },
    'log-format': {
      type: 'string',
      read: word(['text', 'json'] as const),
      value: 'text|json',
      help: 'stderr as text, or one JSON object per line (default: text on a terminal, json elsewhere; or CTLAKE_LOG_FORMAT)',
    },
    help: { type: 'boolean', short: 'h', help: 'Show this help' },
  },
  footer: `Exit codes: 0 stopped by Ctrl-C or SIGTERM, 1 failure (such as a port in use
or events that cannot be read), 2 usage error.`,
} as const satisfies CommandSpec;

/**
 * `ctlake emulator`: a local CloudTrail Lake on 127.0.0.1 until SIGINT or
 * SIGTERM, which stop it normally (exit 0). Prints its endpoint and event
 * data store ARN on stdout, so that a script can read them.
 */
export async function emulatorCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(EMULATOR_SPEC, args);
  if (values.help) {
    io.stdout.write(commandHelp(EMULATOR_SPEC));
    return EXIT.OK;
  }
  const events = [...(values.events ?? []), ...positionals];
  const storeType = values['store-type'] ?? 'cloudtrail-events';
  const sampled = storeType === 'cloudtrail-events' || storeType === 'integration-events';
  if (!sampled && values.sample) throw usage(`--sample: there are no sample events for --store-type ${storeType}; give its records with --events`);
  const emulator = await startEmulator({
    storeType,
    port: values.port ?? 0,
    region: values.region ?? 'us-east-1',
    sample: values.sample ?? (events.length || !sampled ? 0 : 1000),
    seed: values.seed,
    events,
    queuedMs: values['queued-time'],
    runningMs: values['running-time'],
    maxRunMs: values['max-run-time'],
    retentionMs: values.retention,
    tpsRead: values['tps-read'],
    tpsWrite: values['tps-write'],
    timeoutEvents: values['timeout-events'],
    retentionDays: values['retention-days'],
    billingMode: values['billing-mode'],
    federation: values.federation,
    tokenKey: values['token-key'],
    s3EndpointUrl: values['s3-endpoint-url'],
    deliveryDelayMs: values['delivery-delay'],
    deliveryFileRows: values['delivery-file-rows'],
    signingKey: values['signing-key'] === undefined ? undefined : await readSigningKey(values['signing-key']),
    eventsFrom: values['events-from'] === undefined ? undefined : new Date(values['events-from']),
    eventsTo: values['events-to'] === undefined ? undefined : new Date(values['events-to']),
    unevenDays: values['uneven-days'],
    faults: {
      throttleRate: values['throttle-rate'],
      serverErrorRate: values['error-rate'],
      resetRate: values['reset-rate'],
      latencyMs: values.latency,
      deliveryFailure: values['delivery-failure'],
    },
  });
  io.stdout.write(`endpoint        ${emulator.url}\neventDataStore  ${emulator.eventDataStoreArn}\nstoreType       ${emulator.storeType}\nevents          ${emulator.eventCount}\n`);
  // `live` only keeps Log from starting its interval of export progress lines: the emulator has no pages to report.
  const log = new Log(io.stderr, { format: logFormat(args, io), quiet: false, live: true });
  log.event('emulator-ready', `emulator ready; point a client at it with AWS_ENDPOINT_URL_CLOUDTRAIL=${emulator.url} (any credentials); Ctrl-C stops it`, {
    endpoint: emulator.url,
    eventDataStore: emulator.eventDataStoreArn,
    storeType: emulator.storeType,
    events: emulator.eventCount,
  });
  if (io.signal && !io.signal.aborted) await once(io.signal, 'abort');
  await emulator.close();
  log.event('emulator-stopped', 'emulator stopped');
  log.stop();
  return EXIT.OK;
}

/** An http(s) URL, for --s3-endpoint-url. */
function endpointUrl(text: string, flag: string): string {
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) throw usage(`${flag} must be an http:// or https:// URL such as http://127.0.0.1:9000, not '${text.slice(0, 80)}'`);
  return text;
}

/** The PEM of --signing-key; a usage error when the file cannot be read. */
async function readSigningKey(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw usage(`--signing-key: cannot read ${file.slice(0, 200)} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
