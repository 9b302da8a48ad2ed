import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { Emulator } from '../src/emulator/server.js';
import { CtlakeError, OptionError, isCtlakeError } from '../src/errors.js';
import { cancelQuery, describeQuery, listQueries, type ListedQuery } from '../src/index.js';
import { LIST_PAGE_LIMIT } from '../src/source/list-queries.js';
import { fakeEndpoint, json, type FakeEndpoint } from './support/fake-endpoint.js';
import { FAST_RETRY, emulatorClient, withEmulator } from './support/lake.js';

/**
 * The library's query management (src/source/query-management.ts) through
 * the real SDK over HTTP: the emulator, and for answers the emulator never
 * gives (a delivery location, a wrong shape) a small endpoint of canned JSON.
 */

const UNKNOWN_ID = 'ffffffff-0000-4000-8000-000000000000';
const RUNNING = Array<'RUNNING'>(1000).fill('RUNNING');

/** How the CLI names options: `--` and the option in kebab case. */
const asFlag = (option: string) => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

async function all(queries: AsyncIterable<ListedQuery>): Promise<ListedQuery[]> {
  const out: ListedQuery[] = [];
  for await (const query of queries) out.push(query);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('listQueries', () => {
  let emulator: Emulator;
  let client: CloudTrailClient;
  const ids: Record<'old' | 'failed' | 'recent', string> = { old: '', failed: '', recent: '' };
  beforeAll(async () => {
    emulator = await withEmulator();
    client = emulatorClient(emulator);
    const hour = 3_600_000;
    ids.old = emulator.addQuery({ rows: [], creationTime: new Date(Date.now() - 5 * hour) });
    ids.failed = emulator.addQuery({ rows: [], creationTime: new Date(Date.now() - 3 * hour), final: 'FAILED', errorMessage: 'no' });
    ids.recent = emulator.addQuery({ rows: [], creationTime: new Date(Date.now() - hour) });
  });
  afterEach(() => emulator.setFaults({}));
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });

  it('yields every query, newest first, with its id, status and creation time', async () => {
    const queries = await all(listQueries(client, { eventDataStore: emulator.eventDataStoreArn, retry: FAST_RETRY }));
    expect(queries.map((q) => q.QueryId)).toEqual([ids.recent, ids.failed, ids.old]);
    expect(queries.map((q) => q.QueryStatus)).toEqual(['FINISHED', 'FAILED', 'FINISHED']);
    for (const query of queries) {
      expect(Object.keys(query)).toEqual(['QueryId', 'QueryStatus', 'CreationTime']);
      expect(query.CreationTime).toBeInstanceOf(Date);
    }
  });

  it('filters by status, since and until, as ListQueries does', async () => {
    const store = emulator.eventDataStoreId;
    const hour = 3_600_000;
    expect((await all(listQueries(client, { eventDataStore: store, status: 'FAILED', retry: FAST_RETRY }))).map((q) => q.QueryId)).toEqual([ids.failed]);
    const since = new Date(Date.now() - 4 * hour);
    expect((await all(listQueries(client, { eventDataStore: store, since, retry: FAST_RETRY }))).map((q) => q.QueryId)).toEqual([ids.recent, ids.failed]);
    const until = new Date(Date.now() - 2 * hour);
    expect((await all(listQueries(client, { eventDataStore: store, since, until, retry: FAST_RETRY }))).map((q) => q.QueryId)).toEqual([ids.failed]);
    const calls = emulator.requests.filter((r) => r.operation === 'ListQueries').slice(-1);
    expect(calls[0]!.input).toMatchObject({ EventDataStore: store, MaxResults: 1000 });
  });

  it('reads every page and retries throttling, telling onRetry', async () => {
    const many = await withEmulator();
    const manyClient = emulatorClient(many);
    try {
      const start = Date.now() - 3_600_000;
      for (let i = 0; i < 1005; i++) many.addQuery({ rows: [], creationTime: new Date(start + i * 1000) });
      many.setFaults({ throttleEvery: 2, operations: ['ListQueries'] });
      const retries: string[] = [];
      const queries = await all(listQueries(manyClient, { eventDataStore: many.eventDataStoreArn, retry: FAST_RETRY, onRetry: (e) => retries.push(e.operation) }));
      expect(new Set(queries.map((q) => q.QueryId)).size).toBe(1005);
      expect(retries).toEqual(['ListQueries']);
      expect(many.requests.filter((r) => r.operation === 'ListQueries').map((r) => r.fault)).toEqual([undefined, 'throttle', undefined]);
    } finally {
      manyClient.destroy();
      await many.close();
    }
  });

  it('ends a listing that never ends after LIST_PAGE_LIMIT pages, naming the options that narrow it', async () => {
    emulator.setFaults({ listEndlessTokens: true });
    const error = await failure(all(listQueries(client, { eventDataStore: emulator.eventDataStoreArn, retry: FAST_RETRY })));
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toBe(`ListQueries: page ${LIST_PAGE_LIMIT - 1} has a NextToken after ${LIST_PAGE_LIMIT} pages, the most ctlake reads; narrow the listing with status, since or until`);
    expect((error as CtlakeError).describe(asFlag)).toMatch(/narrow the listing with --status, --since or --until$/);
  });

  it('refuses bad options with an OptionError (a TypeError) at the call, before any request', () => {
    const before = emulator.requests.length;
    const eventDataStore = emulator.eventDataStoreArn;
    const cases: Array<[unknown, string]> = [
      [{}, 'eventDataStore'],
      [{ eventDataStore: ' ' }, 'eventDataStore'],
      [{ eventDataStore, status: 'DONE' }, 'status'],
      [{ eventDataStore, since: new Date('nope') }, 'since'],
      [{ eventDataStore, until: '2024-05-01' }, 'until'],
      [{ eventDataStore, since: new Date('2024-05-02'), until: new Date('2024-05-01') }, 'until'],
      [{ eventDataStore, retry: { retries: -1 } }, 'retry.retries'],
      [{ eventDataStore, retry: { minDelayMs: 10, maxDelayMs: 5 } }, 'retry.maxDelayMs'],
    ];
    for (const [options, option] of cases) {
      let error: unknown;
      try {
        listQueries(client, options as never);
      } catch (e) {
        error = e;
      }
      expect(error, option).toBeInstanceOf(OptionError);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as OptionError).option).toBe(option);
    }
    expect(emulator.requests.length).toBe(before);
  });

  it('names the eventDataStore option for a store the service does not know, and the CLI can name its flag', async () => {
    const error = await failure(all(listQueries(client, { eventDataStore: 'arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/nope', retry: FAST_RETRY })));
    expect(isCtlakeError(error, 'INVALID_OPTION')).toBe(true);
    const e = error as CtlakeError;
    expect(e.option).toBe('eventDataStore');
    expect(e.awsErrorName).toBe('EventDataStoreNotFoundException');
    expect(e.message).toMatch(/^ListQueries: EventDataStoreNotFoundException: .*; check eventDataStore$/);
    expect(e.describe(asFlag)).toMatch(/; check --event-data-store$/);
  });

  it('stops at once with INTERRUPTED when its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(all(listQueries(client, { eventDataStore: emulator.eventDataStoreArn, retry: FAST_RETRY, signal: controller.signal })));
    expect(isCtlakeError(error, 'INTERRUPTED')).toBe(true);
  });
});

describe('describeQuery and cancelQuery against the emulator', () => {
  let emulator: Emulator;
  let client: CloudTrailClient;
  beforeAll(async () => {
    emulator = await withEmulator();
    client = emulatorClient(emulator);
  });
  afterEach(() => emulator.setFaults({}));
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });

  it('describeQuery resolves with the checked description', async () => {
    const queryId = emulator.addQuery({ rows: [], sql: 'SELECT 1', final: 'FAILED', errorMessage: 'it broke', eventsScanned: 7, bytesScanned: 4096 });
    const d = await describeQuery(client, { queryId, retry: FAST_RETRY });
    expect(d).toMatchObject({ QueryId: queryId, QueryStatus: 'FAILED', QueryString: 'SELECT 1', ErrorMessage: 'it broke', DeliveryS3Uri: undefined, DeliveryStatus: undefined });
    expect(d.QueryStatistics).toMatchObject({ EventsScanned: 7, BytesScanned: 4096 });
    expect(d.QueryStatistics?.CreationTime).toBeInstanceOf(Date);
    expect(Object.keys(d)).toEqual(['QueryId', 'QueryStatus', 'QueryString', 'QueryStatistics', 'ErrorMessage', 'DeliveryS3Uri', 'DeliveryStatus']);
  });

  it('an unknown id is QUERY_NOT_FOUND naming region; the CLI names --region', async () => {
    for (const call of [describeQuery, cancelQuery]) {
      const error = await failure(call(client, { queryId: UNKNOWN_ID, retry: FAST_RETRY }));
      expect(isCtlakeError(error, 'QUERY_NOT_FOUND')).toBe(true);
      const e = error as CtlakeError;
      expect(e).toMatchObject({ queryId: UNKNOWN_ID, option: 'queryId' });
      expect(e.message).toMatch(/query ffffffff-0000-4000-8000-000000000000 not found; check the id and region \(results are kept for 7 days\)$/);
      expect(e.describe(asFlag)).toMatch(/check the id and --region /);
    }
  });

  it('refuses a query id that is no UUID, and other bad options, before any request', async () => {
    const before = emulator.requests.length;
    for (const call of [describeQuery, cancelQuery]) {
      for (const [options, option] of [
        [{ queryId: 'not-a-query' }, 'queryId'],
        [{ queryId: UNKNOWN_ID.toUpperCase() }, 'queryId'],
        [{ queryId: UNKNOWN_ID, eventDataStore: '' }, 'eventDataStore'],
        [{ queryId: UNKNOWN_ID, retry: { retries: 1.5 } }, 'retry.retries'],
      ] as const) {
        const error = await failure(call(client, options as never));
        expect(error).toBeInstanceOf(OptionError);
        expect((error as OptionError).option).toBe(option);
      }
    }
    expect(emulator.requests.length).toBe(before);
  });

  it('cancelQuery cancels a running query: outcome cancelled, status CANCELLED', async () => {
    const queryId = emulator.addQuery({ rows: [], statuses: RUNNING });
    expect(await cancelQuery(client, { queryId, eventDataStore: emulator.eventDataStoreArn, retry: FAST_RETRY })).toEqual({ queryId, outcome: 'cancelled', status: 'CANCELLED' });
    expect((await describeQuery(client, { queryId, retry: FAST_RETRY })).QueryStatus).toBe('CANCELLED');
  });

  it('cancelQuery of a query that had already ended: outcome ended, with the status it ended with', async () => {
    const finished = emulator.addQuery({ rows: [] });
    const timedOut = emulator.addQuery({ rows: [], final: 'TIMED_OUT' });
    expect(await cancelQuery(client, { queryId: finished, retry: FAST_RETRY })).toEqual({ queryId: finished, outcome: 'ended', status: 'FINISHED' });
    expect(await cancelQuery(client, { queryId: timedOut, retry: FAST_RETRY })).toEqual({ queryId: timedOut, outcome: 'ended', status: 'TIMED_OUT' });
    // The InactiveQueryException, then one DescribeQuery for the status.
    expect(emulator.requests.slice(-2).map((r) => r.operation)).toEqual(['CancelQuery', 'DescribeQuery']);
  });

  it('cancelQuery whose answer was lost meets its own success as InactiveQueryException: outcome cancelled', async () => {
    const first = emulator.addQuery({ rows: [], statuses: RUNNING });
    const queryId = emulator.addQuery({ rows: [], statuses: RUNNING });
    // The 2nd CancelQuery is answered halfway and reset, after the emulator cancelled the query.
    emulator.setFaults({ resetEvery: 2, operations: ['CancelQuery'] });
    await cancelQuery(client, { queryId: first, retry: FAST_RETRY });
    const retries: number[] = [];
    const result = await cancelQuery(client, { queryId, retry: FAST_RETRY, onRetry: (e) => retries.push(e.attempt) });
    expect(result).toEqual({ queryId, outcome: 'cancelled', status: 'CANCELLED' });
    expect(retries).toEqual([1]);
  });

  it('a cancel that keeps failing rejects with the translated error, bounded by its retries', async () => {
    const queryId = emulator.addQuery({ rows: [], statuses: RUNNING });
    emulator.setFaults({ serverErrorEvery: 1, operations: ['CancelQuery'] });
    const before = emulator.requests.length;
    const error = await failure(cancelQuery(client, { queryId, retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 } }));
    expect(isCtlakeError(error, 'SERVICE_ERROR')).toBe(true);
    expect(emulator.requests.slice(before).filter((r) => r.operation === 'CancelQuery')).toHaveLength(3);
  });
});

/** An endpoint that answers each operation with canned JSON, for answers the emulator never gives. */
function cannedEndpoint(answer: (operation: string) => unknown): Promise<FakeEndpoint> {
  return fakeEndpoint((operation) => json(answer(operation)));
}

describe('answers of other shapes', () => {
  const queryId = '0a1b2c3d-0000-4000-8000-123456789abc';
  let answers: Record<string, unknown> = {};
  let endpoint: Awaited<ReturnType<typeof cannedEndpoint>>;
  let client: CloudTrailClient;
  beforeAll(async () => {
    endpoint = await cannedEndpoint((operation) => answers[operation] ?? {});
    client = emulatorClient({ url: endpoint.url } as Emulator);
  });
  afterAll(async () => {
    client.destroy();
    await endpoint.close();
  });

  it('describeQuery includes DeliveryS3Uri and DeliveryStatus', async () => {
    answers = { DescribeQuery: { QueryId: queryId, QueryStatus: 'FINISHED', DeliveryS3Uri: 's3://bucket/results/', DeliveryStatus: 'SUCCESS' } };
    expect(await describeQuery(client, { queryId, retry: FAST_RETRY })).toMatchObject({ DeliveryS3Uri: 's3://bucket/results/', DeliveryStatus: 'SUCCESS' });
  });

  it.each([
    ['no QueryStatus', { QueryId: queryId }, /^DescribeQuery: the answer has no QueryStatus, which every CloudTrail answer has; check endpointUrl$/],
    ['a QueryStatus none of the six', { QueryStatus: 'DONE' }, /QueryStatus "DONE", none of QUEUED, .*; check endpointUrl$/],
    ['another QueryId', { QueryId: UNKNOWN_ID, QueryStatus: 'FINISHED' }, /^DescribeQuery: the answer describes another query than 0a1b2c3d-.*; check endpointUrl$/],
  ])('describeQuery of an answer with %s is UNEXPECTED_RESPONSE naming endpointUrl', async (_, answer, message) => {
    answers = { DescribeQuery: answer };
    const error = await failure(describeQuery(client, { queryId, retry: FAST_RETRY }));
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as CtlakeError).option).toBe('endpointUrl');
    expect((error as Error).message).toMatch(message);
    expect((error as CtlakeError).describe(asFlag)).toMatch(/; check --endpoint-url$/);
  });

  it('cancelQuery of an answer without a status, and listQueries of an entry without an id, are UNEXPECTED_RESPONSE', async () => {
    answers = { CancelQuery: { QueryId: queryId } };
    expect(isCtlakeError(await failure(cancelQuery(client, { queryId, retry: FAST_RETRY })), 'UNEXPECTED_RESPONSE')).toBe(true);
    answers = { ListQueries: { Queries: [{ QueryStatus: 'FINISHED' }] } };
    const error = await failure(all(listQueries(client, { eventDataStore: 'eds', retry: FAST_RETRY })));
    expect(isCtlakeError(error, 'UNEXPECTED_RESPONSE')).toBe(true);
    expect((error as Error).message).toBe('ListQueries: a query in the answer has no QueryId, which CloudTrail always sends; check endpointUrl');
  });
});
