// The migrate case of `npm run bench` (`--cases migrate`): how fast
// `ctlake migrate` moves a whole event data store under Lake's rate limits,
// against the ceiling those limits allow (bench/migrate-table.mjs).
//
// How it measures, and why (the process model of run.mjs):
// - The emulator runs in a child process of its own (bench/emulator-process.mjs
//   in its migrate mode): `events` sample events over MIGRATE_DAYS uneven
//   days, real SQL on DuckDB, Lake's limits played as token buckets
//   (--tps-read, --tps-write), and `latencyMs` before every answer of every
//   operation, as a distant region would add.
// - Each measured run is the built CLI in a fresh process, as a user runs it:
//   `node dist/cli/bin.js migrate ... --format parquet --partition-by
//   eventTime:day --concurrency N --summary-json FILE`, into a dataset and a
//   state of its own. Its CPU (user + system, every thread) and peak RSS are
//   read inside that process at its exit by bench/process-usage.mjs, preloaded
//   with --import, the same figures bench/case.mjs reads for the exports.
// - Wall time is from the spawn to the exit, Node's start-up included. Rows,
//   pages, page latency, throttling and queries come from ctlake's own
//   --summary-json; the emulator's CPU and its count of requests (answered
//   and throttled, by operation) are read before and after each run.
// - A run that does not exit 0, or commits another number of rows than the
//   store holds, is reported as failed, with the tail of its stderr.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHILD_ENV, machineBusyMs, startEmulatorProcess, waitForQuiet } from './processes.mjs';
import { summarizeMigrate } from './migrate-table.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(path.dirname(HERE), 'dist', 'cli', 'bin.js');
const USAGE_HOOK = pathToFileURL(path.join(HERE, 'process-usage.mjs')).href;

/** The sample events' span: [MIGRATE_FROM, MIGRATE_FROM + MIGRATE_DAYS days), unevenly spread (one day in 25 empty). */
export const MIGRATE_FROM = '2024-03-01T00:00:00Z';
export const MIGRATE_DAYS = 40;
const PAGE_SIZE = 1000;

/** The account's limits the emulator plays and ctlake is told: Lake's published rates. */
const TPS_READ = 10;
const TPS_WRITE = 1;

/**
 * Runs the migrate case: for each of `concurrencies`, `repeat` runs,
 * interleaved; returns { settings, emulator, runs } with one summarized entry
 * per concurrency (summarizeMigrate). `dir` is a scratch directory, emptied
 * after each run.
 */
export async function runMigrate({ events, sliceEvents, latencyMs, concurrencies, repeat, quietWaitMs }, dir) {
  const from = MIGRATE_FROM;
  const to = new Date(Date.parse(from) + MIGRATE_DAYS * 86_400_000).toISOString().replace('.000Z', 'Z');
  const settings = { events, days: MIGRATE_DAYS, from, to, sliceEvents, latencyMs, tpsRead: TPS_READ, tpsWrite: TPS_WRITE, pageSize: PAGE_SIZE, repeat, concurrencies };
  const emulator = await startEmulatorProcess([
    '--sample', String(events),
    '--events-from', from,
    '--events-to', to,
    '--latency-ms', String(latencyMs),
    '--tps-read', String(TPS_READ),
    '--tps-write', String(TPS_WRITE),
  ]);
  try {
    process.stderr.write(`bench: migrate emulator ready at ${emulator.url} in ${(emulator.setupMs / 1000).toFixed(1)} s (${emulator.eventCount} events)\n`);
    const runs = new Map(concurrencies.map((n) => [n, []]));
    for (let i = 0; i < repeat; i++) {
      for (const concurrency of concurrencies) {
        runs.get(concurrency).push(await runOnce({ settings, emulator, concurrency, dir: path.join(dir, `migrate-c${concurrency}-run${i + 1}`), quietWaitMs }));
      }
    }
    return {
      settings,
      emulator: { setupMs: emulator.setupMs, eventCount: emulator.eventCount },
      runs: concurrencies.map((concurrency) => summarizeMigrate({ concurrency, settings, runs: runs.get(concurrency) })),
    };
  } finally {
    await emulator.close();
  }
}

/** The ctlake migrate command line of one run: the built CLI, with every setting spelled out. */
export function migrateArgs({ settings, eventDataStoreId, concurrency, dir }) {
  return [
    BIN, 'migrate',
    '--event-data-store', eventDataStoreId,
    '--from', settings.from,
    '--to', settings.to,
    '--out', path.join(dir, 'dataset') + path.sep,
    '--state', path.join(dir, 'state.json'),
    '--format', 'parquet',
    '--partition-by', 'eventTime:day',
    '--slice-events', String(settings.sliceEvents),
    '--concurrency', String(concurrency),
    '--tps-read', String(settings.tpsRead),
    '--tps-write', String(settings.tpsWrite),
    '--summary-json', path.join(dir, 'summary.json'),
  ];
}

/** One migration into a fresh dataset and state, in a fresh process. */
async function runOnce({ settings, emulator, concurrency, dir, quietWaitMs }) {
  mkdirSync(dir, { recursive: true });
  await emulator.request({ type: 'settle' });
  if (quietWaitMs) await waitForQuiet(quietWaitMs);
  process.stderr.write(`bench: migrate, concurrency ${concurrency}, ${settings.events.toLocaleString('en-US')} events ... `);
  const usageFile = path.join(dir, 'usage.json');
  const cpuBefore = (await emulator.request({ type: 'cpu' })).usage;
  const statsBefore = (await emulator.request({ type: 'stats' })).stats;
  const busyBefore = machineBusyMs();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', USAGE_HOOK, ...migrateArgs({ settings, eventDataStoreId: emulator.eventDataStoreId, concurrency, dir })], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...CHILD_ENV, AWS_ENDPOINT_URL_CLOUDTRAIL: emulator.url, CTLAKE_BENCH_USAGE_FILE: usageFile, CTLAKE_LOG_FORMAT: 'json' },
  });
  const log = [];
  child.stderr.setEncoding('utf8').on('data', (text) => log.push(text));
  const [code, signal] = await once(child, 'close');
  const wallMs = Math.round(performance.now() - started);
  const busy = machineBusyMs() - busyBefore;
  const cpuAfter = (await emulator.request({ type: 'cpu' })).usage;
  const statsAfter = (await emulator.request({ type: 'stats' })).stats;
  const lines = log.join('').split('\n').filter(Boolean);
  try {
    const summary = await readJson(path.join(dir, 'summary.json'));
    const usage = await readJson(usageFile);
    const expected = emulator.eventCount;
    const problem =
      code !== 0 ? `exit ${signal ?? code}${summary ? ` (status ${summary.status})` : ''}: ${lines.at(-1) ?? ''}` :
      !summary || !usage ? 'no summary or usage written' :
      summary.rows !== expected ? `${summary.rows} rows committed, the store holds ${expected}` : undefined;
    if (problem) {
      process.stderr.write(`failed\n${lines.slice(-20).join('\n')}\n`);
      return { failed: problem, wallMs, exitCode: code, summary };
    }
    const emulatorCpuMs = Math.round((cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / 1000);
    const processCpuMs = usage.cpuUserMs + usage.cpuSystemMs;
    process.stderr.write(`${(wallMs / 1000).toFixed(1)} s\n`);
    return {
      wallMs,
      exitCode: code,
      usage,
      summary,
      emulatorCpuMs,
      otherCpuMs: Math.max(0, Math.round(busy - emulatorCpuMs - processCpuMs)),
      emulatorCalls: { requests: difference(statsBefore.requests, statsAfter.requests), throttled: difference(statsBefore.throttled, statsAfter.throttled) },
      retries: countRetries(lines),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readJson(file) {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Per-operation counts gained between two snapshots (null-prototype: the names come from requests). */
function difference(before, after) {
  const out = Object.create(null);
  for (const [op, n] of Object.entries(after)) if (n - (before[op] ?? 0) > 0) out[op] = n - (before[op] ?? 0);
  return out;
}

/** ctlake's retries by operation and error, from its JSON log lines on stderr ({"event":"retry","operation","error"}). */
function countRetries(lines) {
  const counts = Object.create(null);
  for (const line of lines) {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry?.event !== 'retry') continue;
    const key = `${entry.operation} ${entry.error}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
