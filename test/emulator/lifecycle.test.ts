import { afterEach, describe, expect, it } from 'vitest';
import {
  CancelQueryCommand,
  DescribeQueryCommand,
  GetQueryResultsCommand,
  ListQueriesCommand,
  StartQueryCommand,
  type CloudTrailClient,
} from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { bindParameters } from '../../src/emulator/lake.js';
import { emulatorClient } from '../support/lake.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the emulator lifecycle', () => {
  let emulator: Emulator | undefined;
  let client: CloudTrailClient | undefined;
  afterEach(async () => {
    client?.destroy();
    await emulator?.close();
  });
  async function start(options: EmulatorOptions) {
    emulator = await startEmulator({ sample: 200, ...options });
    client = emulatorClient(emulator);
    return { emulator, client };
  }
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: Error) => e);

  it('goes QUEUED, RUNNING, FINISHED with the configured delays', async () => {
    const { emulator, client } = await start({ queuedMs: 300, runningMs: 300 });
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT eventName FROM ${emulator.eventDataStoreId}` }));
    const seen: string[] = [];
    for (;;) {
      const { QueryStatus } = await client.send(new DescribeQueryCommand({ QueryId }));
      if (seen.at(-1) !== QueryStatus) seen.push(QueryStatus!);
      if (QueryStatus === 'FINISHED') break;
      await pause(10);
    }
    expect(seen).toEqual(['QUEUED', 'RUNNING', 'FINISHED']);
  });

  it('cancels a running query, and refuses to cancel it again with InactiveQueryException', async () => {
    const { emulator, client } = await start({ runningMs: 5000 });
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT eventName FROM ${emulator.eventDataStoreId}` }));
    expect((await client.send(new CancelQueryCommand({ QueryId }))).QueryStatus).toBe('CANCELLED');
    expect(await client.send(new DescribeQueryCommand({ QueryId }))).toMatchObject({ QueryStatus: 'CANCELLED', ErrorMessage: expect.any(String) });
    expect((await failure(client.send(new CancelQueryCommand({ QueryId }))))?.name).toBe('InactiveQueryException');
  });

  it('ends a query that outruns the limit TIMED_OUT with an ErrorMessage', async () => {
    const { emulator, client } = await start({ runningMs: 2000, maxRunMs: 50 });
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT eventName FROM ${emulator.eventDataStoreId}` }));
    await pause(150);
    const described = await client.send(new DescribeQueryCommand({ QueryId }));
    expect(described).toMatchObject({ QueryStatus: 'TIMED_OUT', ErrorMessage: expect.stringMatching(/maximum run time/) });
    const listed = await client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreArn, QueryStatus: 'TIMED_OUT' }));
    expect(listed.Queries?.map((q) => q.QueryId)).toEqual([QueryId]);
  });

  it('ends a query that fails while running FAILED with the engine message', async () => {
    const { emulator, client } = await start({});
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT CAST(eventName AS INTEGER) FROM ${emulator.eventDataStoreId}` }));
    let described;
    do described = await client.send(new DescribeQueryCommand({ QueryId }));
    while (described.QueryStatus === 'QUEUED' || described.QueryStatus === 'RUNNING');
    expect(described.QueryStatus).toBe('FAILED');
    expect(described.ErrorMessage).toMatch(/Could not convert|Conversion Error/i);
  });

  it('allows at most 10 queries QUEUED or RUNNING at once', async () => {
    const { emulator, client } = await start({ queuedMs: 10_000 });
    const sql = `SELECT eventName FROM ${emulator.eventDataStoreId}`;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await client.send(new StartQueryCommand({ QueryStatement: sql }))).QueryId!);
    expect((await failure(client.send(new StartQueryCommand({ QueryStatement: sql }))))?.name).toBe('MaxConcurrentQueriesException');
    await client.send(new CancelQueryCommand({ QueryId: ids[0] }));
    expect((await client.send(new StartQueryCommand({ QueryStatement: sql }))).QueryId).toBeTypeOf('string');
  });

  it('forgets results after the retention', async () => {
    const { emulator, client } = await start({ retentionMs: 100 });
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT eventName FROM ${emulator.eventDataStoreId}` }));
    await pause(150);
    expect((await failure(client.send(new GetQueryResultsCommand({ QueryId }))))?.name).toBe('QueryIdNotFoundException');
    expect((await client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreArn }))).Queries).toEqual([]);
  });

  it('pages ListQueries, newest first, with its filters', async () => {
    const { emulator, client } = await start({});
    const sql = `SELECT eventName FROM ${emulator.eventDataStoreId}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await client.send(new StartQueryCommand({ QueryStatement: sql }))).QueryId!);
      await pause(5);
    }
    const seen: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreId, MaxResults: 2, NextToken }));
      seen.push(...(page.Queries ?? []).map((q) => q.QueryId!));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(seen).toEqual([...ids].reverse());
    const future = await client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreId, StartTime: new Date(Date.now() + 60_000), EndTime: new Date(Date.now() + 120_000) }));
    expect(future.Queries).toEqual([]);
  });

  it('binds positional ? parameters as string literals', () => {
    expect(bindParameters("SELECT * FROM t WHERE a > ? AND b = '?' AND c = ?", ['2024-05-01', "o'brien"])).toBe(
      "SELECT * FROM t WHERE a > '2024-05-01' AND b = '?' AND c = 'o''brien'",
    );
    expect(() => bindParameters('SELECT ?', [])).toThrow(/more \? placeholders/);
  });
});
