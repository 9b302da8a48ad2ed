import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { Emulator } from '../src/emulator/server.js';
import { exportQuery } from '../src/export/export-query.js';
import { CallStats } from '../src/source/call-stats.js';
import { createCloudTrailClient } from '../src/source/cloudtrail-client.js';
import { RateLimiter } from '../src/source/rate-limit.js';
import { QUERY_ID, FAST_RETRY, parseNdjson, sampleRows, withEmulator } from './support/lake.js';

/**
 * Exports through one client that a RateLimiter paces and a CallStats
 * watches, against the emulator over HTTP: what the stats say must be what
 * the emulator saw, request by request.
 */
const ROWS = sampleRows(1200);
const PAGE_SIZE = 100;
const PAGES = ROWS.length / PAGE_SIZE;
const OTHER_ID = '0a1b2c3d-0000-4000-8000-0000000000b2';

/** The emulator's requests since `from`, counted per operation. */
function seenSince(emulator: Emulator, from: number) {
  const requests = emulator.requests.slice(from);
  const count = (operation: string, fault?: string) => requests.filter((r) => r.operation === operation && (fault === undefined || r.fault === fault)).length;
  return { requests, count };
}

describe('export through a rate-limited client', () => {
  let emulator: Emulator;
  let dir: string;
  let client: CloudTrailClient | undefined;
  beforeAll(async () => {
    emulator = await withEmulator({ sample: 200, seed: 3, queries: [{ queryId: QUERY_ID, rows: ROWS }, { queryId: OTHER_ID, rows: ROWS.slice(0, 500) }] });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-rate-limit-'));
  });
  afterEach(() => {
    emulator.setFaults({});
    client?.destroy();
    client = undefined;
  });
  afterAll(() => emulator.close());

  const limited = (limiter: RateLimiter, stats: CallStats) =>
    (client = createCloudTrailClient({ endpointUrl: emulator.url, region: 'us-east-1', rateLimiter: limiter, callStats: stats }));

  it('records every GetQueryResults with its latency, and every other call, as the emulator saw them', async () => {
    const rate = 50;
    const stats = new CallStats();
    const out = path.join(dir, 'paced.ndjson');
    const before = emulator.requests.length;
    const start = performance.now();
    const summary = await exportQuery({ queryId: QUERY_ID, out, pageSize: PAGE_SIZE, client: limited(new RateLimiter({ readPerSecond: rate }), stats), retry: FAST_RETRY });
    const elapsed = performance.now() - start;
    expect(summary.rows).toBe(ROWS.length);
    expect(summary.pages).toBe(PAGES);
    expect(parseNdjson(await readFile(out, 'utf8')).map((r) => r.seq)).toEqual(ROWS.map((_, i) => String(i)));

    const seen = seenSince(emulator, before);
    const snapshot = stats.snapshot();
    expect(snapshot.requests).toBe(seen.requests.length);
    expect(snapshot.throttled).toBe(0);
    const byOperation = new Map<string, { requests: number; throttled: number }>();
    for (const r of seen.requests) byOperation.set(r.operation, { requests: seen.count(r.operation), throttled: 0 });
    expect({ ...snapshot.byOperation }).toEqual(Object.fromEntries(byOperation));
    expect(snapshot.byOperation.GetQueryResults).toEqual({ requests: PAGES, throttled: 0 });
    expect(snapshot.pageLatencyMs?.count).toBe(PAGES);
    expect(snapshot.pageLatencyMs!.p50).toBeGreaterThan(0);
    expect(snapshot.pageLatencyMs!.p95).toBeGreaterThanOrEqual(snapshot.pageLatencyMs!.p50);
    // All the calls of this export are reads: spaced 1/rate apart at least.
    expect(elapsed).toBeGreaterThanOrEqual(((seen.requests.length - 1) * 1000) / rate - 1);
    expect(snapshot.waitedMs).toBeGreaterThan(0);
  });

  it('counts the throttled answers, which ctlake retries, apart from the pages', async () => {
    const stats = new CallStats();
    const out = path.join(dir, 'throttled.ndjson');
    emulator.setFaults({ throttleEvery: 3, operations: ['GetQueryResults'] });
    const before = emulator.requests.length;
    const summary = await exportQuery({ queryId: QUERY_ID, out, pageSize: PAGE_SIZE, client: limited(new RateLimiter({ readPerSecond: 100 }), stats), retry: FAST_RETRY });
    expect(parseNdjson(await readFile(out, 'utf8')).map((r) => r.seq)).toEqual(ROWS.map((_, i) => String(i)));

    const seen = seenSince(emulator, before);
    const throttled = seen.count('GetQueryResults', 'throttle');
    expect(throttled).toBeGreaterThanOrEqual(PAGES / 2 - 1);
    const snapshot = stats.snapshot();
    expect(snapshot.byOperation.GetQueryResults).toEqual({ requests: seen.count('GetQueryResults'), throttled });
    expect(snapshot.byOperation.GetQueryResults!.requests).toBe(summary.pages + throttled);
    expect(snapshot.throttled).toBe(throttled);
    expect(snapshot.requests).toBe(seen.requests.length);
    // Only the answered pages are latencies.
    expect(snapshot.pageLatencyMs?.count).toBe(summary.pages);
  });

  it('one limiter paces several exports at once, reads and StartQuery writes each at their rate', async () => {
    const read = 40;
    const write = 4;
    const limiter = new RateLimiter({ readPerSecond: read, writePerSecond: write });
    const stats = new CallStats();
    const shared = limited(limiter, stats);
    const before = emulator.requests.length;
    const start = performance.now();
    const sql = `SELECT eventTime, eventName FROM ${emulator.eventDataStoreId} WHERE eventName = 'ConsoleLogin'`;
    const summaries = await Promise.all([
      exportQuery({ queryId: QUERY_ID, out: path.join(dir, 'a.ndjson'), pageSize: PAGE_SIZE, client: shared, retry: FAST_RETRY }),
      exportQuery({ queryId: OTHER_ID, out: path.join(dir, 'b.ndjson'), pageSize: PAGE_SIZE, client: shared, retry: FAST_RETRY }),
      exportQuery({ sql, out: path.join(dir, 'c.ndjson'), client: shared, retry: FAST_RETRY, pollMinMs: 5 }),
      exportQuery({ sql, out: path.join(dir, 'd.ndjson'), client: shared, retry: FAST_RETRY, pollMinMs: 5 }),
    ]);
    const elapsed = performance.now() - start;
    expect(summaries.map((s) => s.rows).slice(0, 2)).toEqual([ROWS.length, 500]);
    expect(summaries[2]!.rows).toBe(summaries[3]!.rows);

    const seen = seenSince(emulator, before);
    const snapshot = stats.snapshot();
    expect(snapshot.requests).toBe(seen.requests.length);
    expect(snapshot.byOperation.StartQuery?.requests).toBe(2);
    expect(snapshot.byOperation.GetQueryResults?.requests).toBe(seen.count('GetQueryResults'));
    expect(snapshot.pageLatencyMs?.count).toBe(summaries.reduce((n, s) => n + s.pages, 0));
    const reads = seen.requests.filter((r) => /^(Get|Describe|List)/.test(r.operation)).length;
    // Lower bounds only: the reads of all four exports went one every 1/read s,
    // and the two StartQuery calls 1/write s apart.
    expect(elapsed).toBeGreaterThanOrEqual(Math.max(((reads - 1) * 1000) / read, 1000 / write) - 1);
    expect(limiter.waiting('read') + limiter.waiting('write')).toBe(0);
  });
});
