// One benchmark case in a fresh Node process: `node bench/case.mjs --case C
// --url URL --query-id ID --dir DIR --rows N`, started by bench/run.mjs.
//
// Cases:
//   floor       every page fetched with the real SDK through queryPages (no
//               read-ahead, as the exporter's own fetching is one request at a
//               time) and thrown away: what fetching alone costs.
//   ndjson      exportQuery to DIR/out.ndjson
//   ndjson.gz   exportQuery to DIR/out.ndjson.gz (gzip level 6)
//   parquet     exportQuery to DIR/out.parquet (zstd, 20,000-row groups)
// Every export uses exportQuery's defaults apart from the file name, so the
// figures are those of `ctlake export --query-id ID --out FILE`.
//
// Contract: on success the only thing on stdout is one JSON line,
//   { case, rows, pages, bytes, wallMs, cpuUserMs, cpuSystemMs, maxRssKiB, processCpuMs,
//     liveHeapKiB, liveExternalKiB }
// where wallMs and the CPU times cover the case itself (after the modules are
// loaded), CPU is process.cpuUsage() and so counts every thread of this
// process (zlib's thread pool included), and maxRssKiB is
// process.resourceUsage().maxRSS read at the very end: the peak of this
// process over its whole life. A row count other than --rows fails the case
// (exit 1). The output file is left for the parent to measure and delete.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCloudTrailClient, exportQuery } from '../dist/index.js';
import { queryPages } from '../dist/source/query-pages.js';
import { DEFAULT_RETRY } from '../dist/source/retry.js';

const OUTPUT_FILES = { ndjson: 'out.ndjson', 'ndjson.gz': 'out.ndjson.gz', parquet: 'out.parquet' };

/** Fetches every page and keeps only the counts. */
async function fetchFloor(url, queryId) {
  const client = createCloudTrailClient({ endpointUrl: url, region: 'us-east-1' });
  try {
    let rows = 0;
    let pages = 0;
    let total;
    for await (const page of queryPages(client, { queryId, pageSize: 1000, retry: DEFAULT_RETRY })) {
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

async function main() {
  const { values } = parseArgs({
    options: {
      case: { type: 'string' },
      url: { type: 'string' },
      'query-id': { type: 'string' },
      dir: { type: 'string' },
      rows: { type: 'string' },
    },
  });
  const name = values.case;
  if (name !== 'floor' && !Object.hasOwn(OUTPUT_FILES, name)) throw new Error(`--case must be floor, ${Object.keys(OUTPUT_FILES).join(', ')}; not ${JSON.stringify(name)}`);

  const cpu = process.cpuUsage();
  const started = performance.now();
  const counts = name === 'floor' ? await fetchFloor(values.url, values['query-id']) : await exportCase(name, values.url, values['query-id'], values.dir);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
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
