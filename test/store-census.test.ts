/**
 * countEventsByDay over HTTP with the real SDK against the emulator's
 * DuckDB: the census SQL as Lake runs it, chunks of at most 366 days that
 * never split a day, days with no events filled in as 0, a stored-twice
 * event told by COUNT(DISTINCT eventID), a query that times out, an abort
 * that cancels its query; and, from an endpoint that is not Lake, rows the
 * census refuses.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient, DescribeQueryCommand } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { CENSUS_CHUNK_MS, censusChunks, countEventsByDay, type DayCount } from '../src/jobs/store-census.js';
import { CtlakeError } from '../src/errors.js';
import { emulatorClient, FAST_RETRY } from './support/lake.js';
import { fakeEndpoint, json, type FakeEndpoint } from './support/fake-endpoint.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2023, 0, 1);
const call = { retry: FAST_RETRY, pollMinMs: 1, pollMaxMs: 5 };

/** Events on scattered days over 500 days, 1 to 5 a day, with one event stored twice. */
function storeEvents(): Array<{ eventID: string; eventTime: string }> {
  const events: Array<{ eventID: string; eventTime: string }> = [];
  for (let d = 0; d < 500; d += 1 + (d % 4)) {
    for (let i = 0; i <= d % 5; i++) events.push({ eventID: `e-${d}-${i}`, eventTime: new Date(T0 + d * DAY + i * 3_600_000 + 1234).toISOString() });
  }
  events.push({ ...events[3]! }); // stored twice: same eventID, same time
  return events;
}

/** The census the events give over [from, to), every day listed. */
function expected(events: Array<{ eventID: string; eventTime: string }>, from: number, to: number): DayCount[] {
  const days: DayCount[] = [];
  for (let d = Math.floor(from / DAY) * DAY; d < to; d += DAY) {
    const inDay = events.filter((e) => {
      const t = Date.parse(e.eventTime);
      return t >= Math.max(d, from) && t < Math.min(d + DAY, to);
    });
    days.push({ day: new Date(d).toISOString().slice(0, 10), events: inDay.length, eventIds: new Set(inDay.map((e) => e.eventID)).size });
  }
  return days;
}

describe('censusChunks', () => {
  it('cuts at most 366 days a chunk, each after the first at a midnight', () => {
    const from = T0 + 5 * 3_600_000;
    const to = T0 + 800 * DAY + 7;
    const chunks = censusChunks(from, to);
    expect(chunks[0]!.start).toBe(from);
    expect(chunks.at(-1)!.end).toBe(to);
    for (const [i, c] of chunks.entries()) {
      expect(c.end - c.start).toBeLessThanOrEqual(CENSUS_CHUNK_MS);
      if (i > 0) expect(c.start).toBe(chunks[i - 1]!.end);
      if (i > 0) expect(c.start % DAY).toBe(0);
    }
    expect(chunks).toHaveLength(3);
  });
});

describe('countEventsByDay against the emulator', () => {
  let emulator: Emulator;
  let client: CloudTrailClient;
  let dir: string;
  const events = storeEvents();
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-census-'));
    const file = path.join(dir, 'events.ndjson');
    await writeFile(file, events.map((e) => JSON.stringify({ eventVersion: '1.09', eventSource: 's3.amazonaws.com', eventName: 'GetObject', awsRegion: 'us-east-1', ...e })).join('\n') + '\n');
    emulator = await startEmulator({ events: [file] });
    client = emulatorClient(emulator);
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts every day of a range of two chunks, from and to mid-day, absent days as 0', async () => {
    const from = T0 + 10 * DAY + 2 * 3_600_000; // the day's first two events fall before it
    const to = T0 + 480 * DAY + 2 * 3_600_000 + 1;
    const queries: string[] = [];
    const census = await countEventsByDay(client, { eventDataStore: emulator.eventDataStoreArn, from, to, ...call, onQuery: (q) => queries.push(q.sql) });
    expect(census.days).toEqual(expected(events, from, to));
    expect(census.days.filter((d) => d.events === 0).length).toBeGreaterThan(100);
    expect(census.queries).toBe(2);
    expect(census.bytesScanned).toBeGreaterThan(0);
    expect(queries[0]).toBe(
      `SELECT date_trunc('day', eventTime) AS day, COUNT(*) AS events, COUNT(DISTINCT eventID) AS eventids FROM ${emulator.eventDataStoreId} ` +
        `WHERE eventTime >= '2023-01-11 02:00:00' AND eventTime < '2024-01-12 00:00:00' GROUP BY 1 ORDER BY 1`,
    );
  });

  it('tells an event stored twice: events 2, eventIds 1', async () => {
    const twice = events[3]!;
    const day = Math.floor(Date.parse(twice.eventTime) / DAY) * DAY;
    const census = await countEventsByDay(client, { eventDataStore: emulator.eventDataStoreId, from: day, to: day + DAY, ...call });
    const [only] = census.days;
    expect(census.days).toHaveLength(1);
    expect(only!.events - only!.eventIds).toBe(1);
  });

  it('refuses a store reference that could not be an id, before any query', async () => {
    const before = emulator.requests.length;
    for (const bad of ['x; DROP TABLE t', '', `${'a'.repeat(200)}`]) {
      await expect(countEventsByDay(client, { eventDataStore: bad, from: T0, to: T0 + DAY, ...call })).rejects.toThrow(TypeError);
    }
    await expect(countEventsByDay(client, { eventDataStore: emulator.eventDataStoreId, from: T0, to: T0, ...call })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(countEventsByDay(client, { eventDataStore: emulator.eventDataStoreId, from: 0, to: 40_000 * DAY, ...call })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(emulator.requests.length).toBe(before);
  });
});

describe('countEventsByDay and a query that does not finish', () => {
  it('fails with QUERY_TIMED_OUT when Lake times the query out', async () => {
    const emulator = await startEmulator({ sample: 10, runningMs: 200, maxRunMs: 20 });
    const client = emulatorClient(emulator);
    try {
      await expect(countEventsByDay(client, { eventDataStore: emulator.eventDataStoreId, from: T0, to: T0 + DAY, ...call })).rejects.toMatchObject({ code: 'QUERY_TIMED_OUT' });
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('cancels its query when aborted', async () => {
    const emulator = await startEmulator({ sample: 10, runningMs: 60_000 });
    const client = emulatorClient(emulator);
    const controller = new AbortController();
    let queryId = '';
    try {
      const census = countEventsByDay(client, {
        eventDataStore: emulator.eventDataStoreId,
        from: T0,
        to: T0 + DAY,
        ...call,
        signal: controller.signal,
        onQuery: (q) => {
          queryId = q.queryId;
          setTimeout(() => controller.abort(), 20);
        },
      });
      await expect(census).rejects.toMatchObject({ code: 'INTERRUPTED' });
      expect(emulator.requests.some((r) => r.operation === 'CancelQuery' && r.input.QueryId === queryId)).toBe(true);
      expect((await client.send(new DescribeQueryCommand({ QueryId: queryId }))).QueryStatus).toBe('CANCELLED');
    } finally {
      client.destroy();
      await emulator.close();
    }
  });
});

describe('countEventsByDay and rows Lake never sends', () => {
  const QUERY = '0a1b2c3d-0000-4000-8000-123456789abc';
  const from = Date.UTC(2024, 4, 1);
  const to = Date.UTC(2024, 4, 4);
  let endpoint: FakeEndpoint | undefined;
  let client: CloudTrailClient | undefined;
  const census = async (rows: unknown[]) => {
    endpoint = await fakeEndpoint((operation) => {
      if (operation === 'StartQuery') return json({ QueryId: QUERY });
      if (operation === 'DescribeQuery') return json({ QueryId: QUERY, QueryStatus: 'FINISHED', QueryStatistics: { BytesScanned: 10 } });
      if (operation === 'CancelQuery') return json({ QueryId: QUERY, QueryStatus: 'FINISHED' });
      return json({ QueryStatus: 'FINISHED', QueryResultRows: rows, QueryStatistics: { TotalResultsCount: rows.length, BytesScanned: 10 } });
    });
    client = new CloudTrailClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    return countEventsByDay(client, { eventDataStore: 'EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE', from, to, ...call });
  };
  afterAll(async () => {
    client?.destroy();
    await endpoint?.close();
  });
  const row = (day: string, events = '5', ids = '5') => [{ day }, { events }, { eventids: ids }];

  it('reads a good answer, day as a date or a midnight timestamp', async () => {
    try {
      const result = await census([row('2024-05-01'), row('2024-05-03 00:00:00.000', '7', '6')]);
      expect(result.days).toEqual([
        { day: '2024-05-01', events: 5, eventIds: 5 },
        { day: '2024-05-02', events: 0, eventIds: 0 },
        { day: '2024-05-03', events: 7, eventIds: 6 },
      ]);
      expect(result).toMatchObject({ queries: 1, bytesScanned: 10 });
    } finally {
      client?.destroy();
      await endpoint?.close();
    }
  });

  it.each([
    ['a day outside the chunk', [row('2024-05-09')], 'row 0 has day "2024-05-09"'],
    ['a day that is no date', [row('2024-02-30')], 'row 0 has day "2024-02-30"'],
    ['a day not at midnight', [row('2024-05-01 10:00:00.000')], 'row 0 has day'],
    ['a long hostile day, cut', [row(`2024-05-01${'\u0007'.repeat(500)}`)], 'characters)'],
    ['a day twice', [row('2024-05-01'), row('2024-05-01')], 'row 1 lists day 2024-05-01 a second time'],
    ['a negative count', [row('2024-05-01', '-1')], 'row 0 has events "-1"'],
    ['a fractional count', [row('2024-05-01', '5', '1.5')], 'row 0 has eventids "1.5"'],
    ['a count past 2^53', [row('2024-05-01', '9007199254740993')], 'row 0 has events'],
    ['more distinct ids than events', [row('2024-05-01', '1', '2')], 'row 0 has eventids 2 above its events 1'],
    ['a missing column', [[{ day: '2024-05-01' }, { events: '1' }]], 'row 0 has eventids null'],
    ['a column not asked for', [[...row('2024-05-01'), { __proto__x: '1' }]], 'row 0 has a column "__proto__x"'],
  ])('refuses %s with UNEXPECTED_RESPONSE naming the row and field', async (_, rows, text) => {
    try {
      const error = (await census(rows).catch((e: unknown) => e)) as CtlakeError;
      expect(error).toBeInstanceOf(CtlakeError);
      expect(error.code).toBe('UNEXPECTED_RESPONSE');
      expect(error.message).toContain(text);
      // quoted() cuts at 80 characters, then JSON escapes each control character in 6.
      expect(error.message.length).toBeLessThan(800);
      expect(endpoint!.calls).toContain('CancelQuery');
    } finally {
      client?.destroy();
      await endpoint?.close();
    }
  });
});
