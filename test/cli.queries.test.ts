import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelQueryCommand, DescribeQueryCommand, StartQueryCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import type { CliIO } from '../src/cli/main.js';
import { EXIT_QUERY_INACTIVE, cancelCommand, describeCommand, listCommand, pointInTime } from '../src/cli/query-commands.js';
import { CANCEL_SPEC, DESCRIBE_SPEC, LIST_SPEC } from '../src/cli/query-specs.js';
import { commandHelp, flagForOption } from '../src/cli/flag-table.js';
import { CtlakeError } from '../src/errors.js';
import { captureIO, emulatorClient, emulatorEnv } from './support/lake.js';

type Command = (args: string[], io: CliIO, say: (line: string) => void) => Promise<number>;

/**
 * A library option under the flag that sets it, as the CLI shows it: the
 * query commands' tables, else `--` and the option in kebab case.
 */
const flagOf = (option: string) =>
  [LIST_SPEC, DESCRIBE_SPEC, CANCEL_SPEC].map((spec) => flagForOption(spec, option)).find(Boolean) ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Runs a command as main() does: errors become one line on stderr, options named by their flags, and an exit code. */
async function run(command: Command, args: string[], env: Record<string, string | undefined>) {
  const { io, stdout, stderr } = captureIO(env);
  const say = (line: string) => io.stderr.write(`ctlake: ${line}\n`);
  let code: number;
  try {
    code = await command(args, io, say);
  } catch (error) {
    code = exitCodeFor(error);
    if (code !== 0) say(`error: ${error instanceof CtlakeError ? error.describe(flagOf) : (error as Error).message}`);
  }
  await new Promise(setImmediate);
  return { code, stdout: stdout(), stderr: stderr() };
}

async function startQuery(client: CloudTrailClient, emulator: Emulator, limit = 5): Promise<string> {
  const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT eventName FROM ${emulator.eventDataStoreArn} LIMIT ${limit}` }));
  await sleep(5); // distinct creation times, so that newest-first is one order
  return QueryId!;
}

async function waitForStatus(client: CloudTrailClient, queryId: string, status: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { QueryStatus } = await client.send(new DescribeQueryCommand({ QueryId: queryId }));
    if (QueryStatus === status) return;
    if (Date.now() > deadline) throw new Error(`query ${queryId} is ${QueryStatus}, not ${status}`);
    await sleep(20);
  }
}

const UNKNOWN_ID = 'ffffffff-0000-4000-8000-000000000000';

describe('ctlake list, describe and cancel', () => {
  let lake: Emulator;
  let slow: Emulator;
  let client: CloudTrailClient;
  let slowClient: CloudTrailClient;
  let env: Record<string, string>;
  let slowEnv: Record<string, string>;
  const finished: string[] = [];
  const timedOut: string[] = [];
  let cancelled: string;

  beforeAll(async () => {
    [lake, slow] = await Promise.all([startEmulator({ sample: 200 }), startEmulator({ sample: 200, runningMs: 2000, maxRunMs: 50 })]);
    client = emulatorClient(lake);
    slowClient = emulatorClient(slow);
    env = emulatorEnv(lake);
    slowEnv = emulatorEnv(slow);
    finished.push(await startQuery(client, lake, 3), await startQuery(client, lake, 7));
    timedOut.push(await startQuery(slowClient, slow), await startQuery(slowClient, slow));
    cancelled = await startQuery(slowClient, slow);
    await slowClient.send(new CancelQueryCommand({ QueryId: cancelled }));
    for (const id of finished) await waitForStatus(client, id, 'FINISHED');
    for (const id of timedOut) await waitForStatus(slowClient, id, 'TIMED_OUT');
  });
  afterAll(async () => {
    client.destroy();
    slowClient.destroy();
    await Promise.all([lake.close(), slow.close()]);
  });

  describe('list', () => {
    it('prints every query as an aligned table, newest first', async () => {
      const { code, stdout, stderr } = await run(listCommand, ['--event-data-store', lake.eventDataStoreArn], env);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^QUERY ID {30}STATUS {5}CREATED \(UTC\)$/);
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(new RegExp(`^${finished[1]}  FINISHED   \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`)),
        expect.stringMatching(new RegExp(`^${finished[0]}  FINISHED   \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`)),
      ]);
    });

    it('--status TIMED_OUT --json prints exactly the timed-out queries, one JSON object per line', async () => {
      const { code, stdout } = await run(listCommand, ['--event-data-store', slow.eventDataStoreId, '--status', 'TIMED_OUT', '--json'], slowEnv);
      expect(code).toBe(0);
      const rows = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
      expect(rows.map((r) => r.queryId).sort()).toEqual([...timedOut].sort());
      for (const row of rows) {
        expect(Object.keys(row)).toEqual(['queryId', 'status', 'creationTime']);
        expect(row.status).toBe('TIMED_OUT');
        expect(new Date(row.creationTime!).toISOString()).toBe(row.creationTime);
      }
      // Without the filter, the cancelled one is there too; the status is read without regard to case.
      const all = await run(listCommand, ['--event-data-store', slow.eventDataStoreArn, '--json'], slowEnv);
      expect(all.stdout).toContain(`{"queryId":"${cancelled}","status":"CANCELLED"`);
      const lower = await run(listCommand, ['--event-data-store', slow.eventDataStoreArn, '--status', 'cancelled', '--json'], slowEnv);
      expect(lower.stdout.trimEnd().split('\n')).toHaveLength(1);
    });

    it('prints nothing on stdout and a note on stderr when no query matches', async () => {
      const { code, stdout, stderr } = await run(listCommand, ['--event-data-store', slow.eventDataStoreArn, '--status', 'FINISHED'], slowEnv);
      expect(code).toBe(0);
      expect(stdout).toBe('');
      expect(stderr).toBe(`ctlake: no queries with status FINISHED in ${slow.eventDataStoreArn} (the service keeps queries for 7 days)\n`);
    });

    it('--since and --until take a duration before now or a UTC time', async () => {
      const recent = await run(listCommand, ['--event-data-store', lake.eventDataStoreArn, '--since', '1h', '--json'], env);
      expect(recent.stdout.trimEnd().split('\n')).toHaveLength(2);
      const future = await run(listCommand, ['--event-data-store', lake.eventDataStoreArn, '--since', '2099-01-01'], env);
      expect(future).toMatchObject({ code: 0, stdout: '' });
      expect(future.stderr).toMatch(/^ctlake: no queries since 2099-01-01 00:00:00 UTC in /);
      const old = await run(listCommand, ['--event-data-store', lake.eventDataStoreArn, '--until', '2h'], env);
      expect(old).toMatchObject({ code: 0, stdout: '' });
      const window = await run(listCommand, ['--event-data-store', lake.eventDataStoreArn, '--since', '2000-01-01 00:00:00', '--until', '2099-01-01T00:00:00Z', '--json'], env);
      expect(window.stdout.trimEnd().split('\n')).toHaveLength(2);
    });

    it('reads the event data store from CTLAKE_EVENT_DATA_STORE', async () => {
      const { code, stdout } = await run(listCommand, ['--json'], { ...env, CTLAKE_EVENT_DATA_STORE: lake.eventDataStoreArn });
      expect(code).toBe(0);
      expect(stdout.trimEnd().split('\n')).toHaveLength(2);
    });

    it('follows NextToken over every page, and retries throttling', async () => {
      const canned = await startEmulator({});
      try {
        const start = Date.now() - 3_600_000;
        for (let i = 0; i < 1005; i++) canned.addQuery({ rows: [], creationTime: new Date(start + i * 1000) });
        canned.setFaults({ throttleEvery: 2, operations: ['ListQueries'] });
        const { code, stdout, stderr } = await run(listCommand, ['--event-data-store', canned.eventDataStoreArn], emulatorEnv(canned));
        expect(code).toBe(0);
        const lines = stdout.trimEnd().split('\n');
        expect(lines).toHaveLength(1006);
        expect(lines.filter((l) => l.startsWith('QUERY ID'))).toHaveLength(1);
        expect(new Set(lines.slice(1).map((l) => l.slice(0, 36))).size).toBe(1005);
        expect(lines[1]!.slice(-19) >= lines[1005]!.slice(-19)).toBe(true);
        const calls = canned.requests.filter((r) => r.operation === 'ListQueries');
        expect(calls.map((r) => r.fault)).toEqual([undefined, 'throttle', undefined]);
        expect(calls.map((r) => r.input.MaxResults)).toEqual([1000, 1000, 1000]);
        expect(stderr).toBe('ctlake: ListQueries: ThrottlingException; retry 1 of 6\n');
      } finally {
        await canned.close();
      }
    });

    it.each([
      [['--event-data-store', 'x', '--status', 'DONE'], "ctlake: error: --status must be one of QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, TIMED_OUT, not 'DONE'\n"],
      [[], 'ctlake: error: --event-data-store is required: the ARN or id of the event data store whose queries to list (or set CTLAKE_EVENT_DATA_STORE)\n'],
      [['--event-data-store', 'x', '--since', 'yesterday'], /^ctlake: error: --since must be a duration before now such as 90m, 24h or 7d, or a UTC time .*, not 'yesterday'\n$/],
      [['--event-data-store', 'x', '--until', '2024-02-30'], /^ctlake: error: --until must be .*, not '2024-02-30'\n$/],
      [['--event-data-store', 'x', '--since', '3600'], /^ctlake: error: --since must be .*, not '3600'\n$/],
      [['--event-data-store', 'x', '--since', '1h', '--until', '2h'], /^ctlake: error: --since \(.* UTC\) is after --until \(.* UTC\)\n$/],
      [['--event-data-store', 'x', 'extra'], /^ctlake: error: Unexpected argument 'extra'.*; run ctlake list --help for the options\n$/],
    ])('refuses %j with exit 2 and one line', async (args, message) => {
      const { code, stdout, stderr } = await run(listCommand, args, env);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      if (typeof message === 'string') expect(stderr).toBe(message);
      else expect(stderr).toMatch(message);
      expect(lake.requests.some((r) => r.input.EventDataStore === 'x')).toBe(false);
    });

    it('reports a wrong event data store in one line with exit 2', async () => {
      const { code, stderr } = await run(listCommand, ['--event-data-store', 'arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/nope'], env);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^ctlake: error: ListQueries: EventDataStoreNotFoundException: .*; check --event-data-store\n$/);
    });
  });

  describe('describe', () => {
    it('--json prints every field of DescribeQuery in camelCase', async () => {
      const { code, stdout, stderr } = await run(describeCommand, [finished[0]!, '--json'], env);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const d = JSON.parse(stdout) as Record<string, unknown>;
      expect(Object.keys(d)).toEqual([
        'queryId', 'status', 'sql', 'creationTime', 'executionTimeInMillis', 'eventsMatched',
        'eventsScanned', 'bytesScanned', 'errorMessage', 'deliveryS3Uri', 'deliveryStatus',
      ]);
      expect(d).toMatchObject({ queryId: finished[0], status: 'FINISHED', sql: `SELECT eventName FROM ${lake.eventDataStoreArn} LIMIT 3`, eventsMatched: 3, errorMessage: null, deliveryS3Uri: null });
      expect(d.bytesScanned).toBeGreaterThan(0);
      expect(d.eventsScanned).toBeGreaterThan(0);
      expect(typeof d.executionTimeInMillis).toBe('number');
      expect(new Date(d.creationTime as string).toISOString()).toBe(d.creationTime);
    });

    it('prints aligned lines, bytes in binary units and exactly, - where there is no value', async () => {
      const { code, stdout } = await run(describeCommand, [timedOut[0]!], slowEnv);
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines).toEqual([
        `Query ID         ${timedOut[0]}`,
        'Status           TIMED_OUT',
        expect.stringMatching(/^Created          \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/),
        expect.stringMatching(/^Execution time   \d+\.\ds \(\d+ ms\)$/),
        'Events matched   0',
        'Events scanned   0',
        'Bytes scanned    0 B (0 bytes)',
        'Error message    Query exceeded the maximum run time of 0 seconds.',
        'Delivery S3 URI  -',
        'Delivery status  -',
        `SQL              SELECT eventName FROM ${slow.eventDataStoreArn} LIMIT 5`,
      ]);
      const done = await run(describeCommand, [finished[1]!], env);
      expect(done.stdout).toMatch(/^Bytes scanned    \d+(\.\d)? (B|KiB|MiB) \(\d+ bytes\)$/m);
    });

    it('reports an unknown query id in one line with exit 1', async () => {
      const { code, stdout, stderr } = await run(describeCommand, [UNKNOWN_ID], env);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toBe(`ctlake: error: DescribeQuery: query ${UNKNOWN_ID} not found; check the id and --region (results are kept for 7 days)\n`);
    });

    it.each([
      [['not-a-query'], "ctlake: error: the query id must be a UUID such as 0a1b2c3d-0000-4000-8000-123456789abc, not 'not-a-query'\n"],
      [[UNKNOWN_ID.toUpperCase()], /must be a UUID/],
      [[], 'ctlake: error: ctlake describe needs a query id: ctlake describe QUERY_ID (see ctlake list)\n'],
      [[UNKNOWN_ID, UNKNOWN_ID], /^ctlake: error: ctlake describe takes one query id, not also/],
      [['--status', 'FINISHED'], /^ctlake: error: Unknown option '--status'; run ctlake describe --help for the options\n$/],
    ])('refuses %j with exit 2', async (args, message) => {
      const { code, stderr } = await run(describeCommand, args, env);
      expect(code).toBe(2);
      if (typeof message === 'string') expect(stderr).toBe(message);
      else expect(stderr).toMatch(message);
    });
  });

  describe('cancel', () => {
    let running: Emulator;
    let runningClient: CloudTrailClient;
    beforeAll(async () => {
      running = await startEmulator({ sample: 200, runningMs: 5000 });
      runningClient = emulatorClient(running);
    });
    afterAll(async () => {
      runningClient.destroy();
      await running.close();
    });

    it('cancels a running query and prints CANCELLED', async () => {
      const id = await startQuery(runningClient, running);
      await waitForStatus(runningClient, id, 'RUNNING');
      const { code, stdout, stderr } = await run(cancelCommand, [id], emulatorEnv(running));
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toBe(`${id} CANCELLED\n`);
      const after = await runningClient.send(new DescribeQueryCommand({ QueryId: id }));
      expect(after.QueryStatus).toBe('CANCELLED');
    });

    it('counts a cancel whose answer was lost, then met InactiveQueryException, as cancelled', async () => {
      const first = await startQuery(runningClient, running);
      const id = await startQuery(runningClient, running);
      // The 2nd CancelQuery is answered halfway and reset, after the emulator cancelled the query.
      running.setFaults({ resetEvery: 2, operations: ['CancelQuery'] });
      const before = running.requests.length;
      try {
        await runningClient.send(new CancelQueryCommand({ QueryId: first }));
        const { code, stdout, stderr } = await run(cancelCommand, [id, '--json'], emulatorEnv(running));
        expect(code).toBe(0);
        expect(stdout).toBe(`{"queryId":"${id}","status":"CANCELLED"}\n`);
        expect(stderr).toBe('ctlake: CancelQuery: aborted; retry 1 of 6\n');
        expect(running.requests.slice(before).filter((r) => r.operation === 'CancelQuery').map((r) => r.fault)).toEqual([undefined, 'reset', undefined]);
      } finally {
        running.setFaults({});
      }
    });

    it('exits 4 with the status for a query that already ended', async () => {
      const { code, stdout, stderr } = await run(cancelCommand, [finished[0]!], env);
      expect(code).toBe(EXIT_QUERY_INACTIVE);
      expect(code).toBe(4);
      expect(stdout).toBe('');
      expect(stderr).toBe(`ctlake: error: query ${finished[0]} already ended FINISHED; nothing to cancel\n`);
    });

    it('writes that error as a JSON line when logs are JSON', async () => {
      const { code, stderr } = await run(cancelCommand, [timedOut[1]!, '--log-format', 'json'], slowEnv);
      expect(code).toBe(4);
      const line = JSON.parse(stderr) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 'error', event: 'error', exitCode: 4, queryId: timedOut[1], status: 'TIMED_OUT', message: `query ${timedOut[1]} already ended TIMED_OUT; nothing to cancel` });
    });

    it('reports an unknown query id with exit 1 and a bad one with exit 2', async () => {
      const unknown = await run(cancelCommand, [UNKNOWN_ID], env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe(`ctlake: error: CancelQuery: query ${UNKNOWN_ID} not found; check the id and --region (results are kept for 7 days)\n`);
      expect((await run(cancelCommand, ['0a1b'], env)).code).toBe(2);
      expect((await run(cancelCommand, ['--log-format', 'xml', UNKNOWN_ID], env)).stderr).toBe("ctlake: error: --log-format must be text, json, not 'xml'\n");
    });
  });

  it('prints each --help on stdout with exit 0', async () => {
    for (const [command, spec] of [[listCommand, LIST_SPEC], [describeCommand, DESCRIBE_SPEC], [cancelCommand, CANCEL_SPEC]] as const) {
      expect(await run(command, ['--help'], {})).toEqual({ code: 0, stdout: commandHelp(spec), stderr: '' });
    }
    const list = commandHelp(LIST_SPEC);
    // The usage line wraps at 80 columns, never inside a bracketed option.
    expect(list).toMatch(/^Usage: ctlake list --event-data-store ARN\|ID \[--status S\] \[--since T\]\n {19}\[--until T\] \[--json\]\n/);
    expect(list).toMatch(/CTLAKE_EVENT_DATA_STORE/);
    for (const flag of ['--event-data-store ARN|ID', '--status S', '--since T', '--until T', '--json', '--region REGION', '--profile NAME', '--endpoint-url URL', '--log-format text|json', '-h, --help']) {
      expect(list.includes(`\n  ${flag} `) || list.includes(`\n  ${flag}\n`), flag).toBe(true);
    }
    expect(commandHelp(CANCEL_SPEC)).toMatch(/exits 4/);
    expect(commandHelp(DESCRIBE_SPEC)).toMatch(/deliveryS3Uri and deliveryStatus/);
    for (const spec of [LIST_SPEC, DESCRIBE_SPEC, CANCEL_SPEC]) {
      expect(flagForOption(spec, 'endpointUrl')).toBe('--endpoint-url');
      expect(flagForOption(spec, 'eventDataStore')).toBe('--event-data-store');
      // The usage line apart, as in every hand-written help before.
      for (const line of commandHelp(spec).split('\n').slice(1)) expect(line.length).toBeLessThanOrEqual(80);
    }
  });
});

describe('pointInTime', () => {
  const now = Date.parse('2024-06-01T12:00:00Z');
  it.each([
    ['24h', '2024-05-31T12:00:00.000Z'],
    ['90m', '2024-06-01T10:30:00.000Z'],
    ['7d', '2024-05-25T12:00:00.000Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T00:00:00Z', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01 00:00:00', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T12:30', '2024-05-01T12:30:00.000Z'],
    ['2024-05-01T02:00:00.250+02:00', '2024-05-01T00:00:00.250Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('%s', (text, iso) => {
    expect(pointInTime(text, '--since', now).toISOString()).toBe(iso);
  });
  it.each(['2023-02-29', '2024-13-01', '2024-05-01T24:00:00', '2024-05-01T10:60', 'soon', '12', '2024-05-01Z'])('refuses %s', (text) => {
    expect(() => pointInTime(text, '--since', now)).toThrow(/--since must be/);
  });
});
