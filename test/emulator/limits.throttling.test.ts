import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CancelQueryCommand,
  CloudTrailServiceException,
  DescribeQueryCommand,
  GetEventDataStoreCommand,
  ListQueriesCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudtrail';
import { startEmulator } from '../../src/emulator/server.js';
import { READ_OPERATIONS, TokenBucket } from '../../src/emulator/request-limits.js';
import { exportQuery } from '../../src/export/export-query.js';
import { sampleRows } from '../support/lake.js';
import { emulatorStarter } from './limits-harness.js';

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as CloudTrailServiceException);

describe('the token bucket', () => {
  it('lets a burst of N through, then one request every 1/N s', () => {
    const bucket = new TokenBucket(4, 0);
    expect([1, 2, 3, 4, 5].map(() => bucket.take(0))).toEqual([true, true, true, true, false]);
    expect(bucket.take(200)).toBe(false); // 0.8 of a token
    expect(bucket.take(250)).toBe(true);
    expect(bucket.take(250)).toBe(false);
    expect([1, 2, 3, 4, 5].map(() => bucket.take(60_000))).toEqual([true, true, true, true, false]); // never more than N saved up
  });
});

describe('tpsRead and tpsWrite: requests over the rate are ThrottlingException', () => {
  const start = emulatorStarter({ sample: 100 });

  it('answers reads over tpsRead with HTTP 400 ThrottlingException, which the SDK names, and counts them', async () => {
    const { emulator, client } = await start({ tpsRead: 5 });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, () => failure(client.send(new GetEventDataStoreCommand({ EventDataStore: emulator.eventDataStoreId })))));
    const seconds = (Date.now() - started) / 1000;
    const throttled = answers.filter((a) => a !== undefined);
    expect(throttled.length).toBeGreaterThan(0);
    for (const error of throttled) {
      expect(error).toBeInstanceOf(CloudTrailServiceException);
      expect(error!.name).toBe('ThrottlingException');
      expect(error!.$metadata.httpStatusCode).toBe(400);
    }
    // A bucket of 5 refilled at 5/s admits at most 5 + 5 × the seconds the burst took.
    expect(30 - throttled.length).toBeLessThanOrEqual(5 + Math.ceil(5 * seconds));
    const stats = emulator.stats();
    expect(stats.requests.GetEventDataStore).toBe(30);
    expect(stats.throttled.GetEventDataStore).toBe(throttled.length);
    expect(Object.getPrototypeOf(stats.requests)).toBe(null);
    expect(emulator.requests.filter((r) => r.throttled)).toHaveLength(throttled.length);
  });

  it('keeps reads and writes in separate buckets, and a throttled StartQuery starts nothing', async () => {
    const { emulator, client } = await start({ tpsWrite: 2, queuedMs: 60_000 });
    const sql = `SELECT eventName FROM ${emulator.eventDataStoreId}`;
    const answers = await Promise.all(Array.from({ length: 8 }, () => client.send(new StartQueryCommand({ QueryStatement: sql })).then((r) => r.QueryId!, (e: Error) => e)));
    const ids = answers.filter((a): a is string => typeof a === 'string');
    const refused = answers.filter((a): a is Error => a instanceof Error);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused.map((e) => e.name))).toEqual(new Set(['ThrottlingException']));
    // Reads are not limited: as many as we like, and only the admitted StartQuery calls left queries behind.
    const listed = await client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreId }));
    expect(listed.Queries?.map((q) => q.QueryId).sort()).toEqual([...ids].sort());
    for (const id of ids) await client.send(new DescribeQueryCommand({ QueryId: id }));
    const stats = emulator.stats();
    expect(stats.throttled.StartQuery).toBe(refused.length);
    expect(stats.requests.StartQuery).toBe(8);
    expect(stats.throttled.DescribeQuery).toBeUndefined();
    expect(stats.maxActiveQueries).toBe(ids.length);
  });

  it('puts get/describe/list in the read bucket and every other operation in the write bucket', () => {
    expect([...READ_OPERATIONS].sort()).toEqual(['DescribeQuery', 'GetEventDataStore', 'GetQueryResults', 'ListEventDataStores', 'ListPublicKeys', 'ListQueries']);
  });

  it('records the peak of queries QUEUED or RUNNING at once, and never lets StartQuery calls that overlap pass 10', async () => {
    const { emulator, client } = await start({ queuedMs: 60_000 });
    const sql = `SELECT eventName FROM ${emulator.eventDataStoreId}`;
    const answers = await Promise.all(Array.from({ length: 14 }, () => client.send(new StartQueryCommand({ QueryStatement: sql })).then((r) => r.QueryId!, (e: Error) => e)));
    const ids = answers.filter((a): a is string => typeof a === 'string');
    expect(ids).toHaveLength(10);
    expect(answers.filter((a) => a instanceof Error).map((e) => (e as Error).name)).toEqual(Array(4).fill('MaxConcurrentQueriesException'));
    for (const id of ids.slice(0, 3)) await client.send(new CancelQueryCommand({ QueryId: id }));
    await client.send(new StartQueryCommand({ QueryStatement: sql }));
    expect(emulator.stats().maxActiveQueries).toBe(10);
  });

  it('lets an export through a tight read limit by backing off, with every row', async () => {
    const { emulator } = await start({ tpsRead: 4 });
    const queryId = emulator.addQuery({ rows: sampleRows(2500) });
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'ctlake-tps-')), 'rows.ndjson');
    const summary = await exportQuery({
      queryId,
      pageSize: 500,
      out,
      endpointUrl: emulator.url,
      region: 'us-east-1',
      retry: { retries: 20, minDelayMs: 50, maxDelayMs: 400 },
    }).catch((e: unknown) => e);
    expect(summary).toMatchObject({ rows: 2500 });
    expect((await readFile(out, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2500);
    expect(emulator.stats().requests.GetQueryResults).toBeGreaterThanOrEqual(5);
  });

  it('refuses a rate that is not a positive number', async () => {
    await expect(startEmulator({ tpsRead: 0 })).rejects.toThrow(/tpsRead must be a positive number/);
    await expect(startEmulator({ tpsWrite: Number.NaN })).rejects.toThrow(/tpsWrite must be a positive number/);
  });
});
