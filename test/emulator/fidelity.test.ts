import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelQueryCommand,
  CloudTrailServiceException,
  DescribeQueryCommand,
  GetEventDataStoreCommand,
  GetQueryResultsCommand,
  ListEventDataStoresCommand,
  ListQueriesCommand,
  StartQueryCommand,
  type CloudTrailClient,
} from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { MODEL, shapeProblems } from '../support/model-shapes.js';
import { emulatorClient } from '../support/lake.js';

/** One raw awsJson1_1 call, so that the wire body itself is checked, not what the SDK makes of it. */
async function wire(emulator: Emulator, operation: string, input: Record<string, unknown>) {
  const response = await fetch(emulator.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.${operation}` },
    body: JSON.stringify(input),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function ok(emulator: Emulator, operation: string, input: Record<string, unknown>) {
  const spec = MODEL.operations[operation]!;
  expect(shapeProblems(spec.input, input), `${operation} input`).toEqual([]);
  const { status, body } = await wire(emulator, operation, input);
  expect(status, JSON.stringify(body)).toBe(200);
  expect(shapeProblems(spec.output, body), `${operation} output`).toEqual([]);
  return body;
}

async function fails(emulator: Emulator, operation: string, input: Record<string, unknown>, error: string) {
  const { status, body } = await wire(emulator, operation, input);
  expect(status).toBe(400);
  expect(body.__type).toBe(error);
  expect(typeof body.message).toBe('string');
  expect(MODEL.operations[operation]!.errors).toContain(error);
}

async function settle(emulator: Emulator, queryId: string) {
  for (;;) {
    const body = await ok(emulator, 'DescribeQuery', { QueryId: queryId });
    if (body.QueryStatus !== 'QUEUED' && body.QueryStatus !== 'RUNNING') return body;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the emulator against the AWS service model', () => {
  let emulator: Emulator;
  let client: CloudTrailClient;
  beforeAll(async () => {
    // Long enough that the first DescribeQuery sees QUEUED even on a loaded machine.
    emulator = await startEmulator({ sample: 500, seed: 3, queuedMs: 300, runningMs: 300 });
    client = emulatorClient(emulator);
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });

  it('answers every operation in the shapes of the model', async () => {
    const eds = emulator.eventDataStoreArn;
    const stores = await ok(emulator, 'ListEventDataStores', {});
    expect((stores.EventDataStores as Array<{ EventDataStoreArn: string }>)[0]?.EventDataStoreArn).toBe(eds);
    await ok(emulator, 'GetEventDataStore', { EventDataStore: eds });

    const started = await ok(emulator, 'StartQuery', { QueryStatement: `SELECT eventName, count(*) FROM ${emulator.eventDataStoreId} GROUP BY eventName ORDER BY 2 DESC, 1` });
    const queryId = started.QueryId as string;
    const first = await ok(emulator, 'DescribeQuery', { QueryId: queryId, EventDataStore: eds });
    expect(first.QueryStatus).toBe('QUEUED');
    const done = await settle(emulator, queryId);
    expect(done).toMatchObject({ QueryStatus: 'FINISHED', QueryString: expect.stringContaining('GROUP BY eventName') });
    const stats = done.QueryStatistics as Record<string, number>;
    expect(stats.EventsScanned).toBe(500);
    expect(stats.BytesScanned).toBeGreaterThan(0);
    expect(stats.ExecutionTimeInMillis).toBeGreaterThanOrEqual(20);

    const page = await ok(emulator, 'GetQueryResults', { QueryId: queryId, MaxQueryResults: 3 });
    expect(page.QueryResultRows).toHaveLength(3);
    expect(Object.keys((page.QueryResultRows as Array<Array<Record<string, string>>>)[0]![1]!)).toEqual(['_col1']);
    await ok(emulator, 'GetQueryResults', { QueryId: queryId, MaxQueryResults: 3, NextToken: page.NextToken });

    const listed = await ok(emulator, 'ListQueries', { EventDataStore: eds, QueryStatus: 'FINISHED', MaxResults: 1 });
    expect(listed.Queries).toEqual([{ QueryId: queryId, QueryStatus: 'FINISHED', CreationTime: expect.any(Number) }]);
  });

  it('answers with the errors the model names', async () => {
    const eds = emulator.eventDataStoreArn;
    await fails(emulator, 'StartQuery', { QueryStatement: 'SELEC nothing FROM x' }, 'InvalidQueryStatementException');
    await fails(emulator, 'DescribeQuery', { QueryId: '0a1b2c3d-0000-4000-8000-00000000dead' }, 'QueryIdNotFoundException');
    await fails(emulator, 'GetQueryResults', { QueryId: '0a1b2c3d-0000-4000-8000-00000000dead' }, 'QueryIdNotFoundException');
    await fails(emulator, 'ListQueries', { EventDataStore: 'arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/nope' }, 'EventDataStoreNotFoundException');
    await fails(emulator, 'ListQueries', { EventDataStore: eds, QueryStatus: 'DONE' }, 'InvalidQueryStatusException');
    await fails(emulator, 'ListQueries', { EventDataStore: eds, StartTime: 2000, EndTime: 1000 }, 'InvalidDateRangeException');
    const { QueryId } = await ok(emulator, 'StartQuery', { QueryStatement: `SELECT eventName FROM ${eds}` });
    await fails(emulator, 'GetQueryResults', { QueryId, MaxQueryResults: 1001 }, 'InvalidMaxResultsException');
    await settle(emulator, QueryId as string);
    const page = await ok(emulator, 'GetQueryResults', { QueryId, MaxQueryResults: 2 });
    await fails(emulator, 'GetQueryResults', { QueryId, MaxQueryResults: 3, NextToken: page.NextToken }, 'InvalidNextTokenException');
    await fails(emulator, 'CancelQuery', { QueryId }, 'InactiveQueryException');
  });

  it('works through the real JS SDK, errors included', async () => {
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT userIdentity.arn, eventTime FROM ${emulator.eventDataStoreId} ORDER BY eventTime LIMIT 5` }));
    let status: string | undefined;
    do {
      const described = await client.send(new DescribeQueryCommand({ QueryId }));
      status = described.QueryStatus;
      expect(described.QueryStatistics?.CreationTime).toBeInstanceOf(Date);
    } while (status !== 'FINISHED');
    const results = await client.send(new GetQueryResultsCommand({ QueryId }));
    expect(results.QueryResultRows).toHaveLength(5);
    expect(results.QueryResultRows?.[0]?.[1]?.eventTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    const listed = await client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreArn, StartTime: new Date(Date.now() - 3_600_000), EndTime: new Date() }));
    expect(listed.Queries?.map((q) => q.QueryId)).toContain(QueryId);
    expect((await client.send(new GetEventDataStoreCommand({ EventDataStore: emulator.eventDataStoreId }))).Name).toBe('ctlake-emulator');
    expect((await client.send(new ListEventDataStoresCommand({}))).EventDataStores).toHaveLength(1);

    const error = await client.send(new CancelQueryCommand({ QueryId })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudTrailServiceException);
    expect((error as Error).name).toBe('InactiveQueryException');
  });
});
