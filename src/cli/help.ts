/** The `--help` texts. Keep them true to main.ts and to the README. */
export const MAIN_HELP = `Usage: ctlake <command> [options]

Export AWS CloudTrail Lake query results.

Commands:
  export      Export every row of a query to NDJSON, on stdout or in a file

Options:
  -h, --help     Show this help
  -V, --version  Show the version

Run 'ctlake <command> --help' for a command's options.
Exit codes: 0 success, 1 failure, 2 usage error, 3 the query ended FAILED,
CANCELLED or TIMED_OUT, 130 interrupted.
`;

export const EXPORT_HELP = `Usage: ctlake export --query-id ID --out PATH|- [options]

Export every row of a CloudTrail Lake query, once and in order. A query still
QUEUED or RUNNING is waited for. A file is written under a temporary name and
renamed only when every row is in and the count matches TotalResultsCount.

Options:
  --query-id ID            The query (a UUID, from StartQuery, the console or ListQueries)
  -o, --out PATH|-         '-' for NDJSON on stdout, or a file; '.gz' compresses it
  --compression gzip|none  Override the compression chosen from the file name
  --event-data-store ARN   The event data store's ARN or id (optional)
  --page-size N            Rows per GetQueryResults call, 1 to 1000 (default 1000)
  --region REGION          AWS region (default: AWS_REGION, then the profile's)
  --profile NAME           AWS profile (default: AWS_PROFILE, then 'default')
  --endpoint-url URL       CloudTrail endpoint, e.g. a local emulator
                           (default: AWS_ENDPOINT_URL_CLOUDTRAIL, then AWS_ENDPOINT_URL)
  -q, --quiet              No summary and no retry messages on stderr
  -h, --help               Show this help

Exit codes: 0 success (also when the reader of stdout goes away), 1 failure,
2 usage error, 3 the query ended FAILED, CANCELLED or TIMED_OUT, 130 interrupted.
`;
