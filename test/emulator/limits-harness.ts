import { afterEach } from 'vitest';
import { DescribeQueryCommand, GetQueryResultsCommand, StartQueryCommand, type CloudTrailClient, type DescribeQueryCommandOutput } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import type { QueryResultRow } from '../../src/lake-model.js';
import { emulatorClient } from '../support/lake.js';

/**
 * For a describe block: a function that starts an emulator (with `defaults`
 * under the options given) and a real SDK client for it; every emulator and
 * client it started is closed after each test.
 */
export function emulatorStarter(defaults: EmulatorOptions = {}): (options?: EmulatorOptions) => Promise<{ emulator: Emulator; client: CloudTrailClient }> {
  const open: Array<{ emulator: Emulator; client: CloudTrailClient }> = [];
  afterEach(async () => {
    for (const { emulator, client } of open.splice(0)) {
      client.destroy();
      await emulator.close();
    }
  });
  return async (options = {}) => {
    const emulator = await startEmulator({ ...defaults, ...options });
    const started = { emulator, client: emulatorClient(emulator) };
    open.push(started);
    return started;
  };
}

/** What the limits tests read of one query run through the real SDK. */
export interface QueryRun {
  queryId: string;
  described: DescribeQueryCommandOutput;
  rows: QueryResultRow[];
  /** QueryStatus of every GetQueryResults page. */
  pageStatuses: string[];
}

/** Starts a query, waits until it leaves QUEUED and RUNNING, and reads every page of its results. */
export async function runQuery(client: CloudTrailClient, sql: string, pageSize = 1000): Promise<QueryRun> {
  const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: sql }));
  const queryId = QueryId!;
  let described: DescribeQueryCommandOutput;
  for (;;) {
    described = await client.send(new DescribeQueryCommand({ QueryId: queryId }));
    if (described.QueryStatus !== 'QUEUED' && described.QueryStatus !== 'RUNNING') break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const rows: QueryResultRow[] = [];
  const pageStatuses: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(new GetQueryResultsCommand({ QueryId: queryId, MaxQueryResults: pageSize, NextToken }));
    pageStatuses.push(page.QueryStatus!);
    rows.push(...((page.QueryResultRows ?? []) as QueryResultRow[]));
    NextToken = page.NextToken;
  } while (NextToken);
  return { queryId, described, rows, pageStatuses };
}

/** A Lake row as one object: `[{a: '1'}, {b: '2'}]` to `{a: '1', b: '2'}`. */
export function rowObject(row: QueryResultRow): Record<string, string> {
  return Object.assign({}, ...row) as Record<string, string>;
}
