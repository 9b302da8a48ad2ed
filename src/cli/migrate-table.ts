import { durationWithin, perSecond, utcTime, wholeNumber } from './flag-readers.js';
import { BACKFILL_FLAGS, EXPORT_FLAGS, hiddenBesides } from './export-table.js';
import type { CommandSpec, FlagSpec } from './flag-table.js';

/** The flags of migrate's own --help, in their order there. */
const MIGRATE_OWN = {
  'event-data-store': { type: 'string', value: 'ARN|ID', option: 'eventDataStore', help: 'The event data store to migrate (required)' },
  out: { ...BACKFILL_FLAGS.out, help: 'The dataset: a folder or s3://bucket/prefix/ (required)' },
  state: {
    type: 'string',
    value: 'FILE|s3://B/K',
    option: 'state',
    help: 'The plan, each slice, its query and checkpoint, and the reconciliation; a lock FILE.lock beside it keeps a second run out. Without it nothing is resumable',
  },
  from: { type: 'string', read: utcTime, value: 'T', option: 'from', help: 'Start of the range, included (default: the oldest day the store keeps, today − its retention)' },
  to: { type: 'string', read: utcTime, value: 'T', option: 'to', help: 'End of the range, not included (default: the start of today, UTC)' },
  'sql-file': { ...EXPORT_FLAGS['sql-file'], help: "Each slice's SQL, with {{start}} and {{end}} (default: SELECT * FROM <store> WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}')" },
  sql: { ...EXPORT_FLAGS.sql, help: 'The SQL inline, as --sql-file' },
  plan: { type: 'boolean', option: 'planOnly', help: 'Read the store, count its events per day, print the plan and stop (with --json: as JSON on stdout)' },
  json: { type: 'boolean', help: 'With --plan: the plan as JSON on stdout' },
  concurrency: { type: 'string', read: wholeNumber(1, 10), value: 'N', option: 'concurrency', help: 'Slices at once, 1 to 10 (default 4; the account has 10 query slots)' },
  'tps-read': { type: 'string', read: perSecond, value: 'N', option: 'readTps', help: 'GetQueryResults, DescribeQuery, ListQueries and GetEventDataStore calls a second, all slices together (default 10, the published limit)' },
  'tps-write': { type: 'string', read: perSecond, value: 'N', option: 'writeTps', help: 'StartQuery and CancelQuery calls a second (default 1, the published limit)' },
  'slice-events': { type: 'string', read: wholeNumber(1, 1_000_000_000), value: 'N', option: 'targetEventsPerSlice', help: 'Events a slice aims at (default 2000000): quiet days are merged, busy ones cut' },
  'min-slice': {
    type: 'string',
    read: durationWithin(60_000, 86_400_000, '1m to 1d'),
    value: 'D',
    option: 'minSliceMs',
    help: 'A slice that ends TIMED_OUT is split in two, down to this length (default 1m)',
  },
  'checkpoint-rows': {
    type: 'string',
    read: wholeNumber(1, Number.MAX_SAFE_INTEGER),
    value: 'N',
    option: 'checkpointRows',
    help: "Commit a slice's open files and record its checkpoint every N rows (default 100000)",
  },
  'max-slices': { type: 'string', read: wholeNumber(1, 100_000), value: 'N', option: 'maxSlices', help: 'Export at most N slices per run, oldest first (default 1000)' },
  'lock-lease': BACKFILL_FLAGS['lock-lease'],
  'summary-json': { ...BACKFILL_FLAGS['summary-json'], help: 'Write the run summary as JSON (checked for writing before any query)' },
  help: BACKFILL_FLAGS.help,
} as const satisfies Record<string, FlagSpec>;

/** Migrate takes every export flag that shapes the output or the connection, as backfill does. */
export const MIGRATE_FLAGS = { ...MIGRATE_OWN, ...hiddenBesides(EXPORT_FLAGS, MIGRATE_OWN) } as const satisfies Record<string, FlagSpec>;

export const MIGRATE_SPEC = {
  name: 'migrate',
  usage: 'migrate --event-data-store ARN|ID --out DATASET/ --state FILE|s3://B/K [--from T] [--to T] [--plan [--json]] [options]',
  description: `Move a whole event data store into a dataset. The plan counts the store's
events per day with cheap aggregate queries and cuts [--from, --to) into
slices of about --slice-events events, oldest first (retention deletes the
oldest days first). Slices run --concurrency at a time through one rate
limiter for every call (--tps-read, --tps-write). A slice that ends TIMED_OUT
is split in two and retried; its partial rows are never committed. Each slice
records its query and, every --checkpoint-rows rows, its NextToken: a killed
run resumes those slices from their last committed part file, on the same
query, without paying for it again. Once every slice is done, Lake's per-day
counts are compared with the rows committed (reconciliation).`,
  flags: MIGRATE_FLAGS,
  footer: `Every option of ctlake export that shapes the output or the connection applies
too (--format, --partition-by, --max-rows-per-file, --s3-*, --sse, --column,
--region, ...); see ctlake export --help.

Exit codes: 0 every slice exported and reconciled (or the plan printed),
6 nothing to do (all done and reconciled before), 7 some slices failed or
remain (rerun), 8 another run holds the lock, 10 reconciliation found days
whose counts differ (the next run exports their slices again), 1 every slice
tried failed, 2 usage error or an unusable state, 130 interrupted (the slices
done and the checkpoints of those in flight stay recorded).`,
} as const satisfies CommandSpec;
