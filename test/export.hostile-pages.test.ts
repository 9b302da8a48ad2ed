import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import type { FaultOptions } from '../src/emulator/faults.js';
import { main } from '../src/cli/main.js';
import { exportQuery } from '../src/export/export-query.js';
import { isCtlakeError } from '../src/errors.js';
import { EMPTY_PAGE_LIMIT, STATUS_DISAGREEMENT_LIMIT, queryPages } from '../src/source/query-pages.js';
import { waitForQuery } from '../src/source/query-status.js';
import { runCli } from './support/cli-process.js';
import { FAST_RETRY, captureIO, emulatorClient, emulatorEnv, parseNdjson, sampleRows, withEmulator } from './support/lake.js';

/**
 * Hostile GetQueryResults chains and statuses, played by the emulator's
 * faults through the real SDK: every run ends with one error line, and
 * nothing is left at --out (no file, no temporary file beside it).
 */
describe('hostile page chains: every run ends, nothing is left at --out', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await withEmulator();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-pages-'));
  });
  afterEach(() => emulator.setFaults({}));
  afterAll(() => emulator.close());

  /** Runs the library export of a fresh query under `faults`, and returns its error. */
  async function failingExport(rows: number, faults: FaultOptions, pageSize = 10) {
    const queryId = emulator.addQuery({ rows: sampleRows(rows) });
    emulator.setFaults(faults);
    const before = emulator.requests.length;
    const out = path.join(dir, `${queryId}.ndjson`);
    const error = await exportQuery({ queryId, out, endpointUrl: emulator.url, region: 'us-east-1', pageSize, retry: FAST_RETRY, pollMinMs: 1, pollMaxMs: 2 }).catch((e: unknown) => e);
    const pages = emulator.requests.slice(before).filter((r) => r.operation === 'GetQueryResults').length;
    return { error, pages, queryId };
  }

  it('token cycle: a NextToken that comes back to an earlier page (not the previous one) fails with UNEXPECTED_RESPONSE', async () => {
    const { error, pages } = await failingExport(100, { tokenCycle: 3 });
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toBe("GetQueryResults: page 3 returned the NextToken page 0 gave, so the pages would come round again; the service's chain of pages does not converge");
    expect(pages).toBe(4);
    expect(await readdir(dir)).toEqual([]);
  });

  it('token cycle of one: a page that hands out its own NextToken again still fails', async () => {
    const { error } = await failingExport(100, { tokenCycle: 1 });
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toMatch(/^GetQueryResults: page 1 returned its own NextToken again; /);
    expect(await readdir(dir)).toEqual([]);
  });

  it('endless tokens: new NextTokens while the rows read exceed TotalResultsCount fail at the first page past the count', async () => {
    const { error, pages } = await failingExport(25, { endlessTokens: 'rows' });
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toBe("GetQueryResults: page 3 has a NextToken though the 35 rows read already exceed TotalResultsCount 25; the service's chain of pages does not converge");
    expect(pages).toBe(4);
    expect(await readdir(dir)).toEqual([]);
  });

  it('endless tokens on empty pages: a run of empty pages, each with a new NextToken, fails', async () => {
    const { error, pages } = await failingExport(20, { endlessTokens: 'empty' });
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`page ${2 + EMPTY_PAGE_LIMIT} is the ${EMPTY_PAGE_LIMIT + 1}th empty page in a row with a NextToken`));
    expect(pages).toBe(3 + EMPTY_PAGE_LIMIT);
    expect(await readdir(dir)).toEqual([]);
  });

  it('count drift: a TotalResultsCount that falls below the rows already read fails at that page', async () => {
    const { error } = await failingExport(30, { countDrift: [30, 30, 15] });
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toBe("GetQueryResults: page 2 reports TotalResultsCount 15, below the 20 rows earlier pages returned; the service's counts do not add up");
    expect(await readdir(dir)).toEqual([]);
  });

  it('count drift: pages without TotalResultsCount keep the last one known, and the export completes', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(30) });
    emulator.setFaults({ countDrift: [30, null, null] });
    const done = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-pages-done-'));
    const out = path.join(done, 'missing-some.ndjson');
    const summary = await exportQuery({ queryId, out, endpointUrl: emulator.url, region: 'us-east-1', pageSize: 10, retry: FAST_RETRY });
    expect(summary).toMatchObject({ rows: 30, pages: 3, queryStatistics: { totalResultsCount: 30 } });
    expect(await readdir(done)).toEqual(['missing-some.ndjson']);
  });

  it('count drift: a count that changes but stays at or above the rows read is the one the rows are checked against (COUNT_MISMATCH)', async () => {
    const { error } = await failingExport(30, { countDrift: [30, 40, 40] });
    expect(isCtlakeError(error, 'COUNT_MISMATCH')).toBe(true);
    expect((error as Error).message).toMatch(/read 30 rows but the service reported TotalResultsCount 40; nothing was committed/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('count never known: endless tokens with no TotalResultsCount stop at the page limit', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(5) });
    emulator.setFaults({ endlessTokens: 'rows', countDrift: 'missing' });
    const client = emulatorClient(emulator);
    const seen: number[] = [];
    const error = await (async () => {
      for await (const page of queryPages(client, { queryId, pageSize: 5, retry: FAST_RETRY, uncountedPageLimit: 20 })) seen.push(page.index);
    })().catch((e: unknown) => e);
    client.destroy();
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toBe("GetQueryResults: page 19 has a NextToken after 20 pages (100 rows) with no TotalResultsCount, the most ctlake reads without one; the service's chain of pages does not converge");
    // The page whose token breaks the bound is not handed on.
    expect(seen).toEqual(Array.from({ length: 19 }, (_, i) => i));
  });

  it('token cycle through the built CLI: exit 1, one error line, no file and no temporary file', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(50) });
    emulator.setFaults({ tokenCycle: 2 });
    const out = path.join(dir, 'cli-cycle.parquet');
    const result = await runCli(['export', '--query-id', queryId, '--out', out, '--page-size', '10'], emulatorEnv(emulator));
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("ctlake: error: GetQueryResults: page 2 returned the NextToken page 0 gave, so the pages would come round again; the service's chain of pages does not converge\n");
    expect(await readdir(dir)).toEqual([]);
  });

  it('endless tokens through the built CLI: exit 1, one error line, nothing at --out', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(15) });
    emulator.setFaults({ endlessTokens: 'rows' });
    const out = path.join(dir, 'cli-endless.ndjson');
    const result = await runCli(['export', '--query-id', queryId, '--out', out, '--page-size', '10'], emulatorEnv(emulator));
    expect(result.status).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      "ctlake: error: GetQueryResults: page 2 has a NextToken though the 25 rows read already exceed TotalResultsCount 15; the service's chain of pages does not converge",
    ]);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('status that disagrees between calls: GetQueryResults RUNNING while DescribeQuery FINISHED', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await withEmulator();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-status-'));
  });
  afterEach(() => emulator.setFaults({}));
  afterAll(() => emulator.close());

  it('a disagreement that lasts fails after a bounded number of re-waits, each with a DescribeQuery, and leaves nothing', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(30) });
    emulator.setFaults({ statusDisagree: true });
    const before = emulator.requests.length;
    const out = path.join(dir, 'disagree.ndjson');
    const { io, stderr } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', out, '--page-size', '10'], io)).toBe(1);
    expect(stderr()).toBe(
      `ctlake: error: GetQueryResults: page 0 was answered RUNNING ${STATUS_DISAGREEMENT_LIMIT + 1} times in a row while DescribeQuery answered FINISHED; the service disagrees with itself, try again later\n`,
    );
    const calls = emulator.requests.slice(before).map((r) => r.operation);
    expect(calls.filter((c) => c === 'GetQueryResults')).toHaveLength(STATUS_DISAGREEMENT_LIMIT + 1);
    expect(calls.filter((c) => c === 'DescribeQuery')).toHaveLength(STATUS_DISAGREEMENT_LIMIT + 1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a disagreement that passes is waited out: the export completes with every row once', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(30) });
    emulator.setFaults({ statusDisagree: 2 });
    const { io, stdout } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', queryId, '--out', '-', '--page-size', '10'], io)).toBe(0);
    expect(parseNdjson(stdout()).map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
  });
});

describe('a query the service never settles: the wait for it is bounded', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await withEmulator();
  });
  afterAll(() => emulator.close());

  it('RUNNING for ever fails with UNEXPECTED_RESPONSE once maxWaitMs has passed', async () => {
    const queryId = emulator.addQuery({ rows: [], statuses: Array.from({ length: 100_000 }, () => 'RUNNING' as const) });
    const client = emulatorClient(emulator);
    const error = await waitForQuery(client, { queryId, retry: FAST_RETRY, pollMinMs: 1, pollMaxMs: 5, maxWaitMs: 50 }).catch((e: unknown) => e);
    client.destroy();
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toBe(
      `DescribeQuery: query ${queryId} is still RUNNING after 50 ms, beyond Lake's one-hour run-time limit; the service is not settling it (cancel it with ctlake cancel)`,
    );
  });
});
