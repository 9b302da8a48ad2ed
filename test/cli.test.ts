import { mkdtemp, chmod, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { QUERY_ID, captureIO, emulatorEnv, sampleRows, withEmulator } from './support/lake.js';
import { runCli } from './support/cli-process.js';

const pkg = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };

describe('the ctlake command', () => {
  let emulator: Emulator;
  let env: Record<string, string>;
  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(3) }] });
    env = emulatorEnv(emulator);
  });
  afterAll(() => emulator.close());

  it('prints its version and help', async () => {
    expect(await runCli(['--version'], env)).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });
    const help = await runCli(['export', '--help'], env);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--query-id ID/);
    expect(help.stdout).toMatch(/--page-size N/);
  });

  it.each([
    [['export', '--out', '-'], /^ctlake: error: give exactly one of --query-id, --sql and --sql-file\n$/],
    [['export', '--query-id', QUERY_ID, '--sql', 'SELECT 1', '--out', '-'], /^ctlake: error: give exactly one of --query-id, --sql and --sql-file\n$/],
    [['export', '--query-id', QUERY_ID, '--out', '-', '--query-parameter', 'x'], /^ctlake: error: --query-parameter goes with --sql or --sql-file\n$/],
    [['export', '--sql', 'SELECT 1', '--out', '-', '--query-timeout', 'soon'], /^ctlake: error: --query-timeout must be a duration such as 90s, 15m, 24h or 7d, not 'soon'\n$/],
    [['export', '--query-id', QUERY_ID], /^ctlake: error: --out is required/],
    [['export', '--query-id', 'not-a-query', '--out', '-'], /^ctlake: error: --query-id must be a query id such as .*, not 'not-a-query'\n$/],
    [['export', '--query-id', QUERY_ID, '--out', '-', '--page-size', '0'], /^ctlake: error: --page-size must be a whole number from 1 to 1000, not '0'\n$/],
    [['export', '--query-id', QUERY_ID, '--out', '-', '--page-size', '1001'], /^ctlake: error: --page-size must be a whole number from 1 to 1000, not '1001'\n$/],
    [['export', '--query-id', QUERY_ID, '--out', '-', '--compression', 'zip'], /^ctlake: error: --compression must be gzip, none for ndjson, not 'zip'\n$/],
    [['export', '--nope'], /^ctlake: error: Unknown option '--nope'; run ctlake export --help for the options\n$/],
    [['frobnicate'], /^ctlake: error: unknown command 'frobnicate'; run ctlake --help for the commands\n$/],
  ])('refuses %j with exit 2 and one line', async (args, message) => {
    const { io, stdout, stderr } = captureIO(env);
    expect(await main(args, io)).toBe(2);
    expect(stderr()).toMatch(message);
    expect(stdout()).toBe('');
  });

  it('reports an unwritable path in one line with exit 1, from the real process', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-ro-'));
    await chmod(dir, 0o500);
    const out = path.join(dir, 'x.ndjson');
    const result = await runCli(['export', '--query-id', QUERY_ID, '--out', out], env);
    if (process.getuid?.() === 0) {
      // root writes anywhere; use a path under a file instead.
      const bad = await runCli(['export', '--query-id', QUERY_ID, '--out', '/dev/null/x.ndjson'], env);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/^ctlake: error: cannot write \/dev\/null\/x.ndjson: (ENOTDIR|EEXIST); check the path in --out\n$/);
      expect(result.status).toBe(0);
    } else {
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^ctlake: error: cannot write .*: EACCES; choose a --out you may write to\n$/);
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('reads the endpoint from AWS_ENDPOINT_URL when no other is given', async () => {
    const { AWS_ENDPOINT_URL_CLOUDTRAIL, ...rest } = env;
    const result = await runCli(['export', '--query-id', QUERY_ID, '--out', '-', '--quiet'], { ...rest, AWS_ENDPOINT_URL: AWS_ENDPOINT_URL_CLOUDTRAIL ?? '' });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('says what to do when there are no credentials', async () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...rest } = env;
    const result = await runCli(['export', '--query-id', QUERY_ID, '--out', '-'], { ...rest, AWS_EC2_METADATA_DISABLED: 'true' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ctlake: error: no AWS credentials found .*; set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n$/);
  });

  it('says what to do when the endpoint is not reachable', async () => {
    const result = await runCli(['export', '--query-id', QUERY_ID, '--out', '-', '--endpoint-url', 'http://127.0.0.1:9'], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ctlake: error: DescribeQuery: cannot reach the CloudTrail endpoint \(ECONNREFUSED.*\); check --endpoint-url and --region\n$/);
  });
});

describe('the ctlake command without a region', () => {
  it('asks for one, with exit 2', async () => {
    const emulator = await withEmulator();
    const { AWS_REGION, ...env } = emulatorEnv(emulator);
    const result = await runCli(['export', '--query-id', QUERY_ID, '--out', '-'], env);
    await emulator.close();
    expect(result).toMatchObject({ status: 2, stderr: 'ctlake: error: no AWS region is set; use --region or set AWS_REGION\n' });
  });
});

describe('ctlake list, describe and cancel through main', () => {
  it('are wired to their commands', async () => {
    const { startEmulator } = await import('../src/emulator/server.js');
    const emulator = await startEmulator({ sample: 50, runningMs: 5000 });
    const env = emulatorEnv(emulator);
    const { emulatorClient } = await import('./support/lake.js');
    const { StartQueryCommand } = await import('@aws-sdk/client-cloudtrail');
    const client = emulatorClient(emulator);
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT eventName FROM ${emulator.eventDataStoreId}` }));
    client.destroy();
    const list = captureIO(env);
    expect(await main(['list', '--event-data-store', emulator.eventDataStoreArn, '--status', 'RUNNING', '--json'], list.io)).toBe(0);
    expect(JSON.parse(list.stdout())).toMatchObject({ queryId: QueryId, status: 'RUNNING' });
    const cancel = captureIO(env);
    expect(await main(['cancel', QueryId!], cancel.io)).toBe(0);
    expect(cancel.stdout()).toBe(`${QueryId} CANCELLED\n`);
    const again = captureIO(env);
    expect(await main(['cancel', QueryId!], again.io)).toBe(4);
    const describe = captureIO(env);
    expect(await main(['describe', QueryId!, '--json'], describe.io)).toBe(0);
    expect(JSON.parse(describe.stdout())).toMatchObject({ queryId: QueryId, status: 'CANCELLED' });
    await emulator.close();
  });
});
