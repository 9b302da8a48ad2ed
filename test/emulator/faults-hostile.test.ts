import { DescribeQueryCommand, GetQueryResultsCommand, ListQueriesCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/server.js';
import { emulatorClient, sampleRows, withEmulator } from '../support/lake.js';

/**
 * The emulator's hostile-service faults as the real SDK sees them on the
 * wire, so that the tests that use them play what they say they play.
 */
describe('emulator faults that play a hostile service', () => {
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

  const page = (QueryId: string, NextToken?: string) => client.send(new GetQueryResultsCommand({ QueryId, MaxQueryResults: 10, ...(NextToken ? { NextToken } : {}) }));

  it('tokenCycle: page K hands out the token page 0 gave', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(100) });
    emulator.setFaults({ tokenCycle: 2 });
    const p0 = await page(queryId);
    const p1 = await page(queryId, p0.NextToken);
    const p2 = await page(queryId, p1.NextToken);
    expect(p1.NextToken).not.toBe(p0.NextToken);
    expect(p2.NextToken).toBe(p0.NextToken);
  });

  it("endlessTokens 'rows': past the last row, pages serve the rows again with new tokens", async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(10) });
    emulator.setFaults({ endlessTokens: 'rows' });
    const p0 = await page(queryId);
    const p1 = await page(queryId, p0.NextToken);
    expect(p0.NextToken).toBeDefined();
    expect(p1.NextToken).toBeDefined();
    expect(p1.NextToken).not.toBe(p0.NextToken);
    expect(p1.QueryResultRows).toHaveLength(10);
    expect(p1.QueryStatistics?.TotalResultsCount).toBe(10);
  });

  it('countDrift: each page reports the listed TotalResultsCount, null leaves it out, then the true count', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(30) });
    emulator.setFaults({ countDrift: [7, null] });
    const p0 = await page(queryId);
    const p1 = await page(queryId, p0.NextToken);
    const p2 = await page(queryId, p1.NextToken);
    expect([p0, p1, p2].map((p) => p.QueryStatistics?.TotalResultsCount)).toEqual([7, undefined, 30]);
  });

  it('statusDisagree N: GetQueryResults answers RUNNING N times while DescribeQuery answers FINISHED', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(3) });
    emulator.setFaults({ statusDisagree: 2 });
    expect((await client.send(new DescribeQueryCommand({ QueryId: queryId }))).QueryStatus).toBe('FINISHED');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await page(queryId)).QueryStatus);
    expect(statuses).toEqual(['RUNNING', 'RUNNING', 'FINISHED']);
  });

  it('listTokenCycle and listEndlessTokens: ListQueries tokens that come back, or never end', async () => {
    emulator.addQuery({ rows: [] });
    const list = (NextToken?: string) => client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreArn, ...(NextToken ? { NextToken } : {}) }));
    emulator.setFaults({ listTokenCycle: 1 });
    const l0 = await list();
    const l1 = await list(l0.NextToken);
    expect(l1.NextToken).toBe(l0.NextToken);
    emulator.setFaults({ listEndlessTokens: true });
    const e0 = await list();
    const e1 = await list(e0.NextToken);
    expect(e1.NextToken).toBeDefined();
    expect(e1.NextToken).not.toBe(e0.NextToken);
    expect(e1.Queries).toEqual([]);
  });
});
