import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator, RequestRecord } from '../src/emulator/server.js';
import type { FaultOptions } from '../src/emulator/faults.js';
import { main } from '../src/cli/main.js';
import { exportQuery, isCtlakeError, type CtlakeError, type ExportOptions, type PageEvent } from '../src/index.js';
import { BIN, runCli, runShell } from './support/cli-process.js';
import { expectNdjsonFile, expectNdjsonRows, expectNothingLeft, expectParquetFile, tempFiles } from './support/complete-output.js';
import { duckdb } from './support/duckdb.js';
import { FAST_RETRY, QUERY_ID, captureIO, emulatorEnv, sampleRows, withEmulator } from './support/lake.js';
import { mountTmpfs } from './support/tmpfs.js';

/**
 * The fault suite. Every case ends in one of two ways, and nothing else:
 * the whole result, every row once and in order (checked by `seq`, and for
 * Parquet value by value through DuckDB), or one clear one-line error with
 * nothing at the destination (no file, no temporary file), after which a rerun
 * without faults writes the whole result. Faults are counted or seeded, so a
 * run replays exactly; no assertion depends on how long anything took.
 */

const ROWS = sampleRows(2500);
/** 10 pages of 250 rows: enough requests for every fault to land several times. */
const PAGE_SIZE = 250;
const PAGES = ROWS.length / PAGE_SIZE;
const FORMATS = ['ndjson', 'parquet'] as const;
type Format = (typeof FORMATS)[number];

/**
 * What the message of each give-up names: the call, the fault as the service
 * or Node reported it, and what to do. Wording between them may change.
 */
const MESSAGES = {
  throttled: /^GetQueryResults: .*ThrottlingException.*; try again later/,
  serverError: /^GetQueryResults: .*HTTP 500.*InternalServerError.*; try again later/,
  reset: /^GetQueryResults: .*ECONNRESET.*; check the connection/,
  timeout: /^GetQueryResults: .*TimeoutError.*; check the connection/,
};

/** A one-line message: what failed and what to do, no stack, no second line. */
function expectOneLine(error: CtlakeError, pattern: RegExp): void {
  expect(error.message).not.toMatch(/\n/);
  expect(error.message).toMatch(pattern);
}

/** The most `true` in a row. */
function longestRun(flags: boolean[]): number {
  let run = 0;
  let longest = 0;
  for (const flag of flags) longest = Math.max(longest, (run = flag ? run + 1 : 0));
  return longest;
}

/**
 * The one error line of a CLI run. Every other line on stderr is ctlake's own
 * (retries, the signal notice): no stack trace, no raw Node error.
 */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line !== '');
  expect(lines.filter((line) => !line.startsWith('ctlake: ')), stderr).toEqual([]);
  const errors = lines.filter((line) => line.startsWith('ctlake: error: '));
  expect(errors, stderr).toHaveLength(1);
  return errors[0] ?? '';
}

describe('an export through faults ends complete or with nothing', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: ROWS }] });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-faults-'));
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
  });
  beforeEach(() => emulator.setFaults({}));

  function exportTo(name: string, format: Format, extra: Partial<ExportOptions> = {}) {
    return exportQuery({
      queryId: QUERY_ID,
      out: path.join(dir, name),
      format,
      pageSize: PAGE_SIZE,
      // Parquet flushes a row group per page, so a failure finds rows already in the temporary file.
      ...(format === 'parquet' ? { rowGroupRows: PAGE_SIZE } : {}),
      endpointUrl: emulator.url,
      region: 'us-east-1',
      retry: FAST_RETRY,
      ...extra,
    });
  }

  async function expectComplete(name: string, format: Format): Promise<void> {
    const file = path.join(dir, name);
    if (format === 'parquet') await expectParquetFile(db, file, ROWS);
    else await expectNdjsonFile(file, ROWS);
    expect(await tempFiles(dir, name)).toEqual([]);
  }

  /**
   * Runs an export under `faults` and holds it to the whole result; returns
   * the requests it made and the retries it logged. `exact`: every page was
   * answered whole exactly once. Without it (short socket timeouts), an answer
   * that came too late may have been dropped and its page asked again.
   */
  async function exportThrough(name: string, format: Format, faults: FaultOptions, extra: Partial<ExportOptions> = {}, exact = true) {
    emulator.setFaults(faults);
    const before = emulator.requests.length;
    const retries: string[] = [];
    const summary = await exportTo(name, format, { ...extra, onRetry: (e) => retries.push((e.error as NodeJS.ErrnoException).code ?? e.error.name) });
    const requests = emulator.requests.slice(before);
    expect(summary).toMatchObject({ rows: ROWS.length, pages: PAGES, queryStatistics: { totalResultsCount: ROWS.length } });
    await expectComplete(name, format);
    // Every page was answered whole, along one chain of distinct NextTokens.
    const answered = requests.filter((r) => r.operation === 'GetQueryResults' && r.fault === undefined);
    if (exact) expect(answered).toHaveLength(PAGES);
    expect(new Set(answered.map((r) => r.input.NextToken)).size).toBe(PAGES);
    expect(answered[0]?.input.NextToken).toBeUndefined();
    return { requests, faulted: requests.filter((r) => r.fault !== undefined), retries };
  }

  /**
   * Fails an export part-way: from the page `page` on, every request meets
   * `faults`, more times than the retries allow. Returns the error, after
   * checking that the temporary file existed when the faults began and that
   * nothing is left now.
   */
  async function exportFailingFrom(name: string, format: Format, page: number, faults: FaultOptions, extra: Partial<ExportOptions> = {}) {
    let tempAtFault: string[] = [];
    const onPage = (event: PageEvent) => {
      if (event.page !== page) return;
      tempAtFault = readdirSync(dir).filter((entry) => entry.startsWith(`.${name}.ctlake-`));
      emulator.setFaults(faults);
    };
    const before = emulator.requests.length;
    const error = await exportTo(name, format, { onPage, ...extra }).then(
      () => expect.unreachable('the export should have failed'),
      (e: unknown) => e,
    );
    if (!isCtlakeError(error)) throw error;
    expect(tempAtFault).toHaveLength(1);
    await expectNothingLeft(dir, name);
    // The export stopped asking once it gave up: the last request is the last retry.
    const after = emulator.requests.slice(before);
    expect(after.at(-1)?.fault).toBeDefined();
    return { error, faulted: after.filter((r) => r.fault !== undefined) };
  }

  /** The rerun after a failure, faults off: the whole result, and only the file. */
  async function rerun(name: string, format: Format): Promise<void> {
    emulator.setFaults({});
    const summary = await exportTo(name, format);
    expect(summary.rows).toBe(ROWS.length);
    await expectComplete(name, format);
    expect(await readdir(dir)).toContain(name);
  }

  describe.each(FORMATS)('to %s', (format) => {
    const ext = format === 'parquet' ? 'parquet' : 'ndjson';

    it('a throttling storm on every operation (throttleRate 0.5) is retried through', async () => {
      // Seed 15 throttles 23 of 34 requests, DescribeQuery's first five among them, and at
      // worst six in a row: the 7th attempt of a page, within the default 8 retries.
      const retry = { ...FAST_RETRY, retries: 8 };
      const { faulted, retries, requests } = await exportThrough(`storm.${ext}`, format, { throttleRate: 0.5, seed: 15 }, { retry });
      expect(faulted.length).toBeGreaterThanOrEqual(15);
      expect(longestRun(requests.map((r) => r.fault === 'throttle'))).toBeGreaterThanOrEqual(5);
      expect(new Set(faulted.map((r) => r.operation))).toEqual(new Set(['DescribeQuery', 'GetQueryResults']));
      expect(faulted.every((r) => r.fault === 'throttle')).toBe(true);
      // Each throttle was retried once; the rest are the one DescribeQuery and the pages.
      expect(retries).toEqual(faulted.map(() => 'ThrottlingException'));
      expect(requests.length).toBe(faulted.length + 1 + PAGES);
    });

    it('throttles that outlast the retries fail THROTTLED with nothing partial, and a rerun completes', async () => {
      const name = `throttled.${ext}`;
      const { error, faulted } = await exportFailingFrom(name, format, 3, { throttleEvery: 1 });
      expect(error.code).toBe('THROTTLED');
      expectOneLine(error, MESSAGES.throttled);
      // The read-ahead page and its retries, all of them, and nothing after.
      expect(faulted.map((r) => r.fault)).toEqual(Array(FAST_RETRY.retries + 1).fill('throttle'));
      expect(new Set(faulted.map((r) => r.input.NextToken)).size).toBe(1);
      await rerun(name, format);
    });

    it('an interrupt during a backoff delay stops at once: INTERRUPTED, nothing partial, and a rerun completes', async () => {
      const name = `interrupted-backoff.${ext}`;
      const controller = new AbortController();
      // A minute's backoff: were the delay not cut short by the signal, the test would time out.
      const retry = { retries: 3, minDelayMs: 60_000, maxDelayMs: 60_000 };
      const onPage = (event: PageEvent) => {
        if (event.page === 3) emulator.setFaults({ throttleEvery: 1 });
      };
      // setImmediate: after p-retry has started the delay that follows the first throttle.
      const onRetry = () => setImmediate(() => controller.abort());
      const error = await exportTo(name, format, { retry, onPage, onRetry, signal: controller.signal }).then(
        () => expect.unreachable('the export should have been interrupted'),
        (e: unknown) => e,
      );
      expect(isCtlakeError(error, 'INTERRUPTED')).toBe(true);
      expectOneLine(error as CtlakeError, /^export interrupted; nothing was committed$/);
      await expectNothingLeft(dir, name);
      await rerun(name, format);
    });

    it('5xx on every second request are retried through', async () => {
      const { faulted, retries } = await exportThrough(`5xx-every.${ext}`, format, { serverErrorEvery: 2 });
      expect(faulted.length).toBeGreaterThanOrEqual(PAGES);
      expect(retries).toEqual(faulted.map(() => 'InternalServerError'));
    });

    it('5xx bursts at a seeded rate (0.4) are retried through', async () => {
      const { faulted, retries } = await exportThrough(`5xx-rate.${ext}`, format, { serverErrorRate: 0.4, seed: 7 });
      expect(faulted.length).toBeGreaterThanOrEqual(3);
      expect(retries).toEqual(faulted.map(() => 'InternalServerError'));
    });

    it('a 5xx burst that outlasts the retries fails SERVICE_ERROR with nothing partial, and a rerun completes', async () => {
      const name = `5xx-burst.${ext}`;
      const { error, faulted } = await exportFailingFrom(name, format, 5, { serverErrorEvery: 1 });
      expect(error.code).toBe('SERVICE_ERROR');
      expectOneLine(error, MESSAGES.serverError);
      expect(faulted).toHaveLength(FAST_RETRY.retries + 1);
      await rerun(name, format);
    });

    it('connection resets in the middle of every third response are retried through', async () => {
      const { faulted, retries } = await exportThrough(`reset-every.${ext}`, format, { resetEvery: 3 });
      expect(faulted.length).toBeGreaterThanOrEqual(4);
      expect(faulted.every((r) => r.fault === 'reset')).toBe(true);
      expect(retries).toEqual(faulted.map(() => 'ECONNRESET'));
    });

    it('connection resets at a seeded rate (0.3) on every operation are retried through', async () => {
      const { faulted, retries } = await exportThrough(`reset-rate.${ext}`, format, { resetRate: 0.3, seed: 5 });
      expect(faulted.length).toBeGreaterThanOrEqual(3);
      expect(retries).toEqual(faulted.map(() => 'ECONNRESET'));
    });

    it('resets that outlast the retries fail NETWORK_ERROR with nothing partial, and a rerun completes', async () => {
      const name = `reset-all.${ext}`;
      const { error, faulted } = await exportFailingFrom(name, format, 2, { resetEvery: 1 });
      expect(error.code).toBe('NETWORK_ERROR');
      expectOneLine(error, MESSAGES.reset);
      expect(faulted).toHaveLength(FAST_RETRY.retries + 1);
      await rerun(name, format);
    });

    it('slow answers past the request timeout are retried through', async () => {
      // The stall (1 s) is five times the socket timeout (200 ms): each stalled request times out and is asked again.
      // A busy machine may also time out an answer that was not held back; that is retried the same way.
      const { faulted, retries } = await exportThrough(`slow.${ext}`, format, { slowEvery: 3, slowMs: 1000, operations: ['GetQueryResults'] }, { requestTimeoutMs: 200 }, false);
      expect(faulted.length).toBeGreaterThanOrEqual(3);
      expect(retries.filter((r) => r === 'TimeoutError').length).toBeGreaterThanOrEqual(faulted.length);
    });

    it('answers that stall on every retry fail NETWORK_ERROR with nothing partial, and a rerun completes', async () => {
      const name = `stalled.${ext}`;
      const retry = { ...FAST_RETRY, retries: 2 };
      const { error, faulted } = await exportFailingFrom(name, format, 4, { slowEvery: 1, slowMs: 1000 }, { requestTimeoutMs: 200, retry });
      expect(error.code).toBe('NETWORK_ERROR');
      expectOneLine(error, MESSAGES.timeout);
      expect(faulted).toHaveLength(retry.retries + 1);
      await rerun(name, format);
    });
  });

  describe('the ctlake command prints one error line, exits 1 and leaves nothing', () => {
    it.each([
      ['throttling', { throttleEvery: 1 }, MESSAGES.throttled],
      ['5xx', { serverErrorEvery: 1 }, MESSAGES.serverError],
      ['resets', { resetEvery: 1 }, MESSAGES.reset],
    ] as const)('%s on every page request', async (kind, faults, message) => {
      const name = `cli-${kind}.ndjson`;
      const out = path.join(dir, name);
      emulator.setFaults({ ...faults, operations: ['GetQueryResults'] });
      const failed = captureIO(emulatorEnv(emulator));
      expect(await main(['export', '--query-id', QUERY_ID, '--out', out, '--page-size', String(PAGE_SIZE)], failed.io)).toBe(1);
      expect(errorLine(failed.stderr()).slice('ctlake: error: '.length)).toMatch(message);
      expect(failed.stdout()).toBe('');
      await expectNothingLeft(dir, name);

      emulator.setFaults({});
      const ok = captureIO(emulatorEnv(emulator));
      expect(await main(['export', '--query-id', QUERY_ID, '--out', out, '--page-size', String(PAGE_SIZE)], ok.io)).toBe(0);
      await expectNdjsonFile(out, ROWS);
      expect(await tempFiles(dir, name)).toEqual([]);
    });
  });
});

describe('SIGTERM to a real ctlake process in the middle of an export', () => {
  let emulator: Emulator;
  let db: DuckDBConnection;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: ROWS }] });
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
  });

  /**
   * Starts `ctlake export` to `name` in a new directory, waits (with no
   * deadline of its own) until `ready` holds, sends SIGTERM, and checks the
   * documented ending: exit 130, one error line, nothing in the directory.
   * Then reruns without faults and checks the whole result.
   */
  async function interruptThenRerun(format: Format, extra: string[], faults: FaultOptions, ready: (seen: RequestRecord[], stderr: string) => boolean) {
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-sigterm-'));
    const name = `events.${format}`;
    const out = path.join(dir, name);
    const args = ['export', '--query-id', QUERY_ID, '--out', out, ...extra];
    emulator.setFaults(faults);
    const before = emulator.requests.length;
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...emulatorEnv(emulator) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once(child, 'exit');
    while (!ready(emulator.requests.slice(before), stderr)) {
      expect(child.exitCode, stderr).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The temporary file is there until the signal: the interrupt has something to clean up.
    expect(await tempFiles(dir, name)).toHaveLength(1);
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(130);
    expect(stderr).toMatch(/ctlake: SIGTERM: stopping/);
    expect(errorLine(stderr)).toBe('ctlake: error: export interrupted; nothing was committed');
    expect(await readdir(dir)).toEqual([]);
    const asked = emulator.requests.slice(before).filter((r) => r.operation === 'GetQueryResults' && r.fault === undefined);

    emulator.setFaults({});
    const again = await runCli(args, emulatorEnv(emulator));
    expect(again.status).toBe(0);
    if (format === 'parquet') await expectParquetFile(db, out, ROWS);
    else await expectNdjsonFile(out, ROWS);
    expect(await readdir(dir)).toEqual([name]);
    return { asked };
  }

  it.each(FORMATS)('to %s, after some pages: exits 130, leaves no file and no temporary file; a rerun completes', async (format) => {
    const pageSize = 100;
    // Latency on every answer keeps the 25 pages in flight long enough to be interrupted.
    const { asked } = await interruptThenRerun(format, ['--page-size', String(pageSize), '--row-group-rows', String(pageSize)], { latencyMs: 40 }, (seen) =>
      seen.filter((r) => r.operation === 'GetQueryResults').length >= 4,
    );
    expect(asked.length).toBeGreaterThanOrEqual(4);
    expect(asked.length).toBeLessThan(ROWS.length / pageSize);
  });

  it('while it backs off from throttling: exits 130 from the backoff, leaves nothing; a rerun completes', async () => {
    // Every page request is throttled: the process sits in its backoff (250 ms and up, 8 retries) until the signal.
    await interruptThenRerun('ndjson', ['--page-size', String(PAGE_SIZE)], { throttleEvery: 1, operations: ['GetQueryResults'] }, (seen, stderr) =>
      seen.some((r) => r.fault === 'throttle') && /retry 1 of 8/.test(stderr),
    );
  });
});

describe('a destination that runs out of space (ENOSPC)', () => {
  let emulator: Emulator;
  let db: DuckDBConnection;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: ROWS }] });
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
  });

  const ENOSPC_LINE = /^ctlake: error: cannot write .*ENOSPC.*; free some space or choose another --out$/;

  it.for(FORMATS)('--out - to %s on /dev/full: one line naming ENOSPC, exit 1; to a pipe it completes', async (format, context) => {
    if (!existsSync('/dev/full')) return context.skip('no /dev/full on this system');
    const args = `export --query-id ${QUERY_ID} --out - --format ${format} --page-size ${PAGE_SIZE}`;
    // Every write to /dev/full fails with ENOSPC, so this is a destination full from its first byte.
    const full = await runShell(`eval "$CTLAKE" ${args} > /dev/full`, emulatorEnv(emulator));
    expect(errorLine(full.stderr)).toMatch(ENOSPC_LINE);
    expect(full.status).toBe(1);

    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-enospc-'));
    const out = path.join(dir, `stdout.${format}`);
    const piped = await runShell(`eval "$CTLAKE" ${args} | cat > '${out}'`, emulatorEnv(emulator));
    expect(piped.stderr).toMatch(/2500 rows, 10 pages/);
    if (format === 'parquet') await expectParquetFile(db, out, ROWS);
    else expectNdjsonRows(await readFile(out, 'utf8'), ROWS);
  });

  it.for(FORMATS)('a file on a full tmpfs, %s: one line naming ENOSPC, exit 1, nothing left; with room a rerun completes', async (format, context) => {
    // 16 KiB: a quarter of the smaller file below, so the disk fills in the middle of the export.
    const tmpfs = await mountTmpfs('16k');
    if (typeof tmpfs === 'string') return context.skip(tmpfs);
    try {
      const dir = path.join(tmpfs.dir, 'exports');
      const name = `events.${format}`;
      const out = path.join(dir, name);
      // About 425 KiB of NDJSON, or 60 KiB of uncompressed Parquet written a row group (one page) at a time.
      const args = ['export', '--query-id', QUERY_ID, '--out', out, '--page-size', String(PAGE_SIZE)];
      if (format === 'parquet') args.push('--compression', 'none', '--row-group-rows', String(PAGE_SIZE));
      const failed = await runCli(args, emulatorEnv(emulator));
      expect(errorLine(failed.stderr)).toMatch(ENOSPC_LINE);
      expect(failed.status).toBe(1);
      // Nothing at all: not the file, not the temporary file, not even the directory ctlake created for it.
      expect(await readdir(tmpfs.dir)).toEqual([]);

      await tmpfs.resize('8m');
      const again = await runCli(args, emulatorEnv(emulator));
      expect(again.status).toBe(0);
      if (format === 'parquet') await expectParquetFile(db, out, ROWS);
      else await expectNdjsonFile(out, ROWS);
      expect(await readdir(dir)).toEqual([name]);
    } finally {
      await tmpfs.unmount();
    }
  });
});
