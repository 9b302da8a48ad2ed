/** The `--help` texts. Keep them true to main.ts and to the README. */
export const MAIN_HELP = `Usage: ctlake <command> [options]

Export AWS CloudTrail Lake query results.

Commands:
  export      Export every row of a query to NDJSON or Parquet: stdout, a file, S3, or a
              partitioned dataset; --window for scheduled runs
  list        List the queries of the last 7 days (filter by status and time)
  describe    Show a query's status, SQL and statistics (BytesScanned, the billed bytes)
  cancel      Cancel a QUEUED or RUNNING query
  backfill    Export a time range as parallel, resumable time-sliced queries
  verify      Check a dataset against its _manifest.json (files, sizes, SHA-256, rows)
  emulator    Run a local CloudTrail Lake (real SQL on sample or your own events)

Options:
  -h, --help     Show this help
  -V, --version  Show the version

Run 'ctlake <command> --help' for a command's options.
Exit codes: 0 success, 1 failure, 2 usage error, 3 the query ended FAILED,
CANCELLED or TIMED_OUT, 4 cancel of a query that had already ended,
5 verify found a dataset that does not match its manifest, 6 nothing to do,
7 some windows or slices failed, 8 another run holds the lock, 130 interrupted.
`;

export const EXPORT_HELP = `Usage: ctlake export (--query-id ID | --sql SQL | --sql-file FILE) --out OUT [options]

Export every row of a CloudTrail Lake query, once and in order. A query still
QUEUED or RUNNING is waited for. A file is written under a temporary name and
renamed only when every row is in and the count matches TotalResultsCount; an
S3 object appears only when its multipart upload completes. A dataset (OUT
ending in /) gets Hive-style partitions, rolled part files, then
_manifest.json, then _SUCCESS; a failed export removes what it wrote.
With --sql or --sql-file, ctlake starts the query itself (waiting for a free
slot when the account already runs 10), and cancels it if interrupted.

Options:
  --query-id ID            The query (a UUID, from StartQuery, the console or ListQueries)
  --sql SQL                Run this SQL (StartQuery) and export its results
  --sql-file FILE|-        Run the SQL in FILE ('-' reads standard input)
  --query-parameter VALUE  A value for the next ? in the SQL; repeatable (up to 10)
  --query-timeout D        Cancel the query if it has not finished after D (90s, 15m, 1h)
                           and exit 3
  -o, --out OUT            '-' for stdout; a file, file://PATH or s3://bucket/key:
                           '.parquet' writes Parquet, else NDJSON ('.gz' compresses
                           NDJSON); a folder or s3://bucket/prefix/ ending in '/'
                           for a dataset (Parquet unless --format)
  --format ndjson|parquet  Override the format chosen from the name
  --compression C          Parquet: zstd (default), snappy, gzip or none;
                           NDJSON: gzip or none (default from the file name)
  --types raw|typed        NDJSON values: the service's strings (raw, default), or
                           numbers, booleans, ISO-8601 timestamps and JSON (typed)
  --column NAME:TYPE       Set a column's type: string, int64, double, boolean,
                           timestamp or json; repeatable. A declared column is in
                           the Parquet schema even when no row has it
  --nested text|json       Struct, map and array columns as Lake's text (default)
                           or as JSON
  --row-group-rows N       Parquet rows per row group; bounds memory (default 20000)
  --partition-by SPEC      Dataset partition level, repeatable: COLUMN (awsregion=...),
                           COLUMN:day|month|hour (eventTime:day gives eventdate=...),
                           or KEY=COLUMN:GRAIN (dt=eventTime:day)
  --max-rows-per-file N    Dataset: start the next part file after N rows
  --max-file-bytes SIZE    Dataset: start the next part once a file reaches SIZE
                           (128MB, 1GiB; Parquet may pass it by one row group)
  --max-open-files N       Dataset: files open at once, whatever the number of
                           partitions (default 8)
  --s3-endpoint-url URL    An S3-compatible store (MinIO, Ceph, R2)
                           (default: AWS_ENDPOINT_URL_S3)
  --s3-force-path-style    Path-style S3 addressing, which most such stores need
  --s3-part-size SIZE      Multipart part size (default 8MiB, at least 5MiB); memory
                           per open S3 file is at most part size x queue size
  --s3-queue-size N        Parts uploaded at once per file (default 4)
  --sse AES256|aws:kms     Server-side encryption of every object
  --sse-kms-key-id KEY     The KMS key for --sse aws:kms
  --storage-class CLASS    S3 storage class (STANDARD_IA, INTELLIGENT_TIERING, ...)
  --event-data-store ARN   The event data store's ARN or id (optional)
  --page-size N            Rows per GetQueryResults call, 1 to 1000 (default 1000)
  --region REGION          AWS region (default: AWS_REGION, then the profile's)
  --profile NAME           AWS profile (default: AWS_PROFILE, then 'default')
  --endpoint-url URL       CloudTrail endpoint, e.g. a local emulator
                           (default: AWS_ENDPOINT_URL_CLOUDTRAIL, then AWS_ENDPOINT_URL)
  --summary-json FILE      Also write the summary (rows, bytes, files, schema, query
                           statistics, estimated cost) as JSON to FILE (whole, by
                           a rename; checked for writing before the query starts)
  --price-per-gb USD       Price per GB scanned for the cost estimate (default 0.005,
                           CloudTrail Lake's on-demand price in US East)
  --log-format text|json   stderr as text, or one JSON object per line (default: text
                           on a terminal, json elsewhere; or CTLAKE_LOG_FORMAT)
  -q, --quiet              Only errors on stderr
  -h, --help               Show this help

Scheduled runs (with --sql or --sql-file holding {{start}} and {{end}}, and a
dataset --out):
  --window D               Export every whole window of D (15m, 1h, 1d; 1m to 366d)
                           that has closed since the last run, oldest first, each
                           its own query and files; a rerun never duplicates a window
  --lag D                  Leave a window alone until D after its end (late events;
                           at most 30d)
  --since T                Where the first window starts, while the state is empty
                           (1970 to 9999, not later than now)
  --state FILE|s3://B/K    What is exported so far; a lock FILE.lock keeps a second
                           run out (exit 8). S3 uses conditional writes
  --now T                  Use T as the current time (replays, tests)
  --lock-lease D           How long the lock holds without renewal, 30s to 1d
                           (default 10m); it is renewed every third of it
  --max-windows N          Export at most N windows per run, oldest first (default
                           1000); a warning says how many remain, and the next run
                           continues. More than 1000000 closed windows is refused
                           (exit 2): check --since and --window
  Exit codes: 0 windows exported (also when more remain for the next run),
  6 nothing to do, 7 some exported then one failed (the next run retries it),
  8 another run holds the lock, or took it over from this run.

On a terminal, progress is a live line on stderr (rows of TotalResultsCount,
pages, rows/s, ETA, bytes written); elsewhere a progress line every 10 s.

Exit codes: 0 success (also when the reader of stdout goes away), 1 failure,
2 usage error (bad options, SQL the service refuses), 3 the query ended FAILED,
CANCELLED or TIMED_OUT (or --query-timeout passed), 130 interrupted.
`;

export const EMULATOR_HELP = `Usage: ctlake emulator [options] [--events] [FILE|DIR ...]

A local CloudTrail Lake on 127.0.0.1 for any AWS client (the JS SDK, boto3,
the AWS CLI with --endpoint-url). It speaks CloudTrail's JSON protocol for
StartQuery, DescribeQuery, GetQueryResults, CancelQuery, ListQueries,
ListEventDataStores and GetEventDataStore, and runs the SQL on DuckDB (the
optional dependency @duckdb/node-api). It prints its endpoint and event data
store ARN on stdout, and runs until Ctrl-C (exit 0). Signatures are not
checked: any credentials work.

Options:
  -p, --port N           Port on 127.0.0.1; 0 picks a free one (default 0)
  --events FILE|DIR      CloudTrail log files as trails write them ({"Records": [...]},
                         .json or .json.gz), NDJSON of events (.ndjson, .jsonl, .gz),
                         or directories of them; repeatable, and bare FILE arguments count too
  --sample N             Generate N sample events (default 1000 when no --events)
  --seed S               Seed of the sample generator (default 1): same seed, same events
  --region REGION        Region in the event data store ARN (default us-east-1)
  --queued-time D        How long a started query stays QUEUED (default 0; e.g. 500ms, 2s)
  --running-time D       Least time a started query stays RUNNING (default 0)
  --max-run-time D       Run-time limit before TIMED_OUT (default 1h)
  --retention D          How long results are kept (default 7d)
  --throttle-rate P      Share of requests answered ThrottlingException, 0 to 1
  --error-rate P         Share of requests answered HTTP 500, 0 to 1
  --reset-rate P         Share of responses cut off by a connection reset, 0 to 1
  --latency D            Delay before every answer (e.g. 50ms)
  -h, --help             Show this help
`;

export const BACKFILL_HELP = `Usage: ctlake backfill (--sql SQL | --sql-file FILE) --from T --to T --slice D --out DATASET/ [options]

Export [--from, --to) as slices of --slice, each its own query and its own files
in the dataset, --concurrency queries at a time (never more than 10, CloudTrail
Lake's limit per account; a full account is waited for). The SQL must hold
{{start}} and {{end}}, rendered as '2025-01-01 00:00:00' (UTC):
  WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'
With --state, each finished slice is recorded as it ends: a rerun skips the
slices done and retries the others. A slice's files are named by the slice, so
a slice exported again replaces its files and never duplicates them.

Options:
  --from T                 Start of the range, included (2025-01-01T00:00:00Z)
  --to T                   End of the range, not included
  --slice D                Length of each slice (6h, 1d, 7d; 1m to 366d); the last
                           ends at --to
  --concurrency N          Slices at once, 1 to 10 (default 4)
  --max-slices N           Export at most N slices per run, oldest first among those
                           not done (default 1000); the next run continues. A range
                           of more than 100000 slices is refused (exit 2)
  --state FILE|s3://B/K    Where finished slices are recorded; a lock FILE.lock beside
                           it keeps a second run of the same job out
  --lock-lease D           How long the lock holds without renewal, 30s to 1d
                           (default 10m); it is renewed every third of it
  --out DATASET/           A folder or s3://bucket/prefix/ (required)
  --summary-json FILE      Write each slice with its rows, BytesScanned and status
                           (checked for writing before any query)

Every option of ctlake export that shapes the output or the connection applies
too (--format, --partition-by, --max-rows-per-file, --s3-*, --region, ...); see
ctlake export --help.

Exit codes: 0 every slice tried exported (more may remain for the next run),
6 nothing to do (all done before), 7 some slices failed (rerun to retry them),
8 another run holds the lock or took it over, 1 every slice tried failed,
2 usage error or an unusable state or lock file, 130 interrupted (finished
slices stay recorded).
`;
