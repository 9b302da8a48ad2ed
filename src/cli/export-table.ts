import { LAKE_STORE_TYPES } from '../lake-model.js';
import { MAX_LAG_MS, MAX_WINDOW_MS } from '../jobs/time-windows.js';
import { bytes, columnType, dollars, durationWithin, milliseconds, utcTime, wholeNumber, word } from './flag-readers.js';
import { AWS_FLAGS } from './aws-flags.js';
import type { CommandSpec, FlagSpec } from './flag-table.js';

/**
 * The shortest --lock-lease: renewals come every third of it, and other
 * hosts judge its end by their own clocks, so a shorter lease lets a
 * slow renewal or a clock a few seconds off hand a live run's lock to a
 * second run. (The library accepts 3 s, for tests; see MIN_LOCK_LEASE_MS.)
 */
export const MIN_CLI_LOCK_LEASE_MS = 30_000;

/**
 * The flag tables of `ctlake export` (with its `--window` job flags) and
 * `ctlake backfill`: every flag's type, placeholder, help text and the
 * library option it sets, declared once. Parsing and `--help` are generated
 * from them (flag-table.ts), and so is each value's check (`read`, from
 * flag-readers.ts). Checks across flags (--compression for the --format,
 * --types for NDJSON only) and the turning of values into library options are
 * export-settings.ts's and job-commands.ts's. A module of its own that loads
 * no export code, so that a table is cheap to read.
 */

/** `--log-format`, `--quiet` and `--help`, as every export-like command has them. */
const LOG_FLAGS = {
  'log-format': {
    type: 'string',
    read: word(['text', 'json'] as const),
    value: 'text|json',
    help: 'stderr as text, or one JSON object per line (default: text on a terminal, json elsewhere; or CTLAKE_LOG_FORMAT)',
  },
  quiet: { type: 'boolean', short: 'q', help: 'Only errors on stderr' },
  help: { type: 'boolean', short: 'h', help: 'Show this help' },
} as const satisfies Record<string, FlagSpec>;

/** Where the rows come from, how they are shaped and where they go: shared by export and backfill. */
const OUTPUT_FLAGS = {
  out: {
    type: 'string',
    short: 'o',
    value: 'OUT',
    option: 'out',
    help:
      "'-' for stdout; a file, file://PATH or s3://bucket/key: '.parquet' writes Parquet, else NDJSON ('.gz' compresses NDJSON); " +
      "a folder or s3://bucket/prefix/ ending in '/' for a dataset (Parquet unless --format)",
  },
  format: { type: 'string', read: word(['ndjson', 'parquet'] as const), value: 'ndjson|parquet', option: 'format', help: 'Override the format chosen from the name' },
  compression: {
    type: 'string',
    value: 'C',
    option: 'compression',
    help: 'Parquet: zstd (default), snappy, gzip or none; NDJSON: gzip or none (default from the file name)',
  },
  types: {
    type: 'string',
    read: word(['raw', 'typed'] as const),
    value: 'raw|typed',
    option: 'types',
    help: "NDJSON values: the service's strings (raw, default), or numbers, booleans, ISO-8601 timestamps and JSON (typed)",
  },
  column: {
    type: 'string',
    multiple: true,
    read: columnType,
    value: 'NAME:TYPE',
    option: 'columns',
    help:
      "Set a column's type: string, int64, double, boolean, timestamp or json; repeatable. " +
      'A declared column is in the Parquet schema even when no row has it',
  },
  nested: {
    type: 'string',
    read: word(['typed', 'text', 'json'] as const),
    value: 'typed|text|json',
    option: 'nested',
    help: "Struct, map and array columns: typed (default: Parquet STRUCT, MAP, LIST with the published field types), Lake's text, or JSON text",
  },
  'store-type': {
    type: 'string',
    read: word(LAKE_STORE_TYPES),
    value: 'TYPE',
    option: 'storeType',
    help: `The published schema that types SELECT * and named fields: ${LAKE_STORE_TYPES.join(', ')} (default: read from the store's event selectors)`,
  },
  'row-group-rows': { type: 'string', read: wholeNumber(1, 10_000_000), value: 'N', option: 'rowGroupRows', help: 'Parquet rows per row group; bounds memory (default 20000)' },
  'partition-by': {
    type: 'string',
    multiple: true,
    value: 'SPEC',
    option: 'partitionBy',
    help: 'Dataset partition level, repeatable: COLUMN (awsRegion gives awsregion_part=...), COLUMN:day|month|hour (eventTime:day gives eventdate=...), or KEY=COLUMN:GRAIN (dt=eventTime:day)',
  },
  'max-rows-per-file': { type: 'string', read: wholeNumber(1, Number.MAX_SAFE_INTEGER), value: 'N', option: 'maxRowsPerFile', help: 'Dataset: start the next part file after N rows' },
  'max-file-bytes': {
    type: 'string',
    read: bytes(),
    value: 'SIZE',
    option: 'maxFileBytes',
    help: 'Dataset: start the next part once a file reaches SIZE (128MB, 1GiB; Parquet may pass it by one row group)',
  },
  'max-open-files': {
    type: 'string',
    read: wholeNumber(1, 1000),
    value: 'N',
    option: 'maxOpenFiles',
    help: 'Dataset: files open at once, whatever the number of partitions (default 8)',
  },
  's3-endpoint-url': { type: 'string', value: 'URL', option: 's3EndpointUrl', help: 'An S3-compatible store (MinIO, Ceph, R2) (default: AWS_ENDPOINT_URL_S3)' },
  's3-force-path-style': { type: 'boolean', option: 's3ForcePathStyle', help: 'Path-style S3 addressing, which most such stores need' },
  's3-part-size': {
    type: 'string',
    read: bytes(5 * 1024 * 1024),
    value: 'SIZE',
    option: 's3PartSizeBytes',
    help: 'Multipart part size (default 8MiB, at least 5MiB); memory per open S3 file is at most part size x queue size',
  },
  's3-queue-size': { type: 'string', read: wholeNumber(1, 64), value: 'N', option: 's3QueueSize', help: 'Parts uploaded at once per file (default 4)' },
  sse: { type: 'string', read: word(['AES256', 'aws:kms'] as const), value: 'AES256|aws:kms', option: 'sse', help: 'Server-side encryption of every object' },
  'sse-kms-key-id': { type: 'string', value: 'KEY', option: 'sseKmsKeyId', help: 'The KMS key for --sse aws:kms' },
  'storage-class': { type: 'string', value: 'CLASS', option: 'storageClass', help: 'S3 storage class (STANDARD_IA, INTELLIGENT_TIERING, ...)' },
} as const satisfies Record<string, FlagSpec>;

/** The connection to CloudTrail Lake. */
const LAKE_FLAGS = {
  'event-data-store': { type: 'string', value: 'ARN', option: 'eventDataStore', help: "The event data store's ARN or id (optional)" },
  'page-size': { type: 'string', read: wholeNumber(1, 1000), value: 'N', option: 'pageSize', help: 'Rows per GetQueryResults call, 1 to 1000 (default 1000)' },
  'delivery-s3-uri': {
    type: 'string',
    value: 's3://B/P',
    option: 'deliveryS3Uri',
    help: 'With --sql: Lake also delivers the results there as signed gzip CSV; ctlake waits for the delivery, verifies result_sign.json, and checks it holds as many rows (recorded in the summary and manifest)',
  },
  via: {
    type: 'string',
    read: word(['pages', 'delivery'] as const),
    value: 'pages|delivery',
    option: 'via',
    help: 'Read the rows from GetQueryResults pages (default) or, with --delivery-s3-uri, from the delivered files once their signature verified',
  },
  ...AWS_FLAGS,
  'request-deadline': {
    type: 'string',
    read: durationWithin(1, 86_400_000, '1ms to 1d'),
    value: 'D',
    option: 'requestDeadlineMs',
    help: 'Longest one CloudTrail request may take, answer included; past it the request is retried as a timeout (default 120s)',
  },
} as const satisfies Record<string, FlagSpec>;

const COST_FLAGS = {
  'summary-json': {
    type: 'string',
    value: 'FILE',
    help: 'Also write the summary (rows, bytes, files, schema, query statistics, estimated cost) as JSON to FILE (whole, by a rename; checked for writing before the query starts)',
  },
  'price-per-gb': {
    type: 'string',
    read: dollars,
    value: 'USD',
    help: "Price per GB scanned for the cost estimate (default 0.005, CloudTrail Lake's on-demand price in US East)",
  },
} as const satisfies Record<string, FlagSpec>;

const WINDOWS = 'Scheduled runs (with --sql or --sql-file holding {{start}} and {{end}}, and a dataset --out)';

/** The flags of `export --window` (and, for its refusals, of backfill). */
const WINDOW_FLAGS = {
  window: {
    type: 'string',
    read: durationWithin(60_000, MAX_WINDOW_MS, '1m to 366d'),
    value: 'D',
    option: 'windowMs',
    group: WINDOWS,
    help: 'Export every whole window of D (15m, 1h, 1d; 1m to 366d) that has closed since the last run, oldest first, each its own query and files; a rerun never duplicates a window',
  },
  lag: { type: 'string', read: durationWithin(0, MAX_LAG_MS, '0 to 30d'), value: 'D', option: 'lagMs', group: WINDOWS, help: 'Leave a window alone until D after its end (late events; at most 30d)' },
  since: {
    type: 'string',
    read: utcTime,
    value: 'T',
    option: 'since',
    group: WINDOWS,
    help: 'Where the first window starts, while the state is empty (1970 to 9999, not later than now)',
  },
  state: {
    type: 'string',
    value: 'FILE|s3://B/K',
    option: 'state',
    group: WINDOWS,
    help: 'What is exported so far; a lock FILE.lock keeps a second run out (exit 8). S3 uses conditional writes',
  },
  now: { type: 'string', read: utcTime, value: 'T', option: 'now', group: WINDOWS, help: 'Use T as the current time (replays, tests)' },
  'lock-lease': {
    type: 'string',
    read: durationWithin(MIN_CLI_LOCK_LEASE_MS, 86_400_000, '30s to 1d', ' (the lock is renewed every third of it)'),
    value: 'D',
    option: 'lockLeaseMs',
    group: WINDOWS,
    help: 'How long the lock holds without renewal, 30s to 1d (default 10m); it is renewed every third of it',
  },
  'max-windows': {
    type: 'string',
    value: 'N',
    option: 'maxWindows',
    group: WINDOWS,
    help:
      'Export at most N windows per run, oldest first (default 1000); a warning says how many remain, and the next run continues. ' +
      'More than 1000000 closed windows is refused (exit 2): check --since and --window',
  },
} as const satisfies Record<string, FlagSpec>;

/** The flags that go with --window only, as export refuses them without it. */
export const WINDOW_ONLY_FLAGS = Object.keys(WINDOW_FLAGS).filter((name) => name !== 'window') as Array<Exclude<keyof typeof WINDOW_FLAGS, 'window'>>;

export const EXPORT_FLAGS = {
  'query-id': { type: 'string', value: 'ID', option: 'queryId', help: 'The query (a UUID, from StartQuery, the console or ListQueries)' },
  sql: { type: 'string', value: 'SQL', option: ['sql', 'sqlTemplate'], help: 'Run this SQL (StartQuery) and export its results' },
  'sql-file': { type: 'string', value: 'FILE|-', option: ['sql', 'sqlTemplate'], help: "Run the SQL in FILE ('-' reads standard input)" },
  'query-parameter': {
    type: 'string',
    multiple: true,
    value: 'VALUE',
    option: 'queryParameters',
    help: 'A value for the next ? in the SQL; repeatable (up to 10)',
  },
  'query-timeout': {
    type: 'string',
    read: milliseconds,
    value: 'D',
    option: 'queryTimeoutMs',
    help: 'Cancel the query if it has not finished after D (90s, 15m, 1h) and exit 3',
  },
  ...OUTPUT_FLAGS,
  ...LAKE_FLAGS,
  ...COST_FLAGS,
  ...LOG_FLAGS,
  ...WINDOW_FLAGS,
} as const satisfies Record<string, FlagSpec>;

export const EXPORT_SPEC = {
  name: 'export',
  usage: 'export (--query-id ID | --sql SQL | --sql-file FILE) --out OUT [options]',
  description: `Export every row of a CloudTrail Lake query, once and in order. A query still
QUEUED or RUNNING is waited for. A file is written under a temporary name and
renamed only when every row is in and the count matches TotalResultsCount; an
S3 object appears only when its multipart upload completes. A dataset (OUT
ending in /) gets Hive-style partitions, rolled part files, then
_manifest.json, then _SUCCESS; a failed export removes what it wrote.
With --sql or --sql-file, ctlake starts the query itself (waiting for a free
slot when the account already runs 10), and cancels it if interrupted.`,
  flags: EXPORT_FLAGS,
  footer: `On a terminal, progress is drawn on stderr: a spinner while the query waits,
then a bar of TotalResultsCount with rows/s, bytes written and an ETA (nothing
is drawn when stdout is the same terminal); elsewhere a JSON line every 10 s.

Exit codes: 0 success (also when the reader of stdout goes away), 1 failure,
2 usage error (bad options, SQL the service refuses), 3 the query ended FAILED,
CANCELLED or TIMED_OUT (or --query-timeout passed), 9 the schema does not hold
(a column the SQL did not announce, a dataset of another schema), 130
interrupted.
With --window: 0 windows exported (also when more remain for the next run),
6 nothing to do, 7 some exported then one failed (the next run retries it),
8 another run holds the lock, or took it over from this run.`,
} as const satisfies CommandSpec;

/** The flags of backfill's own --help, in their order there. */
const BACKFILL_OWN = {
  sql: EXPORT_FLAGS.sql,
  'sql-file': EXPORT_FLAGS['sql-file'],
  from: { type: 'string', read: utcTime, value: 'T', option: 'from', help: 'Start of the range, included (2025-01-01T00:00:00Z)' },
  to: { type: 'string', read: utcTime, value: 'T', option: 'to', help: 'End of the range, not included' },
  slice: { type: 'string', read: durationWithin(60_000, MAX_WINDOW_MS, '1m to 366d'), value: 'D', option: 'sliceMs', help: 'Length of each slice (6h, 1d, 7d; 1m to 366d); the last ends at --to' },
  concurrency: { type: 'string', read: wholeNumber(1, 10), value: 'N', option: 'concurrency', help: 'Slices at once, 1 to 10 (default 4)' },
  'max-slices': {
    type: 'string',
    value: 'N',
    option: 'maxSlices',
    help: 'Export at most N slices per run, oldest first among those not done (default 1000); the next run continues. A range of more than 100000 slices is refused (exit 2)',
  },
  state: {
    type: 'string',
    value: 'FILE|s3://B/K',
    option: 'state',
    help: 'Where finished slices are recorded; a lock FILE.lock beside it keeps a second run of the same job out',
  },
  'lock-lease': { ...WINDOW_FLAGS['lock-lease'], group: undefined },
  out: { ...OUTPUT_FLAGS.out, value: 'DATASET/', help: 'A folder or s3://bucket/prefix/ (required)' },
  'summary-json': {
    ...COST_FLAGS['summary-json'],
    help: 'Write each slice with its rows, BytesScanned and status (checked for writing before any query)',
  },
  help: LOG_FLAGS.help,
} as const satisfies Record<string, FlagSpec>;

type Hidden<T, S> = { [K in Exclude<keyof T, keyof S>]: T[K] & { hidden: true } };

/** The flags of `flags` that `shown` does not redeclare, hidden from --help; parsed all the same. */
export function hiddenBesides<T extends Record<string, FlagSpec>, S extends Record<string, FlagSpec>>(flags: T, shown: S): Hidden<T, S> {
  return Object.fromEntries(Object.entries(flags).filter(([name]) => !Object.hasOwn(shown, name)).map(([name, flag]) => [name, { ...flag, hidden: true }])) as Hidden<T, S>;
}

/**
 * Backfill takes every export flag: those that shape the output or the
 * connection apply (its --help points at export's for them), and the others
 * (--query-id, the --window flags) are read only to be refused with a
 * pointer to what a backfill takes instead (job-commands.ts).
 */
export const BACKFILL_FLAGS = { ...BACKFILL_OWN, ...hiddenBesides(EXPORT_FLAGS, BACKFILL_OWN) } as const satisfies Record<string, FlagSpec>;

export const BACKFILL_SPEC = {
  name: 'backfill',
  usage: 'backfill (--sql SQL | --sql-file FILE) --from T --to T --slice D --out DATASET/ [options]',
  description: `Export [--from, --to) as slices of --slice, each its own query and its own files
in the dataset, --concurrency queries at a time (never more than 10, CloudTrail
Lake's limit per account; a full account is waited for). The SQL must hold
{{start}} and {{end}}, rendered as '2025-01-01 00:00:00' (UTC):
  WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'
With --state, each finished slice is recorded as it ends: a rerun skips the
slices done and retries the others. A slice's files are named by the slice, so
a slice exported again replaces its files and never duplicates them.`,
  flags: BACKFILL_FLAGS,
  footer: `Every option of ctlake export that shapes the output or the connection applies
too (--format, --partition-by, --max-rows-per-file, --s3-*, --region,
--request-deadline, ...); see ctlake export --help.

Exit codes: 0 every slice tried exported (more may remain for the next run),
6 nothing to do (all done before), 7 some slices failed (rerun to retry them),
8 another run holds the lock or took it over, 1 every slice tried failed,
2 usage error or an unusable state or lock file, 130 interrupted (finished
slices stay recorded).`,
} as const satisfies CommandSpec;
