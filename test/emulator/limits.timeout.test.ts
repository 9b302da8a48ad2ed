import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GetQueryResultsCommand } from '@aws-sdk/client-cloudtrail';
import { startEmulator } from '../../src/emulator/server.js';
import { exportQuery } from '../../src/export/export-query.js';
import { isCtlakeError } from '../../src/errors.js';
import { sampleRows } from '../support/lake.js';
import { emulatorStarter, runQuery } from './limits-harness.js';

describe('timeoutEvents: a query whose scan is too big ends TIMED_OUT with partial rows', () => {
  const start = emulatorStarter({ sample: 1000, seed: 2 });

  it('serves floor(rows × N / scanned) rows, QueryStatus TIMED_OUT on every page, and the timeout ErrorMessage', async () => {
    const { emulator, client } = await start({ timeoutEvents: 100 });
    const run = await runQuery(client, `SELECT eventID, eventTime FROM ${emulator.eventDataStoreId} ORDER BY eventTime`, 30);
    expect(run.described).toMatchObject({ QueryStatus: 'TIMED_OUT', ErrorMessage: 'Query exceeded the maximum run time of 3600 seconds.' });
    expect(run.described.QueryStatistics?.EventsScanned).toBe(1000);
    expect(run.rows).toHaveLength(100); // 1000 rows × 100 / 1000 scanned
    expect(run.pageStatuses).toHaveLength(4);
    expect(new Set(run.pageStatuses)).toEqual(new Set(['TIMED_OUT']));
    const first = await client.send(new GetQueryResultsCommand({ QueryId: run.queryId, MaxQueryResults: 1000 }));
    expect(first.QueryStatistics?.TotalResultsCount).toBe(100);
    expect(first.ErrorMessage).toBe('Query exceeded the maximum run time of 3600 seconds.');
  });

  it('finishes a query whose eventTime range is within the limit', async () => {
    const { emulator, client } = await start({ timeoutEvents: 100 });
    const run = await runQuery(client, `SELECT eventID FROM ${emulator.eventDataStoreId} WHERE eventTime < '2024-05-01 12:00:00'`);
    const scanned = run.described.QueryStatistics!.EventsScanned!;
    expect(scanned).toBeGreaterThan(0);
    expect(scanned).toBeLessThanOrEqual(100);
    expect(run.described.QueryStatus).toBe('FINISHED');
    expect(run.rows).toHaveLength(scanned);
  });

  it('charges an aggregate query 1/100 of the events it scans', async () => {
    const { emulator, client } = await start({ timeoutEvents: 10 });
    const grouped = await runQuery(client, `SELECT eventName, count(*) AS n FROM ${emulator.eventDataStoreId} GROUP BY 1 ORDER BY 1`);
    expect(grouped.described.QueryStatus).toBe('FINISHED'); // 1000 / 100 = 10, not over 10
    const total = await runQuery(client, `SELECT count(*) AS n, max(eventTime) AS newest FROM ${emulator.eventDataStoreId}`);
    expect(total.described.QueryStatus).toBe('FINISHED');
    expect(total.rows).toEqual([[{ n: '1000' }, { newest: expect.stringMatching(/^2024-05-07 /) }]]);

    const tight = await start({ timeoutEvents: 5 });
    const timedOut = await runQuery(tight.client, `SELECT eventName, count(*) AS n FROM ${tight.emulator.eventDataStoreId} GROUP BY 1 ORDER BY 1`);
    expect(timedOut.described.QueryStatus).toBe('TIMED_OUT');
    const finished = grouped.rows.length;
    expect(timedOut.rows).toEqual(grouped.rows.slice(0, Math.floor((finished * 5) / 10)));
  });

  it('is not exported: the export fails QUERY_TIMED_OUT and commits nothing of the partial rows', async () => {
    const { emulator } = await start({ timeoutEvents: 100 });
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-timeout-events-'));
    const out = path.join(dir, 'partial.ndjson');
    const error = await exportQuery({ sql: `SELECT eventID FROM ${emulator.eventDataStoreId}`, out, endpointUrl: emulator.url, region: 'us-east-1', pollMinMs: 5 }).catch(
      (e: unknown) => e,
    );
    expect(isCtlakeError(error, 'QUERY_TIMED_OUT')).toBe(true);
    expect(error).toMatchObject({ status: 'TIMED_OUT', message: expect.stringContaining('ended TIMED_OUT: Query exceeded the maximum run time') });
    expect(await readdir(dir)).toEqual([]);
  });

  it('is not exported when only GetQueryResults says TIMED_OUT: its pages of partial rows fail the export QUERY_TIMED_OUT', async () => {
    const { emulator } = await start({ sample: 0 });
    // DescribeQuery's first answer is FINISHED; from then on the query is TIMED_OUT, and its pages carry rows.
    const queryId = emulator.addQuery({ rows: sampleRows(40), statuses: ['FINISHED'], final: 'TIMED_OUT', errorMessage: 'Query exceeded the maximum run time of 3600 seconds.' });
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-timeout-pages-'));
    const error = await exportQuery({ queryId, out: path.join(dir, 'partial.ndjson'), endpointUrl: emulator.url, region: 'us-east-1', pageSize: 10 }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'QUERY_TIMED_OUT')).toBe(true);
    expect(emulator.requests.map((r) => r.operation)).toEqual(['DescribeQuery', 'GetQueryResults']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a timeoutEvents that is not a whole number', async () => {
    await expect(startEmulator({ timeoutEvents: 1.5 })).rejects.toThrow(/timeoutEvents must be a whole number/);
  });
});
