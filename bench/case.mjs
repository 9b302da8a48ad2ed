// One benchmark case in a fresh Node process: `node bench/case.mjs --case C
// --url URL --query-id ID --dir DIR --rows N`, started by bench/run.mjs.
//
// Cases:
//   raw         the raw floor (bench/raw-pages.mjs): every page by bare
//               keep-alive HTTP POST, no SDK, no signing, JSON.parse'd and
//               dropped: the wire's limit.
//   floor       every page fetched with the real SDK through queryPages (no
//               read-ahead, as the exporter's own fetching is one request at a
//               time) and thrown away: what fetching through the SDK costs.
//   ndjson      exportQuery to DIR/out.ndjson
//   ndjson.gz   exportQuery to DIR/out.ndjson.gz (gzip level 6)
//   parquet     exportQuery to DIR/out.parquet (zstd, 20,000-row groups)
//   paged       exportQuery({ sql: --sql }) to DIR/out.parquet: the query
//               started, waited for and paged, as `ctlake export --sql`
//   delivery    the same SQL with deliveryS3Uri s3://--bucket/bench and
//               via 'delivery' to DIR/out.parquet: the emulator delivers and
//               signs to the bench's S3 server (--s3-url), ctlake verifies the
//               delivery and reads its CSV files into Parquet
// Every export uses exportQuery's defaults apart from the file name, so the
// figures are those of `ctlake export --query-id ID --out FILE` (and of
// `ctlake export --sql SQL [--delivery-s3-uri URI --via delivery]`). Every
// case, the floors included, runs with the ctlake process's heap growing
// factor (src/cli/heap-growth.ts), as the CLI sets it at start-up.
//
// Contract: on success the only thing on stdout is one JSON line,
//   { case, rows, pages, bytes, wallMs, cpuUserMs, cpuSystemMs, maxRssKiB, processCpuMs,
//     firstByteMs, phases?, liveHeapKiB, liveExternalKiB }
// firstByteMs is the time to the first data byte at the destination (see
// bench/first-byte.mjs), or for the floors, which write nothing, to the first
// page parsed. For paged and delivery, phases is { queryMs, deliveryMs }:
// from the start to the first DescribeQuery answer that says FINISHED, and
// from there to the first that says DeliveryStatus SUCCESS (delivery only),
// seen by a middleware on the case's own CloudTrail client (the one ctlake
// would build: createCloudTrailClient), which reads answers and changes none.
// where wallMs and the CPU times cover the case itself (after the modules are
// loaded), CPU is process.cpuUsage() and so counts every thread of this
// process (zlib's thread pool included), and maxRssKiB is
// process.resourceUsage().maxRSS read at the very end: the peak of this
// process over its whole life. A row count other than --rows fails the case
// (exit 1). The output file is left for the parent to measure and delete.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tuneHeapGrowth } from '../dist/cli/heap-growth.js';
import { createCloudTrailClient, exportQuery } from '../dist/index.js';
import { queryPages } from '../dist/source/query-pages.js';
import { DEFAULT_RETRY } from '../dist/source/retry.js';
import { watchFirstByte } from './first-byte.mjs';
import { rawPages } from './raw-pages.mjs';

const OUTPUT_FILES = { ndjson: 'out.ndjson', 'ndjson.gz': 'out.ndjson.gz', parquet: 'out.parquet', paged: 'out.parquet', delivery: 'out.parquet' };
const FLOORS = ['raw', 'floor'];

/** Fetches every page through the SDK and keeps only the counts. */
async function fetchFloor(url, queryId, onFirstPage) {
  const client = createCloudTrailClient({ endpointUrl: url, region: 'us-east-1' });
  try {
    let rows = 0;
    let pages = 0;
    let total;
    for await (const page of queryPages(client, { queryId, pageSize: 1000, retry: DEFAULT_RETRY })) {
      if (pages === 0) onFirstPage();
      rows += page.rows.length;
      pages += 1;
      total = page.totalResultsCount ?? total;
    }
    if (total !== undefined && total !== rows) throw new Error(`floor: read ${rows} rows, the service reported ${total}`);
    return { rows, pages, bytes: 0 };
  } finally {
    client.destroy();
  }
}

async function exportCase(name, url, queryId, dir) {
  const summary = await exportQuery({ queryId, out: path.join(dir, OUTPUT_FILES[name]), endpointUrl: url, region: 'us-east-1' });
  return { rows: summary.rows, pages: summary.pages, bytes: summary.bytes };
}

/**
 * paged and delivery: `sql` exported to Parquet, started by ctlake, through
 * pages or through the delivery, with the phases seen on DescribeQuery.
 */
async function sqlCase(name, { url, sql, s3Url, bucket, dir, started }) {
  const client = createCloudTrailClient({ endpointUrl: url, region: 'us-east-1' });
  const phases = { queryMs: null, ...(name === 'delivery' ? { deliveryMs: null } : {}) };
  let finishedAt;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const answer = await next(args);
      if (context.commandName === 'DescribeQueryCommand') {
        const now = performance.now();
        if (finishedAt === undefined && answer.output.QueryStatus === 'FINISHED') {
          finishedAt = now;
          phases.queryMs = Math.round(now - started);
        }
        if (name === 'delivery' && phases.deliveryMs === null && answer.output.DeliveryStatus === 'SUCCESS') phases.deliveryMs = Math.round(now - (finishedAt ?? started));
      }
      return answer;
    },
    { step: 'initialize', name: 'benchPhases' },
  );
  try {
    const delivery = name === 'delivery' ? { deliveryS3Uri: `s3://${bucket}/bench`, via: 'delivery', s3EndpointUrl: s3Url, s3ForcePathStyle: true } : {};
    const summary = await exportQuery({ sql, out: path.join(dir, OUTPUT_FILES[name]), client, ...delivery });
    if (name === 'delivery' && !(summary.delivery?.via === 'delivery' && summary.delivery.verified)) throw new Error('delivery: the summary does not report verified delivered rows');
    return { rows: summary.rows, pages: summary.pages, bytes: summary.bytes, phases, ...(summary.delivery ? { deliveredFiles: summary.delivery.files.length } : {}) };
  } finally {
    client.destroy();
  }
}

async function main() {
  tuneHeapGrowth(process.execArgv);
  const { values } = parseArgs({
    options: {
      case: { type: 'string' },
      url: { type: 'string' },
      'query-id': { type: 'string' },
      dir: { type: 'string' },
      rows: { type: 'string' },
      sql: { type: 'string' },
      's3-url': { type: 'string' },
      bucket: { type: 'string' },
    },
  });
  const name = values.case;
  if (!FLOORS.includes(name) && !Object.hasOwn(OUTPUT_FILES, name)) throw new Error(`--case must be ${[...FLOORS, ...Object.keys(OUTPUT_FILES)].join(', ')}; not ${JSON.stringify(name)}`);

  const cpu = process.cpuUsage();
  const started = performance.now();
  let firstPageMs = null;
  const onFirstPage = () => (firstPageMs = Math.round(performance.now() - started));
  const firstByte = FLOORS.includes(name) ? undefined : watchFirstByte(values.dir, started);
  const queryId = values['query-id'];
  const counts =
    name === 'raw'
      ? await rawPages(values.url, queryId, { pageSize: 1000, onFirstPage })
      : name === 'floor'
        ? await fetchFloor(values.url, queryId, onFirstPage)
        : name === 'paged' || name === 'delivery'
          ? await sqlCase(name, { url: values.url, sql: values.sql, s3Url: values['s3-url'], bucket: values.bucket, dir: values.dir, started })
          : await exportCase(name, values.url, queryId, values.dir);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const firstByteMs = firstByte ? firstByte.stop() : firstPageMs;
  if (counts.rows !== Number(values.rows)) throw new Error(`${name}: ${counts.rows} rows, expected ${values.rows}`);

  const result = {
    case: name,
    ...counts,
    wallMs: Math.round(wallMs),
    cpuUserMs: Math.round(used.user / 1000),
    cpuSystemMs: Math.round(used.system / 1000),
    maxRssKiB: process.resourceUsage().maxRSS,
    // The whole life of the process, start-up included: what it took from the machine.
    processCpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    firstByteMs,
    // What the process still holds once the case is over, after full
    // collections (run.mjs starts this with --expose-gc): if it is the same
    // after a tenth of the rows and after all of them, a growing peak RSS is
    // the heap's sizing, not rows kept.
    ...liveMemory(),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

function liveMemory() {
  if (typeof globalThis.gc !== 'function') return {};
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, external } = process.memoryUsage();
  return { liveHeapKiB: Math.round(heapUsed / 1024), liveExternalKiB: Math.round(external / 1024) };
}

main().catch((error) => {
  console.error(`bench: case failed: ${error?.code ? `${error.code}: ` : ''}${error?.message ?? error}`);
  process.exitCode = 1;
});
