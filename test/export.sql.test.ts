import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DescribeQueryCommand, ListQueriesCommand, StartQueryCommand } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { captureIO, emulatorClient, emulatorEnv, parseNdjson } from './support/lake.js';

describe('export --sql', () => {
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });
  async function lake(options: EmulatorOptions = {}) {
    emulator = await startEmulator({ sample: 500, seed: 4, ...options });
    return { emulator, env: emulatorEnv(emulator), client: emulatorClient(emulator) };
  }
  const statuses = async (e: Emulator) => {
    const client = emulatorClient(e);
    const { Queries } = await client.send(new ListQueriesCommand({ EventDataStore: e.eventDataStoreArn }));
    client.destroy();
    return (Queries ?? []).map((q) => q.QueryStatus);
  };

  it('gives the same rows as --query-id on the same query', async () => {
    const { emulator, env, client } = await lake({ queuedMs: 20, runningMs: 20 });
    const sql = `SELECT eventTime, eventName, userIdentity.arn FROM ${emulator.eventDataStoreId} WHERE eventTime > '2024-05-02 00:00:00' ORDER BY eventTime, eventId`;
    const viaSql = captureIO(env);
    expect(await main(['export', '--sql', sql, '--out', '-'], viaSql.io)).toBe(0);
    expect(viaSql.stderr()).toMatch(/started query [0-9a-f-]{36}/);
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: sql }));
    const viaId = captureIO(env);
    expect(await main(['export', '--query-id', QueryId!, '--out', '-'], viaId.io)).toBe(0);
    expect(parseNdjson(viaSql.stdout()).length).toBeGreaterThan(100);
    expect(viaSql.stdout()).toBe(viaId.stdout());
    client.destroy();
  });

  it('reads --sql-file (also from stdin) with --query-parameter, and writes --summary-json with the cost', async () => {
    const { emulator, env } = await lake();
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-sql-'));
    const file = path.join(dir, 'logins.sql');
    await writeFile(file, `SELECT eventName, count(*) AS n FROM ${emulator.eventDataStoreId} WHERE eventName = ? AND eventTime >= ? GROUP BY eventName\n`);
    const summary = path.join(dir, 'summary.json');
    const run = captureIO(env);
    const args = ['--query-parameter', 'ConsoleLogin', '--query-parameter', '2024-05-01 00:00:00', '--out', '-', '--summary-json', summary, '--price-per-gb', '5'];
    expect(await main(['export', '--sql-file', file, ...args], run.io)).toBe(0);
    expect(parseNdjson(run.stdout())).toEqual([{ eventName: 'ConsoleLogin', n: expect.stringMatching(/^\d+$/) }]);
    const record = JSON.parse(await readFile(summary, 'utf8')) as Record<string, any>;
    expect(record).toMatchObject({ rows: 1, startedQuery: true, pricePerGb: 5, queryStatistics: { eventsScanned: 500 } });
    expect(record.queryStatistics.bytesScanned).toBeGreaterThan(0);
    expect(record.estimatedCostUsd).toBeCloseTo((record.queryStatistics.bytesScanned / 1e9) * 5, 10);
    expect(record.sql).toContain("eventName = 'ConsoleLogin'");

    const stdin = new PassThrough();
    stdin.end(await readFile(file));
    const piped = captureIO(env, { stdin });
    expect(await main(['export', '--sql-file', '-', ...args.slice(0, 4), '--out', '-'], piped.io)).toBe(0);
    expect(piped.stdout()).toBe(run.stdout());
  });

  it('exits 2 with the service message for SQL that does not parse', async () => {
    const { env } = await lake();
    const run = captureIO(env);
    expect(await main(['export', '--sql', 'SELEC nothing', '--out', '-'], run.io)).toBe(2);
    expect(run.stderr()).toMatch(/^ctlake: error: StartQuery: the service refused the SQL: Parser Error: syntax error at or near "SELEC"/);
  });

  it('exits 3 with the service message for a query that ends FAILED', async () => {
    const { emulator, env } = await lake();
    const run = captureIO(env);
    expect(await main(['export', '--sql', `SELECT CAST(eventName AS INTEGER) FROM ${emulator.eventDataStoreId}`, '--out', '-'], run.io)).toBe(3);
    expect(run.stderr()).toMatch(/ctlake: error: query [0-9a-f-]{36} ended FAILED: .*Could not convert/);
  });

  it('cancels the query and exits 3 when --query-timeout passes', async () => {
    const { emulator, env } = await lake({ runningMs: 10_000 });
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-timeout-'));
    const run = captureIO(env);
    const out = path.join(dir, 'x.parquet');
    expect(await main(['export', '--sql', `SELECT eventName FROM ${emulator.eventDataStoreId}`, '--out', out, '--query-timeout', '200ms'], run.io)).toBe(3);
    expect(run.stderr()).toMatch(/did not finish within --query-timeout 0s; cancelled it \(CANCELLED\)\n$/);
    expect(await statuses(emulator)).toEqual(['CANCELLED']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('cancels a running query it started when interrupted, exits 130 and leaves no output', async () => {
    const { emulator, env } = await lake({ runningMs: 10_000 });
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-sigint-'));
    const controller = new AbortController();
    const run = captureIO(env, { signal: controller.signal });
    const done = main(['export', '--sql', `SELECT eventName FROM ${emulator.eventDataStoreId}`, '--out', path.join(dir, 'x.ndjson')], run.io);
    while (!run.stderr().includes('RUNNING')) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await done).toBe(130);
    expect(await statuses(emulator)).toEqual(['CANCELLED']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('waits for a free slot when the account runs its most queries', async () => {
    const { emulator, env, client } = await lake({ maxConcurrentQueries: 1, runningMs: 300 });
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT eventName FROM ${emulator.eventDataStoreId}` }));
    const run = captureIO(env, { retry: { retries: 60, minDelayMs: 5, maxDelayMs: 20 } });
    expect(await main(['export', '--sql', `SELECT count(*) AS n FROM ${emulator.eventDataStoreId}`, '--out', '-'], run.io)).toBe(0);
    expect(run.stderr()).toMatch(/StartQuery: .*MaxConcurrentQueriesException.*; retry 1 of/);
    expect(parseNdjson(run.stdout())).toEqual([{ n: '500' }]);
    expect((await client.send(new DescribeQueryCommand({ QueryId }))).QueryStatus).toBe('FINISHED');
    client.destroy();
  });

  it('logs JSON lines off a terminal by default', async () => {
    const { emulator, env } = await lake();
    const run = captureIO({ ...env, CTLAKE_LOG_FORMAT: undefined });
    expect(await main(['export', '--sql', `SELECT eventName FROM ${emulator.eventDataStoreId} LIMIT 3`, '--out', '-'], run.io)).toBe(0);
    const events = run.stderr().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]?.event).toBe('query-started');
    expect(events.at(-1)).toMatchObject({ event: 'summary' });
    expect(events.at(-1)).toMatchObject({ level: 'info', rows: 3, estimatedCostUsd: expect.any(Number) });
    const bad = captureIO({ ...env, CTLAKE_LOG_FORMAT: undefined });
    expect(await main(['export', '--sql', 'SELEC', '--out', '-'], bad.io)).toBe(2);
    expect(JSON.parse(bad.stderr())).toMatchObject({ level: 'error', code: 'INVALID_QUERY', exitCode: 2 });
  });
});

describe('StartQuery whose answer is lost', () => {
  it('cancels the duplicate query that the retried StartQuery left behind', async () => {
    const emulator = await startEmulator({ sample: 200, seed: 4, runningMs: 400 });
    const env = emulatorEnv(emulator);
    // The first StartQuery starts a query, then its answer is cut off: the retry starts a second.
    emulator.setFaults({ resetEvery: 1, operations: ['StartQuery'] });
    const sql = `SELECT eventID FROM ${emulator.eventDataStoreId} ORDER BY eventID`;
    const run = captureIO(env, {
      retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 },
      // Faults off once the first attempt has failed.
      pollMinMs: 1,
    });
    const attempts = () => emulator.requests.filter((r) => r.operation === 'StartQuery').length;
    const off = setInterval(() => attempts() >= 1 && emulator.setFaults({}), 1);
    const code = await main(['export', '--sql', sql, '--out', '-'], run.io);
    clearInterval(off);
    expect(code).toBe(0);
    expect(attempts()).toBe(2);
    expect(run.stderr()).toMatch(/^ctlake: warning: a retried StartQuery had started 1 duplicate query; cancelled [0-9a-f-]{36}$/m);
    const client = emulatorClient(emulator);
    const { Queries } = await client.send(new ListQueriesCommand({ EventDataStore: emulator.eventDataStoreArn }));
    client.destroy();
    expect(Queries?.map((q) => q.QueryStatus).sort()).toEqual(['CANCELLED', 'FINISHED']);
    expect(parseNdjson(run.stdout())).toHaveLength(200);
    await emulator.close();
  });
});
