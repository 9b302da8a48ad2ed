import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CloudTrailClient, DescribeQueryCommand, ListEventDataStoresCommand, ListQueriesCommand } from '@aws-sdk/client-cloudtrail';
import type { Emulator } from '../src/emulator/server.js';
import { isCtlakeError, OptionError } from '../src/errors.js';
import { CallStats, LatencyHistogram } from '../src/source/call-stats.js';
import { createCloudTrailClient } from '../src/source/cloudtrail-client.js';
import { LIMIT_MIDDLEWARE_NAME, limitClient } from '../src/source/limit-client.js';
import { callKind, RateLimiter, type CallKind } from '../src/source/rate-limit.js';
import { QUERY_ID, emulatorClient, sampleRows, withEmulator } from './support/lake.js';

/** Asks for `count` slots of `kind` at once; resolves with the fake clock's time of each grant, in grant order. */
function askMany(limiter: RateLimiter, kind: CallKind, count: number, grants: Array<{ id: string; at: number }>, prefix = kind) {
  return Array.from({ length: count }, (_, i) => limiter.acquire(kind).then(() => void grants.push({ id: `${prefix}${i}`, at: performance.now() })));
}

describe('callKind', () => {
  it('makes Get*, Describe* and List* reads, and every other operation a write', () => {
    for (const name of ['GetQueryResultsCommand', 'DescribeQueryCommand', 'ListQueriesCommand', 'GetEventDataStoreCommand', 'ListEventDataStoresCommand', 'ListPublicKeysCommand', 'GetQueryResults']) {
      expect(callKind(name), name).toBe('read');
    }
    for (const name of ['StartQueryCommand', 'CancelQueryCommand', 'CreateEventDataStoreCommand', 'LookupEventsCommand', 'Getaway', '', 'constructor']) {
      expect(callKind(name), name).toBe('write');
    }
  });
});

describe('RateLimiter options', () => {
  it('spaces calls 5 % further apart than the rate by default, so that an early arrival does not meet a strict bucket', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const limiter = new RateLimiter({ writePerSecond: 1 });
      const start = performance.now();
      const at: number[] = [];
      const granted = Promise.all([0, 1, 2].map(() => limiter.acquire('write').then(() => void at.push(performance.now() - start))));
      await vi.advanceTimersByTimeAsync(5000);
      await granted;
      expect(at.map(Math.round)).toEqual([0, 1050, 2100]);
      expect(() => new RateLimiter({ spacingMargin: 2 })).toThrow(/spacingMargin/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('defaults to Lake’s published rates', () => {
    expect(new RateLimiter().rates).toEqual({ read: 10, write: 1 });
    expect(new RateLimiter({ readPerSecond: 2.5, writePerSecond: 0.5 }).rates).toEqual({ read: 2.5, write: 0.5 });
  });

  it.each([
    ['readPerSecond', 0],
    ['readPerSecond', -1],
    ['readPerSecond', Number.NaN],
    ['readPerSecond', Number.POSITIVE_INFINITY],
    ['writePerSecond', '1'],
    ['writePerSecond', null],
    ['maxWaiting', 0],
    ['maxWaiting', 1.5],
  ])('throws a TypeError naming %s for %s', (option, value) => {
    const error = (() => {
      try {
        return new RateLimiter({ [option]: value } as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe(option);
    expect((error as Error).message).toContain(option);
  });
});

describe('RateLimiter pacing (fake clock)', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });
  afterEach(async () => {
    // Lets each test's limiter drain, so that the next starts on an idle clock.
    await vi.advanceTimersByTimeAsync(60_000);
  });

  it('grants one call every 1/rate seconds, in the order asked, the first at once', async () => {
    const limiter = new RateLimiter({ readPerSecond: 10, spacingMargin: 0 });
    const start = performance.now();
    const grants: Array<{ id: string; at: number }> = [];
    const all = askMany(limiter, 'read', 5, grants);
    await vi.advanceTimersByTimeAsync(0);
    expect(grants.map((g) => g.id)).toEqual(['read0']);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(all);
    expect(grants.map((g) => g.id)).toEqual(['read0', 'read1', 'read2', 'read3', 'read4']);
    expect(grants.map((g) => Math.round(g.at - start))).toEqual([0, 100, 200, 300, 400]);
  });

  it('paces reads and writes each at its own rate, independently', async () => {
    const limiter = new RateLimiter({ readPerSecond: 10, writePerSecond: 1, spacingMargin: 0 });
    const start = performance.now();
    const grants: Array<{ id: string; at: number }> = [];
    const all = [...askMany(limiter, 'write', 3, grants), ...askMany(limiter, 'read', 3, grants)];
    await vi.advanceTimersByTimeAsync(3000);
    await Promise.all(all);
    const at = Object.fromEntries(grants.map((g) => [g.id, Math.round(g.at - start)]));
    expect(at).toEqual({ write0: 0, write1: 1000, write2: 2000, read0: 0, read1: 100, read2: 200 });
  });

  it('saves up no slots while idle: after a pause the calls are still spaced (burst 1)', async () => {
    const limiter = new RateLimiter({ readPerSecond: 4, spacingMargin: 0 });
    await limiter.acquire('read');
    await vi.advanceTimersByTimeAsync(10_000);
    const start = performance.now();
    const grants: Array<{ id: string; at: number }> = [];
    const all = askMany(limiter, 'read', 4, grants);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(all);
    expect(grants.map((g) => Math.round(g.at - start))).toEqual([0, 250, 500, 750]);
  });

  it('never grants more than `rate` calls in any 1-second window, whenever the calls come', async () => {
    const rate = 10;
    const limiter = new RateLimiter({ readPerSecond: rate, spacingMargin: 0 });
    const grants: number[] = [];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 300; i++) {
      // Bursts and lulls: 0 to 3 calls, then 0 to 250 ms of nothing.
      const burst = Math.floor(random() * 4);
      for (let j = 0; j < burst; j++) pending.push(limiter.acquire('read').then(() => void grants.push(performance.now())));
      await vi.advanceTimersByTimeAsync(Math.floor(random() * 250));
    }
    await vi.advanceTimersByTimeAsync(120_000);
    await Promise.all(pending);
    expect(grants.length).toBe(pending.length);
    for (let i = 0; i + rate < grants.length; i++) expect(grants[i + rate]! - grants[i]!).toBeGreaterThanOrEqual(1000);
    for (let i = 1; i < grants.length; i++) expect(grants[i]! - grants[i - 1]!).toBeGreaterThanOrEqual(100);
  });

  it('an aborted wait rejects with the signal’s reason and gives its place to the next call', async () => {
    const limiter = new RateLimiter({ readPerSecond: 10, spacingMargin: 0 });
    const start = performance.now();
    await limiter.acquire('read');
    const controller = new AbortController();
    const reason = new Error('stop');
    const aborted = limiter.acquire('read', controller.signal);
    const next: number[] = [];
    const after = limiter.acquire('read').then(() => void next.push(performance.now() - start));
    expect(limiter.waiting('read')).toBe(2);
    await vi.advanceTimersByTimeAsync(50);
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(limiter.waiting('read')).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await after;
    // The aborted call's slot, at 100 ms, went to the one behind it.
    expect(next.map(Math.round)).toEqual([100]);
    expect(limiter.waiting('read')).toBe(0);
  });

  it('a signal aborted already rejects at once and takes no place', async () => {
    const limiter = new RateLimiter({ writePerSecond: 1, spacingMargin: 0 });
    const reason = new Error('gone');
    await expect(limiter.acquire('write', AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(limiter.waiting('write')).toBe(0);
    const start = performance.now();
    await limiter.acquire('write');
    expect(performance.now() - start).toBe(0);
  });

  it('bounds its queue: a call beyond maxWaiting is refused with THROTTLED', async () => {
    const limiter = new RateLimiter({ writePerSecond: 1, maxWaiting: 2, spacingMargin: 0 });
    await limiter.acquire('write');
    const waiting = [limiter.acquire('write'), limiter.acquire('write')];
    const refused = await limiter.acquire('write').catch((e: unknown) => e);
    expect(isCtlakeError(refused, 'THROTTLED')).toBe(true);
    expect((refused as Error).message).toMatch(/^2 write calls already wait for the rate limiter, the most it queues \(its maxWaiting\)/);
    // Reads have their own queue.
    await limiter.acquire('read');
    await vi.advanceTimersByTimeAsync(2000);
    await Promise.all(waiting);
  });
});

describe('RateLimiter pacing (real clock)', () => {
  it('takes at least (N - 1)/rate seconds for N calls', async () => {
    const limiter = new RateLimiter({ readPerSecond: 20, spacingMargin: 0 });
    const start = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => limiter.acquire('read')));
    expect(performance.now() - start).toBeGreaterThanOrEqual(250 - 1);
  });
});

describe('LatencyHistogram', () => {
  it('gives p50 and p95 to within 1 % in fixed memory', () => {
    const histogram = new LatencyHistogram();
    // 1 to 20,000 ms, shuffled: p50 is 10,000, p95 19,000.
    const values = Array.from({ length: 20_000 }, (_, i) => i + 1).sort((a, b) => ((a * 7919) % 20_011) - ((b * 7919) % 20_011));
    for (const v of values) histogram.add(v);
    expect(histogram.count).toBe(20_000);
    expect(Math.abs(histogram.quantile(0.5)! / 10_000 - 1)).toBeLessThan(0.01);
    expect(Math.abs(histogram.quantile(0.95)! / 19_000 - 1)).toBeLessThan(0.01);
    expect(histogram.quantile(1)).toBeLessThanOrEqual(20_000);
    expect(histogram.quantile(0)).toBeGreaterThanOrEqual(1);
  });

  it('keeps a single value and values out of its range', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantile(0.5)).toBeUndefined();
    histogram.add(42);
    expect(histogram.quantile(0.5)).toBe(42);
    histogram.add(1e9);
    histogram.add(0);
    expect(histogram.quantile(1)).toBe(1e9);
    expect(histogram.quantile(0.01)).toBe(0);
  });
});

describe('limitClient over the real SDK and the emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(10) }] });
  });
  afterAll(() => emulator.close());

  it('sits between the SDK’s retry and its signing, once however often it is added', () => {
    const client = limitClient(limitClient(emulatorClient(emulator), { limiter: new RateLimiter() }), { stats: new CallStats() });
    const names = client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);
    expect(names.filter((n) => n === LIMIT_MIDDLEWARE_NAME)).toHaveLength(1);
    expect(names.indexOf(LIMIT_MIDDLEWARE_NAME)).toBe(names.indexOf('retryMiddleware') + 1);
    expect(names.indexOf('httpSigningMiddleware')).toBe(names.indexOf(LIMIT_MIDDLEWARE_NAME) + 1);
    client.destroy();
  });

  it('paces the sends of one client and records each', async () => {
    const limiter = new RateLimiter({ readPerSecond: 20, spacingMargin: 0 });
    const stats = new CallStats();
    const client = createCloudTrailClient({ endpointUrl: emulator.url, region: 'us-east-1', rateLimiter: limiter, callStats: stats });
    const before = emulator.requests.length;
    const start = performance.now();
    await Promise.all([
      ...Array.from({ length: 4 }, () => client.send(new DescribeQueryCommand({ QueryId: QUERY_ID }))),
      client.send(new ListEventDataStoresCommand({})),
    ]);
    expect(performance.now() - start).toBeGreaterThanOrEqual(4 * 50 - 1);
    expect(emulator.requests.length - before).toBe(5);
    const snapshot = stats.snapshot();
    expect(Object.getPrototypeOf(snapshot.byOperation)).toBeNull();
    expect({ ...snapshot.byOperation }).toEqual({ DescribeQuery: { requests: 4, throttled: 0 }, ListEventDataStores: { requests: 1, throttled: 0 } });
    expect(snapshot.requests).toBe(5);
    expect(snapshot.pageLatencyMs).toBeUndefined();
    // Four of the calls waited (50, 100, 150 and 200 ms less how late each asked).
    expect(snapshot.waitedMs).toBeGreaterThan(0);
    client.destroy();
  });

  it('an abort of the send ends its wait, and the request is never sent', async () => {
    const stats = new CallStats();
    const limiter = new RateLimiter({ readPerSecond: 0.5 });
    const client = limitClient(emulatorClient(emulator), { limiter, stats });
    await client.send(new DescribeQueryCommand({ QueryId: QUERY_ID }));
    const before = emulator.requests.length;
    const controller = new AbortController();
    const reason = new Error('user stopped');
    const send = client.send(new ListQueriesCommand({ EventDataStore: 'eds' }), { abortSignal: controller.signal });
    // Aborted once it waits in the limiter's queue (its slot is 2 s away).
    while (limiter.waiting('read') === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(reason);
    await expect(send).rejects.toBe(reason);
    expect(limiter.waiting('read')).toBe(0);
    expect(emulator.requests.length).toBe(before);
    // Not sent, so not a request; its wait counts.
    expect({ ...stats.snapshot().byOperation }).toEqual({ DescribeQuery: { requests: 1, throttled: 0 } });
    expect(stats.snapshot().waitedMs).toBeGreaterThan(0);
    client.destroy();
  });

  it('gives each retry of a client’s own SDK retry a slot, and counts its throttled answers', async () => {
    emulator.setFaults({ throttleEvery: 2, operations: ['DescribeQuery'] });
    try {
      const stats = new CallStats();
      const client = limitClient(
        new CloudTrailClient({
          endpoint: emulator.url,
          region: 'us-east-1',
          credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
          maxAttempts: 3,
        }),
        { limiter: new RateLimiter({ readPerSecond: 50 }), stats },
      );
      const before = emulator.requests.length;
      await client.send(new DescribeQueryCommand({ QueryId: QUERY_ID }));
      await client.send(new DescribeQueryCommand({ QueryId: QUERY_ID }));
      const sent = emulator.requests.slice(before);
      expect(sent.map((r) => r.fault)).toEqual([undefined, 'throttle', undefined]);
      expect(stats.snapshot()).toMatchObject({ requests: 3, throttled: 1 });
      expect(stats.snapshot().byOperation.DescribeQuery).toEqual({ requests: 3, throttled: 1 });
      client.destroy();
    } finally {
      emulator.setFaults({});
    }
  });

  it('refuses a rateLimiter or callStats that is not one, naming the option', () => {
    expect(() => createCloudTrailClient({ region: 'us-east-1', rateLimiter: { acquire: async () => {} } as never })).toThrow(/rateLimiter/);
    expect(() => createCloudTrailClient({ region: 'us-east-1', callStats: {} as never })).toThrow(TypeError);
  });
});
