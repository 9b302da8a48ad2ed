// Export a query's rows with the library API, then read them as a stream.
//
// Runs as it is, with no AWS account: it starts ctlake's local emulator with a
// canned result set. Against AWS, drop the emulator and the endpointUrl and
// pass the QueryId of a real query (credentials and region come from the
// usual AWS chain: AWS_PROFILE, AWS_REGION, ...).
//
//   npm ci && node examples/library-export.mjs
import { createCloudTrailClient, createRowStream, exportQuery, isCtlakeError } from 'ctlake';
import { startEmulator } from 'ctlake/emulator';

const queryId = '0a1b2c3d-0000-4000-8000-123456789abc';
const rows = Array.from({ length: 2500 }, (_, i) => [
  { eventTime: `2024-05-01 00:00:${String(i % 60).padStart(2, '0')}.000` },
  { eventName: i % 2 ? 'AssumeRole' : 'ConsoleLogin' },
  { arn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice' },
  { arn: 'arn:aws:iam::123456789012:role/Admin' },
]);
const emulator = await startEmulator({ queries: [{ queryId, rows }] });
process.env.AWS_ACCESS_KEY_ID ??= 'emulator';
process.env.AWS_SECRET_ACCESS_KEY ??= 'emulator';

try {
  // 1. To a file: written under a temporary name, renamed when complete.
  const summary = await exportQuery({ queryId, out: 'out/example.ndjson.gz', endpointUrl: emulator.url, region: 'us-east-1' });
  console.error(`exported ${summary.rows} rows in ${summary.pages} pages to ${summary.files[0]} (${summary.bytes} bytes)`);

  // 2. As a stream of records, with backpressure: the fetch waits for the loop.
  const client = createCloudTrailClient({ endpointUrl: emulator.url, region: 'us-east-1' });
  const logins = new Map();
  for await (const record of createRowStream(client, { queryId })) {
    if (record.eventName === 'ConsoleLogin') logins.set(record.arn, (logins.get(record.arn) ?? 0) + 1);
  }
  client.destroy();
  console.error('console logins by principal:', Object.fromEntries(logins));
} catch (error) {
  // Every failure is a CtlakeError with a code (QUERY_FAILED, THROTTLED, ...).
  console.error(isCtlakeError(error) ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await emulator.close();
}
