import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeQueryCommand } from '@aws-sdk/client-cloudtrail';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { exportQuery } from '../src/export/export-query.js';
import { isCtlakeError } from '../src/errors.js';
import { createCloudTrailClient } from '../src/source/cloudtrail-client.js';
import type { RetryEvent } from '../src/source/retry.js';
import { FAST_RETRY, sampleRows, withEmulator } from './support/lake.js';

/**
 * A response that trickles: the emulator sends the answer a few bytes at a
 * time, often enough that the socket idle timeout (requestTimeoutMs) never
 * fires. Only the overall deadline of a request (requestDeadlineMs) ends it,
 * and it is retried like any timeout.
 */
describe('a response that trickles is ended by the request deadline', () => {
  let emulator: Emulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await withEmulator();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-trickle-'));
  });
  afterEach(() => emulator.setFaults({}));
  afterAll(() => emulator.close());

  it('a trickling answer fails the call with a TimeoutError though bytes keep arriving (real SDK client)', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(5) });
    // 2 bytes every 20 ms: the socket is never idle for the 10 s idle timeout.
    emulator.setFaults({ trickleEvery: 1, trickleBytes: 2, trickleMs: 20 });
    const client = createCloudTrailClient({ endpointUrl: emulator.url, region: 'us-east-1', requestTimeoutMs: 10_000, requestDeadlineMs: 300 });
    const error = await client.send(new DescribeQueryCommand({ QueryId: queryId })).catch((e: unknown) => e);
    client.destroy();
    expect(error).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect((error as Error).message).toMatch(/the request took longer than its deadline of 300 ms/);
  });

  it('an answer that finishes within the deadline is read whole', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(5) });
    emulator.setFaults({ trickleEvery: 1, trickleBytes: 4096, trickleMs: 1 });
    const client = createCloudTrailClient({ endpointUrl: emulator.url, region: 'us-east-1', requestDeadlineMs: 20_000 });
    const answer = await client.send(new DescribeQueryCommand({ QueryId: queryId }));
    client.destroy();
    expect(answer).toMatchObject({ QueryId: queryId, QueryStatus: 'FINISHED' });
  });

  it('trickling pages are retried as timeouts, then fail NETWORK_ERROR with one line and nothing at --out', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(200) });
    emulator.setFaults({ trickleEvery: 1, trickleBytes: 8, trickleMs: 20, operations: ['GetQueryResults'] });
    const retries: RetryEvent[] = [];
    const retry = { ...FAST_RETRY, retries: 2 };
    const out = path.join(dir, 'trickle.ndjson');
    const before = emulator.requests.length;
    const error = await exportQuery({
      queryId,
      out,
      endpointUrl: emulator.url,
      region: 'us-east-1',
      retry,
      requestTimeoutMs: 10_000,
      requestDeadlineMs: 300,
      onRetry: (event) => retries.push(event),
    }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'NETWORK_ERROR')).toBe(true);
    expect((error as Error).message).toMatch(/^GetQueryResults: network fault outlasted every retry \(ETIMEDOUT: the request took longer than its deadline of 300 ms/);
    expect((error as Error).message).not.toContain('\n');
    expect(retries.map((r) => r.operation)).toEqual(['GetQueryResults', 'GetQueryResults']);
    expect(emulator.requests.slice(before).filter((r) => r.fault === 'trickle')).toHaveLength(retry.retries + 1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects a requestDeadlineMs that is not a positive whole number', async () => {
    await expect(exportQuery({ queryId: '0a1b2c3d-0000-4000-8000-123456789abc', out: '-', requestDeadlineMs: 0 })).rejects.toThrow(
      'Invalid option requestDeadlineMs: 0; expected a whole number from 1 to 86400000',
    );
  });
});
