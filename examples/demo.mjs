// `npm run demo`: ctlake's main job, end to end, with no AWS account.
//
// Starts the local CloudTrail Lake emulator with generated sample events,
// runs real SQL on it (StartQuery), and exports the results through ctlake's
// normal export path: waiting for the query, paging GetQueryResults with
// backoff, and writing typed Parquet and NDJSON files atomically under out/.
import { mkdir } from 'node:fs/promises';
import { StartQueryCommand } from '@aws-sdk/client-cloudtrail';
import { createCloudTrailClient, exportQuery, isCtlakeError } from 'ctlake';
import { startEmulator } from 'ctlake/emulator';

const events = Number(process.env.DEMO_EVENTS ?? 50_000);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_ACCESS_KEY_ID ??= 'demo';
process.env.AWS_SECRET_ACCESS_KEY ??= 'demo';

console.error(`demo: starting the emulator with ${events} sample events ...`);
const emulator = await startEmulator({ sample: events, seed: 1, queuedMs: 200, runningMs: 300 });
const client = createCloudTrailClient({ endpointUrl: emulator.url, region: 'us-east-1' });
const eds = emulator.eventDataStoreId;

const jobs = [
  {
    out: 'out/failed-console-logins.ndjson',
    sql: `SELECT eventTime, userIdentity.arn, sourceIPAddress, errorMessage, awsRegion
          FROM ${eds}
          WHERE eventName = 'ConsoleLogin' AND errorMessage IS NOT NULL
          ORDER BY eventTime`,
  },
  {
    out: 'out/calls-by-principal.parquet',
    sql: `SELECT userIdentity.arn, eventSource, count(*) AS calls, count(errorCode) AS errors
          FROM ${eds}
          GROUP BY 1, 2 ORDER BY calls DESC`,
    options: { columns: { calls: 'int64', errors: 'int64' } },
  },
  {
    out: 'out/all-events.parquet',
    sql: `SELECT * FROM ${eds} WHERE eventTime >= '2024-05-01 00:00:00' ORDER BY eventTime`,
    options: { nested: 'json' },
  },
  {
    out: 'out/all-events.ndjson.gz',
    sql: `SELECT * FROM ${eds} WHERE eventTime >= '2024-05-01 00:00:00' ORDER BY eventTime`,
  },
];

try {
  await mkdir('out', { recursive: true });
  for (const job of jobs) {
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: job.sql }));
    const summary = await exportQuery({ queryId: QueryId, out: job.out, client, pollMinMs: 100, ...job.options });
    console.error(
      `demo: ${job.out}: ${summary.rows} rows in ${summary.pages} pages, ${summary.bytes} bytes, ` +
        `${summary.queryStatistics.eventsScanned} events scanned (${summary.queryStatistics.bytesScanned} bytes billed), ${summary.durationMs} ms`,
    );
  }
  console.error("demo: done; try: duckdb -c \"SELECT eventName, count(*) FROM 'out/all-events.parquet' GROUP BY 1 ORDER BY 2 DESC\"");
} catch (error) {
  console.error(isCtlakeError(error) ? `demo: ${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  client.destroy();
  await emulator.close();
}
