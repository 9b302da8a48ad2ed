// `npm run bench`: how fast ctlake exports, and in how much memory, against
// what fetching the pages alone costs. With `--cases migrate` (or
// `--migrate`), also how fast `ctlake migrate` moves a whole store under
// Lake's rate limits (bench/migrate-run.mjs).
//
// How it measures, and why:
// - Three kinds of process. This one only orchestrates. The emulator (a
//   local CloudTrail Lake serving `--rows` rows of SELECT * ... ORDER BY
//   eventTime over generated sample events; see bench/emulator-process.mjs
//   for why they cycle through `--distinct-rows` of them) runs in a child
//   process of its own. Every case runs in a fresh child (bench/case.mjs),
//   one after another, never two at once.
// - Why the emulator is not in the exporter's process: rendering and serving a
//   page costs the emulator CPU of the same order as parsing it costs the
//   client (about 20 ms against 20 to 50 ms per 1,000-row page, measured).
//   In one process both would share one event loop and one CPU clock, so the
//   exporter's CPU time would include the server's, and the server's work would
//   stall the exporter's read-ahead exactly as encoding would. A separate
//   process is how the exporter meets the real service (over a socket, with the
//   server's work elsewhere), and on a 2-core machine each process gets a
//   core. It is not free of interference: the exporter's extra threads (zlib's
//   thread pool for gzip, V8's GC and compiler threads) share the two cores
//   with the emulator. The table therefore also shows the emulator's CPU
//   during each case, and the CPU that other processes on the machine used
//   meanwhile ("other CPU", from os.cpus()), so a reader can tell when the
//   machine, not ctlake, was the limit, and which runs to distrust.
// - Why a fresh process per case: peak RSS (process.resourceUsage().maxRSS)
//   is a high-water mark for a process's whole life, so only a process that
//   ran one case alone reports that case's own peak; it also gives every case
//   a cold JIT and an empty heap, as a real `ctlake export` run has.
// - Two floors. The raw floor (bench/raw-pages.mjs) is the same pages fetched
//   with bare keep-alive HTTP POSTs, no SDK and no signing, each answer
//   JSON.parse'd and dropped: the wire's limit, which issue 19's targets are
//   set against. The SDK floor is the same pages fetched sequentially with
//   the real SDK through queryPages and discarded. The exporter fetches one
//   page ahead of its encoder (readAhead), so with free encoding its time
//   would equal the SDK floor; the ratio to the raw floor is everything
//   ctlake adds to the wire, the SDK's share included.
// - The delivery pair (--cases delivery): `paged` and `delivery` export the
//   same SQL to Parquet, ctlake starting the query, once through pages and
//   once through Lake's signed delivery (the emulator delivers to an s3rver
//   in its own process; ctlake verifies and reads the CSV files). Lake
//   delivers what the query returns, so they read the --distinct-rows events'
//   rows, not the --rows of the canned query; their ratios are per row. The
//   latency delays GetQueryResults only, so it slows paged, not delivery.
// - Wall time and CPU cover the case from just after its modules load to the
//   end, file commit (fsync and rename) included. CPU is process.cpuUsage() of
//   the case process: every thread, user plus system.
// - Outputs go to a temporary directory, each file deleted after its case and
//   the directory at the end. Stdout carries only the table; progress and the
//   children's messages go to stderr. The table is also saved as JSON in
//   bench/results/ so that runs can be compared.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMigrateReport } from './migrate-table.mjs';
import { runMigrate } from './migrate-run.mjs';
import { readOptions, USAGE } from './options.mjs';
import { CHILD_ENV, machineBusyMs, machineInfo, startEmulatorProcess, waitForQuiet } from './processes.mjs';
import { FLOORS, formatReport, SQL_CASES, summarizeCase, summarizeMemory } from './results-table.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const QUERY = 'SELECT * FROM <eds> ORDER BY eventTime';
const PAGE_SIZE = 1000;

/** Runs one case in a fresh process and returns its result line, with the emulator's CPU meanwhile. */
async function runCase({ name, queryId, rows, latencyMs, emulator, dir, cpuProfDir, quietWaitMs, run = 1, label = name }) {
  const sqlCase = SQL_CASES.includes(name);
  if (sqlCase) rows = emulator.delivery.rows;
  const delivery = sqlCase ? ['--sql', emulator.delivery.sql, '--s3-url', emulator.delivery.s3Url, '--bucket', emulator.delivery.bucket] : [];
  await emulator.request({ type: 'settle' });
  if (quietWaitMs) await waitForQuiet(quietWaitMs);
  // A directory per case: a case with worker threads writes one profile per thread.
  const profile = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(cpuProfDir, `${name}-${latencyMs}ms-${rows}rows-run${run}`)] : [];
  const args = [...profile, '--expose-gc', path.join(HERE, 'case.mjs'), '--case', name, '--url', emulator.url, '--query-id', queryId, '--dir', dir, '--rows', String(rows), ...delivery];
  process.stderr.write(`bench: ${latencyMs} ms, ${label}, ${rows.toLocaleString('en-US')} rows ... `);
  const before = (await emulator.request({ type: 'cpu' })).usage;
  const busyBefore = machineBusyMs();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: CHILD_ENV });
  let stdout = '';
  let failure;
  child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
  // Passed through, and the case's own account of a failure kept for the table.
  child.stderr.setEncoding('utf8').on('data', (text) => {
    process.stderr.write(text);
    failure = /bench: case failed: (.*)/.exec(text)?.[1] ?? failure;
  });
  const [code, signal] = await once(child, 'close');
  const after = (await emulator.request({ type: 'cpu' })).usage;
  const busy = machineBusyMs() - busyBefore;
  // Each output is deleted at once: a million wide rows of NDJSON is over a GB.
  for (const file of await readdir(dir)) await rm(path.join(dir, file), { force: true, recursive: true });
  if (code !== 0) {
    // One failed case does not lose the others' figures: it is reported in the table, and the exit code is 1.
    process.stderr.write(`bench: ${name} at ${latencyMs} ms failed\n`);
    return { case: name, failed: failure ?? `exit ${signal ?? code}` };
  }
  const result = JSON.parse(stdout.trim().split('\n').at(-1));
  result.emulatorCpuMs = Math.round((after.user - before.user + after.system - before.system) / 1000);
  // Whatever else ran meanwhile (other processes on the machine): it competes
  // for the same cores, so a case with much of it should be rerun.
  result.otherCpuMs = Math.max(0, Math.round(busy - result.emulatorCpuMs - result.processCpuMs));
  process.stderr.write(`${(result.wallMs / 1000).toFixed(2)} s\n`);
  return result;
}

/** Every case at one latency, `repeat` times, interleaved so that drift in the machine spreads over all cases. */
async function runLatency({ options, emulator, queryId, rows, latencyMs, cases, dir }) {
  await emulator.request({ type: 'latency', ms: latencyMs });
  const runs = new Map(cases.map((name) => [name, []]));
  for (let i = 0; i < options.repeat; i++) {
    for (const name of cases) runs.get(name).push(await runCase({ name, queryId, rows, latencyMs, emulator, dir, cpuProfDir: options.cpuProfDir, quietWaitMs: options.quietWaitMs, run: i + 1 }));
  }
  const rowsOf = (name) => (SQL_CASES.includes(name) ? emulator.delivery.rows : rows);
  const floors = new Map(FLOORS.filter((name) => cases.includes(name)).map((name) => [name, summarizeCase({ name, latencyMs, rows, runs: runs.get(name) })]));
  return cases.map((name) => floors.get(name) ?? summarizeCase({ name, latencyMs, rows: rowsOf(name), runs: runs.get(name), raw: floors.get('raw'), floor: floors.get('floor') }));
}

async function main() {
  const options = readOptions(process.argv.slice(2));
  if (!options) return void process.stdout.write(USAGE + '\n');
  const startedAt = new Date();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ctlake-bench-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  // Ctrl-C reaches the children too (same process group); leave no outputs behind.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      removeDir();
      process.exit(130);
    });
  }
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });

  try {
    const document = {
      startedAt: startedAt.toISOString(),
      finishedAt: undefined,
      machine: machineInfo(),
      ...(options.cases.length ? await runExports(options, dir) : {}),
      ...(options.migrate ? { migrate: await runMigrate({ ...options.migrate, repeat: options.repeat, quietWaitMs: options.quietWaitMs }, dir) } : {}),
    };
    document.finishedAt = new Date().toISOString();
    const reports = [];
    if (document.cases) reports.push(formatReport(document));
    if (document.migrate) reports.push(formatMigrateReport(document.migrate));
    process.stdout.write(reports.join('\n'));
    const failed = [...(document.cases ?? []), ...(document.small ?? []), ...(document.migrate?.runs ?? [])].some((c) => c.failed);
    if (failed) process.exitCode = 1;
    if (options.save) {
      const results = path.join(HERE, 'results');
      mkdirSync(results, { recursive: true });
      const file = path.join(results, `${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`);
      await writeFile(file, JSON.stringify(document, null, 2) + '\n');
      process.stderr.write(`bench: results saved to ${path.relative(process.cwd(), file)}\n`);
    }
  } finally {
    removeDir();
  }
}

/** The export cases and the floor, with the memory check: the part of the results document they fill. */
async function runExports(options, dir) {
  const delivery = options.cases.includes('delivery') ? ['--delivery'] : [];
  const emulator = await startEmulatorProcess(['--rows', String(options.rows), '--small-rows', String(options.smallRows), '--distinct-rows', String(options.distinctRows), ...delivery]);
  try {
    process.stderr.write(`bench: emulator ready at ${emulator.url} in ${(emulator.setupMs / 1000).toFixed(1)} s (${emulator.eventCount} events)\n`);
    // One untimed pass first: the emulator's JIT is cold, and the first case
    // measured would otherwise pay for warming it up.
    const smallRows = Math.min(options.smallRows, options.rows);
    await runCase({ name: 'floor', queryId: emulator.queries.small, rows: smallRows, latencyMs: 0, emulator, dir, label: 'warm-up' });
    // The delivery pair's SQL is run by the emulator's DuckDB and delivered
    // by its s3rver: warm those too.
    if (delivery.length) await runCase({ name: 'delivery', queryId: '', rows: 0, latencyMs: 0, emulator, dir, label: 'warm-up (delivery)' });
    const cases = [];
    for (const latencyMs of options.latencies) {
      cases.push(...(await runLatency({ options, emulator, queryId: emulator.queries.full, rows: options.rows, latencyMs, cases: options.cases, dir })));
    }
    // The memory check: the same exports on a tenth of the rows, at the
    // first zero latency (the fastest, so the most rows in flight).
    const memoryLatencyMs = options.latencies.includes(0) ? 0 : options.latencies[0];
    const small = await runLatency({ options, emulator, queryId: emulator.queries.small, rows: smallRows, latencyMs: memoryLatencyMs, cases: options.cases.filter((c) => !FLOORS.includes(c) && !SQL_CASES.includes(c)), dir });
    const memory = summarizeMemory(small, cases.filter((c) => c.latencyMs === memoryLatencyMs));
    return {
      settings: {
        rows: options.rows,
        smallRows,
        distinctRows: options.distinctRows,
        latenciesMs: options.latencies,
        repeat: options.repeat,
        quietWaitMs: options.quietWaitMs,
        pageSize: PAGE_SIZE,
        query: QUERY,
        emulator: 'separate process (bench/emulator-process.mjs); one fresh process per case',
        ...(emulator.delivery ? { delivery: { rows: emulator.delivery.rows, sql: emulator.delivery.sql, s3: 's3rver in the emulator process' } } : {}),
      },
      emulator: { setupMs: emulator.setupMs, eventCount: emulator.eventCount },
      cases,
      memoryLatencyMs,
      memory,
      small,
    };
  } finally {
    await emulator.close();
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof TypeError ? '' : 'failed: '}${error.message}`);
  process.exitCode = error instanceof TypeError ? 2 : 1;
});
