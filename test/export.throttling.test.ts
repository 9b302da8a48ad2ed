import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { exportQuery } from '../src/export/export-query.js';
import { isCtlakeError } from '../src/errors.js';
import { QUERY_ID, FAST_RETRY, captureIO, emulatorEnv, parseNdjson, sampleRows, withEmulator } from './support/lake.js';

const ROWS = sampleRows(2500);

function expectSequence(text: string) {
  const records = parseNdjson(text);
  expect(records.map((r) => r.seq)).toEqual(ROWS.map((_, i) => String(i)));
}

describe('export through throttling, 5xx and resets', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: ROWS }] });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-faults-'));
  });
  afterAll(() => emulator.close());

  it('retries ThrottlingException on every second request and keeps every row once, in order', async () => {
    emulator.setFaults({ throttleEvery: 2 });
    const before = emulator.requests.length;
    const { io, stdout, stderr } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', QUERY_ID, '--out', '-'], io)).toBe(0);
    expectSequence(stdout());
    expect(stderr()).toMatch(/ThrottlingException; retry 1 of 6/);
    const throttled = emulator.requests.slice(before).filter((r) => r.fault === 'throttle');
    expect(throttled.length).toBeGreaterThanOrEqual(2);
  });

  it('asks a retried page again with the same NextToken', async () => {
    emulator.setFaults({ throttleEvery: 2, operations: ['GetQueryResults'] });
    const before = emulator.requests.length;
    const out = path.join(dir, 'throttled.ndjson');
    await exportQuery({ queryId: QUERY_ID, out, endpointUrl: emulator.url, region: 'us-east-1', retry: FAST_RETRY });
    expectSequence(await readFile(out, 'utf8'));
    const calls = emulator.requests.slice(before).filter((r) => r.operation === 'GetQueryResults');
    // Requests 2 and 4 are throttled: each is asked again with the token of the attempt it follows.
    expect(calls.map((c) => c.fault)).toEqual([undefined, 'throttle', undefined, 'throttle', undefined]);
    expect(calls[2]?.input.NextToken).toBe(calls[1]?.input.NextToken);
    expect(calls[4]?.input.NextToken).toBe(calls[3]?.input.NextToken);
  });

  it('survives a connection reset in the middle of a page', async () => {
    emulator.setFaults({ resetEvery: 3, operations: ['GetQueryResults'] });
    const out = path.join(dir, 'reset.ndjson');
    const retries: string[] = [];
    const summary = await exportQuery({
      queryId: QUERY_ID,
      out,
      endpointUrl: emulator.url,
      region: 'us-east-1',
      retry: FAST_RETRY,
      onRetry: (e) => retries.push((e.error as NodeJS.ErrnoException).code ?? e.error.name),
    });
    expect(summary.rows).toBe(2500);
    expect(retries).toContain('ECONNRESET');
    expectSequence(await readFile(out, 'utf8'));
  });

  it('retries a page whose answer stalls past the request timeout', async () => {
    emulator.setFaults({ slowEvery: 2, slowMs: 2000, operations: ['GetQueryResults'] });
    const out = path.join(dir, 'slow.ndjson');
    const retries: string[] = [];
    await exportQuery({
      queryId: QUERY_ID,
      out,
      endpointUrl: emulator.url,
      region: 'us-east-1',
      requestTimeoutMs: 300,
      retry: FAST_RETRY,
      onRetry: (e) => retries.push(e.error.name),
    });
    expect(retries).toContain('TimeoutError');
    expectSequence(await readFile(out, 'utf8'));
  });

  it('survives a burst of 5xx', async () => {
    emulator.setFaults({ serverErrorRate: 0.4, seed: 7 });
    const { io, stdout } = captureIO(emulatorEnv(emulator));
    expect(await main(['export', '--query-id', QUERY_ID, '--out', '-', '--quiet'], io)).toBe(0);
    expectSequence(stdout());
  });

  it('gives up after the last retry with THROTTLED and leaves no file', async () => {
    emulator.setFaults({ throttleEvery: 1, operations: ['GetQueryResults'] });
    const out = path.join(dir, 'never.ndjson');
    const error = await exportQuery({ queryId: QUERY_ID, out, endpointUrl: emulator.url, region: 'us-east-1', retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 } }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'THROTTLED')).toBe(true);
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).filter((f) => f.includes('never'))).toEqual([]);
  });

  it('fails at once, without retrying, on errors no retry can fix', async () => {
    emulator.setFaults({});
    const before = emulator.requests.length;
    const { io, stderr } = captureIO(emulatorEnv(emulator));
    const code = await main(['export', '--query-id', '0a1b2c3d-0000-4000-8000-00000000dead', '--out', '-'], io);
    expect(code).toBe(1);
    expect(stderr()).toMatch(/^ctlake: error: DescribeQuery: query 0a1b2c3d-0000-4000-8000-00000000dead not found; check the id and --region/m);
    expect(emulator.requests.length - before).toBe(1);
  });
});
