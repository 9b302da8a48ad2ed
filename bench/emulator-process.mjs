// The benchmark's CloudTrail Lake: ctlake's emulator in a process of its own,
// started by bench/run.mjs with child_process.fork().
//
// Why a process of its own: the emulator renders every page (JSON.stringify
// of 1,000 wide rows) and serves it over HTTP. In the exporter's process that
// work would share the exporter's event loop and count in its CPU time, so
// the figures would measure the emulator as much as ctlake. Here it runs
// beside the exporter, as a real service would, on loopback.
//
// Contract with the parent, over the IPC channel:
//   argv: --rows N --small-rows M --distinct-rows D [--delivery]
//   → { type: 'ready', url, queries: { full, small }, eventCount, setupMs, delivery? }
//     once both queries can be paged: `full` has N rows, `small` its first M.
//     With --delivery, an S3 server (s3rver, the test suite's S3 server) runs
//     in this process too, on 127.0.0.1 port 0 with one bucket, and the
//     emulator delivers StartQuery's DeliveryS3Uri to it (signed):
//     delivery is { s3Url, bucket, sql, rows }, where sql is the SELECT *
//     behind the queries over the D events and rows its row count (D). It
//     accepts the children's credentials (CHILD_ENV) as well as s3rver's own.
//     Why this process: s3rver's work, like the emulator's, is the service's
//     side, and must not count in the exporter's CPU.
//   ← { type: 'latency', ms }  → { type: 'latency', ms }: from now on every
//     GetQueryResults answer is delayed by ms (the emulator's latencyMs fault);
//     other operations are not delayed.
//   ← { type: 'cpu' }          → { type: 'cpu', usage }: process.cpuUsage()
//     of this process, so the parent can report what the emulator spent.
//   ← { type: 'settle' }       → { type: 'settle' } after a full garbage
//     collection (the parent forks this with --expose-gc). Asked before every
//     case: the emulator's heap holds the rendered rows (hundreds of MB), and
//     a major collection of it stalls every answer for a moment; without the
//     settle such pauses fall on whichever case runs when the heap fills,
//     always the same one in a repeated run.
//   ← { type: 'stats' }        → { type: 'stats', stats }: Emulator.stats(),
//     the requests answered and throttled so far, by operation.
//   ← { type: 'close' }, or the parent going away: close and exit 0.
//
// The migrate case (bench/migrate-run.mjs) starts it with other arguments:
//   argv: --sample N --events-from T --events-to T --latency-ms MS
//         --tps-read R --tps-write W
//   → { type: 'ready', url, eventDataStoreId, eventCount, setupMs }
// N sample events spread unevenly over [T1, T2) (--uneven-days), queried with
// real SQL on DuckDB, Lake's rate limits played by the emulator (a token
// bucket of R, and of W, requests a second), and every answer of every
// operation delayed by MS. The same messages apply, but 'latency' is not used.
// Progress goes to stderr; stdout is not used.
//
// The rows: D generated sample events, queried with real SQL (SELECT * in
// eventTime order, about 30 columns of Lake's Presto text), then served N
// rows long by cycling through those D results as a canned query. Why not
// N distinct events: rendering a million SELECT * rows takes the emulator
// about six minutes and a 5 GB heap, whose garbage collection then slows
// every page it serves, so the floor would measure the emulator's heap more
// than the network path. With the default D of 100,000 the cycle is five
// times a Parquet row group (20,000 rows), so each row group still holds
// distinct rows; `--distinct-rows N` in run.mjs serves all-distinct rows.
import { parseArgs } from 'node:util';
import { StartQueryCommand } from '@aws-sdk/client-cloudtrail';
import { createCloudTrailClient } from '../dist/index.js';
import { queryPages } from '../dist/source/query-pages.js';
import { waitForQuery } from '../dist/source/query-status.js';
import { DEFAULT_RETRY } from '../dist/source/retry.js';
import { startEmulator } from '../dist/emulator/index.js';

/** The bench's S3 server (--delivery): its one bucket, and s3rver's own key, which the emulator delivers with. */
const S3_BUCKET = 'bench';
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    'small-rows': { type: 'string' },
    'distinct-rows': { type: 'string' },
    sample: { type: 'string' },
    'events-from': { type: 'string' },
    'events-to': { type: 'string' },
    'latency-ms': { type: 'string' },
    'tps-read': { type: 'string' },
    'tps-write': { type: 'string' },
    delivery: { type: 'boolean', default: false },
  },
});
if (!process.send) throw new Error('bench/emulator-process.mjs runs under bench/run.mjs (fork with IPC)');

const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const ready = values.sample === undefined ? await startExportLake() : await startMigrateLake();
const { emulator } = ready;

let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  await emulator.close();
  await ready.s3?.close();
  process.exit(0);
}

process.on('message', (message) => {
  if (message.type === 'latency') {
    emulator.setFaults({ latencyMs: message.ms, operations: ['GetQueryResults'] });
    process.send({ type: 'latency', ms: message.ms });
  } else if (message.type === 'settle') {
    globalThis.gc?.();
    process.send({ type: 'settle' });
  } else if (message.type === 'stats') {
    process.send({ type: 'stats', stats: { ...emulator.stats() } });
  } else if (message.type === 'cpu') {
    process.send({ type: 'cpu', usage: process.cpuUsage() });
  } else if (message.type === 'close') {
    void close();
  }
});
process.on('disconnect', () => void close());
process.on('SIGINT', () => void close());

process.send({
  type: 'ready',
  url: emulator.url,
  ...(ready.queries ? { queries: ready.queries } : { eventDataStoreId: ready.eventDataStoreId }),
  ...(ready.delivery ? { delivery: ready.delivery } : {}),
  eventCount: emulator.eventCount,
  setupMs: Math.round(performance.now() - started),
});

/** The export cases' Lake: canned queries cycling through `--distinct-rows` real SELECT * rows. */
async function startExportLake() {
  const rows = Number(values.rows);
  const smallRows = Math.min(Number(values['small-rows']), rows);
  const distinctRows = Math.min(Number(values['distinct-rows']), rows);
  const s3 = values.delivery ? await startS3Server() : undefined;
  console.error(`bench: emulator: generating ${distinctRows.toLocaleString('en-US')} sample events ...`);
  const emulator = await startEmulator({ sample: distinctRows, seed: 1, ...(s3 ? { s3EndpointUrl: s3.url, s3Credentials: S3RVER_CREDENTIALS } : {}) });
  const client = createCloudTrailClient({ endpointUrl: emulator.url, region: 'us-east-1' });

  console.error(`bench: emulator: events loaded at ${seconds()}; running SELECT * ...`);
  const sql = `SELECT * FROM ${emulator.eventDataStoreId} ORDER BY eventTime`;
  const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: sql }));
  const description = await waitForQuery(client, { queryId: QueryId, retry: DEFAULT_RETRY, pollMinMs: 100, pollMaxMs: 1000 });
  const distinct = [];
  for await (const page of queryPages(client, { queryId: QueryId, pageSize: 1000, retry: DEFAULT_RETRY })) distinct.push(...page.rows);
  client.destroy();

  /** The first `count` rows of the endless cycle through `distinct`; rows are shared, not copied. */
  const cycle = (count) => Array.from({ length: count }, (_, i) => distinct[i % distinct.length]);
  const bytesPerRow = (description.QueryStatistics?.BytesScanned ?? 0) / Math.max(1, distinct.length);
  const canned = (count) =>
    emulator.addQuery({ rows: cycle(count), sql, eventsScanned: count, bytesScanned: Math.round(bytesPerRow * count) });
  const full = canned(rows);
  const small = canned(smallRows);
  console.error(`bench: emulator: ${rows.toLocaleString('en-US')} rows ready at ${seconds()}`);
  return { emulator, queries: { full, small }, s3, ...(s3 ? { delivery: { s3Url: s3.url, bucket: S3_BUCKET, sql, rows: distinct.length } } : {}) };
}

/** s3rver on 127.0.0.1 port 0 in a temporary folder, with the bucket S3_BUCKET; the children's credentials accepted. */
async function startS3Server() {
  const [{ default: S3rver }, { default: AWSAccount }, { mkdtemp, rm }, os, path] = await Promise.all([
    import('s3rver'),
    import('s3rver/lib/models/account.js'),
    import('node:fs/promises'),
    import('node:os'),
    import('node:path'),
  ]);
  // ctlake reads the delivery with the default credential chain, which in
  // the case processes is CHILD_ENV's key.
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'ctlake-bench-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: S3_BUCKET, configs: [] }] });
  const address = await server.run();
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The migrate case's Lake: real SQL over uneven sample days, Lake's rate limits, a latency on every answer. */
async function startMigrateLake() {
  const sample = Number(values.sample);
  console.error(`bench: emulator: generating ${sample.toLocaleString('en-US')} sample events ...`);
  const emulator = await startEmulator({
    sample,
    seed: 1,
    eventsFrom: values['events-from'],
    eventsTo: values['events-to'],
    unevenDays: true,
    tpsRead: Number(values['tps-read']),
    tpsWrite: Number(values['tps-write']),
    faults: { latencyMs: Number(values['latency-ms']) },
  });
  console.error(`bench: emulator: ${emulator.eventCount.toLocaleString('en-US')} events loaded at ${seconds()}`);
  return { emulator, eventDataStoreId: emulator.eventDataStoreId };
}
