import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { emulatorEnv, parseNdjson, sampleRows } from './support/lake.js';
import { hasScript, runOnPty, show, type PtyRun, type Screen } from './support/pty-screen.js';

/**
 * The live progress as a person sees it: the built CLI on a real
 * pseudo-terminal of 60 columns, its bytes replayed into a terminal
 * emulator (xterm.js), and the screens asserted on. The emulator answers
 * every request 40 ms late, so that ten pages take a while; the canned
 * queries are QUEUED, then RUNNING, for the first two DescribeQuery polls
 * (0.5 s and 0.75 s apart), the SQL queries of the backfill QUEUED for 0.7 s.
 */
const COLS = 60;
const SIZE = { cols: COLS, rows: 24 };
const BAR = /\[[=> ]{8,}\]/;

let emulator: Emulator;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  emulator = await startEmulator({ sample: 200, seed: 3, queuedMs: 700, faults: { latencyMs: 40 } });
  dir = await mkdtemp(path.join(tmpdir(), 'ctlake-progress-'));
  // Text logs, as a terminal gets by itself.
  const { CTLAKE_LOG_FORMAT: _, ...rest } = emulatorEnv(emulator);
  env = rest;
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function slowQuery(): string {
  return emulator.addQuery({ rows: sampleRows(1000), statuses: ['QUEUED', 'RUNNING'] });
}

/** The rows of every screen that held the live progress, with the screen, for messages. */
function progressRows(run: PtyRun, pattern: RegExp): Array<{ row: string; screen: Screen }> {
  return run.screens.flatMap((screen) => screen.rows.filter((row) => pattern.test(row)).map((row) => ({ row, screen })));
}

/** Every line of every screen that is not a log line (`ctlake: ...`, which may wrap) fits in a row, the last column left free: the live lines never wrap. */
function expectNoWrappedProgress(run: PtyRun): void {
  for (const screen of run.screens) for (const line of screen.lines) if (!line.startsWith('ctlake: ')) expect(line.length, show(screen)).toBeLessThan(COLS);
}

describe.runIf(hasScript).concurrent('the live progress on a terminal', () => {
  it('spins with the status while the query waits, then draws a bar with %, ETA and bytes, in place, never wider than the terminal; the summary is left alone', async () => {
    const out = path.join(dir, 'slow.ndjson');
    const run = await runOnPty(['export', '--query-id', slowQuery(), '--out', out, '--page-size', '100'], env, SIZE);
    expect(run.status).toBe(0);

    // Waiting: a spinner, the status, the elapsed time; redrawn (the spinner turns) while nothing else happens.
    const waiting = progressRows(run, /^[-\\|/] query (QUEUED|RUNNING), \d+s$/);
    expect(waiting.some((w) => /^- query QUEUED, \d+s$/.test(w.row))).toBe(true);
    expect(waiting.some((w) => w.row.includes('RUNNING'))).toBe(true);
    expect(new Set(waiting.map((w) => w.row[0])).size).toBe(4);

    // Paging: a bar with the percentage of TotalResultsCount, the rows, the rate, an ETA and the bytes so far.
    const bars = progressRows(run, BAR);
    expect(bars.length).toBeGreaterThan(3);
    const withEta = bars.map((b) => b.row).filter((row) => /^\[[=> ]+\] \d+% \d+\/1000 rows, .*\d+(\.\d)? (B|KiB), ETA \d+s$/.test(row));
    expect(withEta.length, bars.map((b) => b.row).join('\n')).toBeGreaterThan(0);
    // The first ETA counts from the first page: never the wait before it (which took over a second here).
    const first = bars.find((b) => /ETA \d/.test(b.row))!.row;
    expect(Number(/ETA (\d+)s/.exec(first)![1])).toBeLessThan(5);
    expectNoWrappedProgress(run);
    // In place: never two live lines on one screen, and no ESC but the erasing ones.
    for (const screen of run.screens) expect(screen.rows.filter((r) => BAR.test(r) || /query (QUEUED|RUNNING)/.test(r)).length, show(screen)).toBeLessThanOrEqual(1);
    expect(run.raw.replace(/\r\x1b\[K/g, '')).not.toContain('\x1b');

    // The end: the summary, and nothing left of the progress.
    const final = run.final.lines.join('\n');
    expect(final, show(run.final)).toMatch(/^ctlake: 1000 rows, 10 pages, [\d.]+ KiB written to .*slow\.ndjson in /m);
    expect(final).not.toMatch(BAR);
    expect(final).not.toMatch(/query (QUEUED|RUNNING)|ETA/);
    // Every line on it is a log line (a long one wraps): here, the summary.
    expect(run.final.lines.every((line) => line.startsWith('ctlake: ')), show(run.final)).toBe(true);
  });

  it('Parquet: says "encoding" until the writer hands bytes over (never 0 B with rows in); a resize is taken as it comes, the bar fits the new width', async () => {
    const out = path.join(dir, 'slow.parquet');
    const run = await runOnPty(['export', '--query-id', slowQuery(), '--out', out, '--page-size', '100'], env, { ...SIZE, resize: { afterMs: 400, cols: 50 } });
    expect(run.status).toBe(0);
    const bars = progressRows(run, BAR).map((b) => b.row);
    expect(bars.some((row) => row.includes('encoding')), bars.join('\n')).toBe(true);
    expect(bars.filter((row) => /, 0 B\b/.test(row))).toEqual([]);
    // Narrowed to 50 columns before the first page: every bar fits in 49.
    expect(bars.length).toBeGreaterThan(3);
    for (const row of bars) expect(row.length, row).toBeLessThan(50);
    expect(run.final.lines.join('\n')).toMatch(/^ctlake: 1000 rows, 10 pages, [\d.]+ KiB written to .*slow\.parquet in /m);
  });

  it('SIGINT while the progress is drawn: it is erased before the stopping line, exit 130, nothing left drawn', async () => {
    const out = path.join(dir, 'interrupted.ndjson');
    // A query that waits for seconds (six polls), interrupted in the middle of the wait.
    const waiting = emulator.addQuery({ rows: sampleRows(100), statuses: ['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED', 'RUNNING', 'RUNNING'] });
    const run = await runOnPty(['export', '--query-id', waiting, '--out', out], env, { ...SIZE, interruptAfterMs: 2500 });
    expect(run.status).toBe(130);
    const LIVE = /\[[=> ]{8,}\]|^[-\\|/] query (QUEUED|RUNNING)/;
    expect(progressRows(run, LIVE).length, show(run.final)).toBeGreaterThan(0);
    const final = run.final.lines.filter((line) => line !== '^C');
    expect(final.some((line) => line.startsWith('ctlake: SIGINT: stopping')), show(run.final)).toBe(true);
    for (const line of final) expect(line, show(run.final)).not.toMatch(LIVE);
    expect(final.every((line) => line.startsWith('ctlake: ') || line === ''), show(run.final)).toBe(true);
  });

  it('draws nothing when the data goes to the same terminal (--out -): the rows come out whole', async () => {
    const run = await runOnPty(['export', '--query-id', slowQuery(), '--out', '-', '--page-size', '100'], env, SIZE);
    expect(run.status).toBe(0);
    expect(run.raw).not.toContain('\x1b');
    expect(run.raw).not.toMatch(BAR);
    expect(run.raw).not.toMatch(/[-\\|/] query (QUEUED|RUNNING)/);
    const lines = run.raw.split('\r\n');
    const data = lines.filter((l) => l.startsWith('{'));
    expect(parseNdjson(data.join('\n'))).toHaveLength(1000);
    expect(lines.filter((l) => l !== '' && !l.startsWith('{')).every((l) => l.startsWith('ctlake: '))).toBe(true);
  });

  it('backfill: a line per slice in flight and a totals line, redrawn in place; the summary at the end', async () => {
    const sql = `SELECT eventName, eventTime FROM ${emulator.eventDataStoreArn} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`;
    const run = await runOnPty(
      ['backfill', '--from', '2024-05-01T00:00:00Z', '--to', '2024-05-01T04:00:00Z', '--slice', '1h', '--concurrency', '2', '--out', path.join(dir, 'backfill') + '/', '--sql', sql],
      env,
      SIZE,
    );
    expect(run.status, run.raw).toBe(0);
    // A moment with both slices queued, each on its own line, over the totals.
    const both = run.screens.find((s) => s.rows.filter((r) => /^slice 2024-05-01T0\d:00\.\.0\d:00 [-\\|/] query QUEUED, \ds$/.test(r)).length === 2);
    expect(both, run.screens.map(show).join('\n\n')).toBeDefined();
    const at = both!.rows.findIndex((r) => r.startsWith('slice '));
    expect(both!.rows[at + 2]).toMatch(/^slices: 0\/4 done, 2 running, 0 failed, 0 rows, \ds$/);
    expectNoWrappedProgress(run);
    const final = run.final.lines.join('\n');
    expect(final).toMatch(/^ctlake: 4 slices exported, 0 failed, 0 done before; \d+ rows/m);
    expect(final).not.toMatch(/^slices?: |query QUEUED|query RUNNING/m);
  });

  it('a windowed export: the window in flight on its line over the totals', async () => {
    const sql = `SELECT eventName, eventTime FROM ${emulator.eventDataStoreArn} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`;
    const run = await runOnPty(
      ['export', '--window', '1h', '--since', '2024-05-01T00:00:00Z', '--now', '2024-05-01T02:00:00Z', '--out', path.join(dir, 'windows') + '/', '--sql', sql],
      env,
      SIZE,
    );
    expect(run.status, run.raw).toBe(0);
    const waiting = run.screens.find((s) => s.lines.some((l) => /^window 2024-05-01T01:00\.\.02:00 [-\\|/] query QUEUED, \ds$/.test(l)));
    expect(waiting, run.screens.map(show).join('\n\n')).toBeDefined();
    expect(waiting!.lines.at(-1)).toMatch(/^windows: 1 done, 0 failed, \d+ rows, \ds$/);
    expectNoWrappedProgress(run);
    const final = run.final.lines.join('\n');
    expect(final).toMatch(/^ctlake: 2 of 2 windows exported, \d+ rows; exported until 2024-05-01T02:00:00Z$/m);
    expect(final).not.toMatch(/^windows?: |query QUEUED|query RUNNING/m);
  });
});
