// `npm run bench`: how fast ctlake exports, and in how much memory, against
// what fetching the pages alone costs.
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
// - The floor is the same pages fetched sequentially with the real SDK through
//   queryPages and discarded. The exporter fetches one page ahead of its
//   encoder (readAhead), so with free encoding its time would equal the floor;
//   the ratio to the floor is what encoding and writing add.
// - Wall time and CPU cover the case from just after its modules load to the
//   end, file commit (fsync and rename) included. CPU is process.cpuUsage() of
//   the case process: every thread, user plus system.
// - Outputs go to a temporary directory, each file deleted after its case and
//   the directory at the end. Stdout carries only the table; progress and the
//   children's messages go to stderr. The table is also saved as JSON in
//   bench/results/ so that runs can be compared.
import { execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CASES, formatReport, summarizeCase, summarizeMemory } from './results-table.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(HERE);
const QUERY = 'SELECT * FROM <eds> ORDER BY eventTime';
const PAGE_SIZE = 1000;

const USAGE = `usage: npm run bench -- [options]

  --rows N           rows to export (default 1000000); the memory check also exports a tenth of them
  --small-rows N     rows of the memory check's smaller export (default rows / 10)
  --distinct-rows N  sample events behind the rows; the result cycles through them (default 100000)
  --latency LIST     delays per GetQueryResults page, in ms, comma-separated (default 0,50)
  --repeat N         runs of each case; the median wall time is reported (default 1)
  --cases LIST       exports to run, of ndjson,ndjson.gz,parquet (default all); the floor always runs
  --quiet-wait S     before each case, wait up to S seconds for other processes to leave the CPUs idle (default 120; 0: do not wait)
  --cpu-prof DIR     write V8 CPU profiles of every case into DIR/CASE-LATENCY-ROWS-RUN/, one per thread
  --no-save          do not write bench/results/*.json
  -h, --help         this text

The table goes to stdout, progress to stderr.`;

function positiveInteger(name, text) {
  const value = Number(String(text).replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`--${name} must be a whole number of at least 1, not ${JSON.stringify(text)}`);
  return value;
}

function readOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '1000000' },
      'small-rows': { type: 'string' },
      'distinct-rows': { type: 'string', default: '100000' },
      latency: { type: 'string', default: '0,50' },
      repeat: { type: 'string', default: '1' },
      cases: { type: 'string', default: CASES.filter((c) => c !== 'floor').join(',') },
      'quiet-wait': { type: 'string', default: '120' },
      'cpu-prof': { type: 'string' },
      'no-save': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const rows = positiveInteger('rows', values.rows);
  const latencies = values.latency.split(',').map((text) => {
    const ms = Number(text);
    if (!Number.isInteger(ms) || ms < 0) throw new TypeError(`--latency takes whole milliseconds of 0 or more, not ${JSON.stringify(text)}`);
    return ms;
  });
  const exports = values.cases.split(',').filter((c) => c !== 'floor');
  const unknown = exports.filter((c) => !CASES.includes(c));
  if (unknown.length) throw new TypeError(`--cases takes ${CASES.slice(1).join(', ')}; not ${JSON.stringify(unknown.join(','))}`);
  return {
    rows,
    smallRows: values['small-rows'] ? positiveInteger('small-rows', values['small-rows']) : Math.max(1, Math.round(rows / 10)),
    distinctRows: Math.min(rows, positiveInteger('distinct-rows', values['distinct-rows'])),
    latencies: [...new Set(latencies)],
    repeat: positiveInteger('repeat', values.repeat),
    cases: ['floor', ...CASES.filter((c) => exports.includes(c))],
    quietWaitMs: values['quiet-wait'] === '0' ? 0 : positiveInteger('quiet-wait', values['quiet-wait']) * 1000,
    cpuProfDir: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined,
    save: !values['no-save'],
  };
}

function machineInfo() {
  const git = (...args) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  let commit;
  let dirty;
  try {
    commit = git('rev-parse', 'HEAD');
    dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  } catch {
    // Not a git checkout, or no git: the results say so.
  }
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    totalMemBytes: os.totalmem(),
    git: commit ? { commit, dirty } : undefined,
  };
}

/** The environment of every child: dummy credentials (the emulator checks no signatures), nothing else changed. */
const CHILD_ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** The emulator's child process, and a request/answer helper over its IPC channel. */
async function startEmulatorProcess({ rows, smallRows, distinctRows }) {
  // The emulator holds the events and the rendered results in memory (a few
  // GB for a million distinct rows), more than Node's default heap limit.
  const heapMiB = Math.floor((os.totalmem() * 0.75) / 2 ** 20);
  const child = fork(path.join(HERE, 'emulator-process.mjs'), ['--rows', String(rows), '--small-rows', String(smallRows), '--distinct-rows', String(distinctRows)], {
    stdio: ['ignore', 2, 2, 'ipc'],
    execArgv: [`--max-old-space-size=${heapMiB}`, '--expose-gc'],
    env: CHILD_ENV,
  });
  const answer = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.type !== type) return;
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(message);
      };
      const onExit = (code, signal) => reject(new Error(`the emulator process exited (${signal ?? code}) before answering ${type}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await answer('ready');
  return {
    ...ready,
    request: async (message) => {
      const reply = answer(message.type);
      child.send(message);
      return reply;
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'close' });
      await exited;
    },
  };
}

/** CPU time all processes on the machine have used, in ms (os.cpus(), summed over CPUs). */
function machineBusyMs() {
  return os.cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0);
}

/**
 * Waits until the machine has been nearly idle (under 15% of one CPU used,
 * by anything) for one second, or until `maxWaitMs` has passed: on a shared
 * machine a test run next door would otherwise take a core from the case.
 * The emulator and this process are idle between cases.
 */
async function waitForQuiet(maxWaitMs) {
  const deadline = Date.now() + maxWaitMs;
  let told = false;
  for (;;) {
    const before = machineBusyMs();
    await sleep(1000);
    const busy = machineBusyMs() - before;
    if (busy < 150) return;
    if (Date.now() >= deadline) return void process.stderr.write(`bench: the machine is still busy (${busy} ms of CPU per second); running anyway\n`);
    if (!told) process.stderr.write(`bench: waiting up to ${maxWaitMs / 1000} s for other processes to leave the CPUs idle ...\n`);
    told = true;
  }
}

/** Runs one case in a fresh process and returns its result line, with the emulator's CPU meanwhile. */
async function runCase({ name, queryId, rows, latencyMs, emulator, dir, cpuProfDir, quietWaitMs, run = 1, label = name }) {
  await emulator.request({ type: 'settle' });
  if (quietWaitMs) await waitForQuiet(quietWaitMs);
  // A directory per case: a case with worker threads writes one profile per thread.
  const profile = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(cpuProfDir, `${name}-${latencyMs}ms-${rows}rows-run${run}`)] : [];
  const args = [...profile, '--expose-gc', path.join(HERE, 'case.mjs'), '--case', name, '--url', emulator.url, '--query-id', queryId, '--dir', dir, '--rows', String(rows)];
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
  const floor = cases.includes('floor') ? summarizeCase({ name: 'floor', latencyMs, rows, runs: runs.get('floor') }) : undefined;
  return cases.map((name) => (name === 'floor' ? floor : summarizeCase({ name, latencyMs, rows, runs: runs.get(name), floor })));
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

  let emulator;
  try {
    emulator = await startEmulatorProcess(options);
    process.stderr.write(`bench: emulator ready at ${emulator.url} in ${(emulator.setupMs / 1000).toFixed(1)} s (${emulator.eventCount} events)\n`);
    // One untimed pass first: the emulator's JIT is cold, and the first case
    // measured would otherwise pay for warming it up.
    const smallRows = Math.min(options.smallRows, options.rows);
    await runCase({ name: 'floor', queryId: emulator.queries.small, rows: smallRows, latencyMs: 0, emulator, dir, label: 'warm-up' });
    const cases = [];
    for (const latencyMs of options.latencies) {
      cases.push(...(await runLatency({ options, emulator, queryId: emulator.queries.full, rows: options.rows, latencyMs, cases: options.cases, dir })));
    }
    // The memory check: the same exports on a tenth of the rows, at the
    // first zero latency (the fastest, so the most rows in flight).
    const memoryLatencyMs = options.latencies.includes(0) ? 0 : options.latencies[0];
    const small = await runLatency({ options, emulator, queryId: emulator.queries.small, rows: smallRows, latencyMs: memoryLatencyMs, cases: options.cases.filter((c) => c !== 'floor'), dir });
    const memory = summarizeMemory(small, cases.filter((c) => c.latencyMs === memoryLatencyMs));

    const document = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: machineInfo(),
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
      },
      emulator: { setupMs: emulator.setupMs, eventCount: emulator.eventCount },
      cases,
      memoryLatencyMs,
      memory,
      small,
    };
    const report = formatReport(document);
    process.stdout.write(report);
    if ([...cases, ...small].some((c) => c.failed)) process.exitCode = 1;
    if (options.save) {
      const results = path.join(HERE, 'results');
      mkdirSync(results, { recursive: true });
      const file = path.join(results, `${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`);
      await writeFile(file, JSON.stringify(document, null, 2) + '\n');
      process.stderr.write(`bench: results saved to ${path.relative(process.cwd(), file)}\n`);
    }
  } finally {
    await emulator?.close();
    removeDir();
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof TypeError ? '' : 'failed: '}${error.message}`);
  process.exitCode = error instanceof TypeError ? 2 : 1;
});
