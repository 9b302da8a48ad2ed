import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { BIN } from './support/cli-process.js';
import { captureIO, emulatorEnv } from './support/lake.js';
import { lakeRows } from './support/lake-rows.js';
import { startS3, type TestS3 } from './support/s3.js';

/** The real ctlake process, with its stderr collected. */
function spawnCtlake(args: string[], env: Record<string, string>): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return { child, stderr: () => stderr };
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
}

describe('signals during a dataset export (real process)', () => {
  let emulator: Emulator;
  let s3: TestS3;
  let dir: string;
  let queryId: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    emulator = await startEmulator({});
    queryId = emulator.addQuery({ rows: lakeRows(3000), sql: 'SELECT * FROM lake' });
    s3 = await startS3();
    env = { ...emulatorEnv(emulator), AWS_ENDPOINT_URL_S3: s3.url };
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-dataset-signals-'));
  });
  afterAll(async () => {
    await emulator.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });
  const verify = async (dataset: string) => {
    const run = captureIO({ ...env, AWS_REGION: 'us-east-1' });
    return { code: await main(['verify', dataset, '--s3-force-path-style'], run.io), stdout: run.stdout() };
  };

  it('SIGTERM in the middle of the pages leaves nothing, exits 130, and a rerun succeeds', async () => {
    const out = path.join(dir, 'local') + '/';
    emulator.setFaults({ latencyMs: 100, operations: ['GetQueryResults'] });
    const before = emulator.requests.length;
    const args = ['export', '--query-id', queryId, '--out', out, '--partition-by', 'eventTime:day', '--page-size', '100', '--max-rows-per-file', '200'];
    const { child, stderr } = spawnCtlake(args, env);
    await until(() => emulator.requests.slice(before).filter((r) => r.operation === 'GetQueryResults').length >= 8);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    emulator.setFaults({});
    expect(code).toBe(130);
    expect(stderr()).toMatch(/SIGTERM: stopping/);
    expect(stderr()).toMatch(/^ctlake: error: export interrupted; nothing was committed$/m);
    expect(await readdir(out).catch(() => [])).toEqual([]);
    const rerun = captureIO(env);
    expect(await main(args, rerun.io)).toBe(0);
    expect(await verify(out)).toMatchObject({ code: 0 });
  });

  it('SIGTERM during the commit lets the commit finish: exit 0 and a complete dataset', async () => {
    const prefix = 'commit-finishes/';
    s3.delayWhen((r) => (r.method === 'PUT' && r.url.includes(`${prefix}_manifest.json`) ? 1500 : 0));
    const from = s3.requests.length;
    const { child, stderr } = spawnCtlake(['export', '--query-id', queryId, '--out', `s3://${s3.bucket}/${prefix}`, '--s3-force-path-style', '--partition-by', 'eventTime:day'], env);
    await until(() => s3.requests.slice(from).some((r) => r.url.includes(`${prefix}_manifest.json`) && r.method === 'PUT'));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    s3.delayWhen(undefined);
    expect(stderr()).toMatch(/SIGTERM: stopping/);
    expect(code).toBe(0);
    expect(await verify(`s3://${s3.bucket}/${prefix}`)).toMatchObject({ code: 0 });
  });

  it('a second signal during the commit exits at once: no _SUCCESS, verify fails, and a rerun repairs it', async () => {
    const prefix = 'commit-killed/';
    s3.delayWhen((r) => (r.method === 'PUT' && r.url.includes(`${prefix}_manifest.json`) ? 3000 : 0));
    const from = s3.requests.length;
    const args = ['export', '--query-id', queryId, '--out', `s3://${s3.bucket}/${prefix}`, '--s3-force-path-style', '--partition-by', 'eventTime:day'];
    const { child } = spawnCtlake(args, env);
    await until(() => s3.requests.slice(from).some((r) => r.url.includes(`${prefix}_manifest.json`) && r.method === 'PUT'));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(130);
    s3.delayWhen(undefined);
    // Wait for the held manifest PUT to settle, whatever it does, before looking.
    await new Promise((r) => setTimeout(r, 3200));
    expect(await s3.keys(prefix)).not.toContain(`${prefix}_SUCCESS`);
    const broken = await verify(`s3://${s3.bucket}/${prefix}`);
    expect(broken.code).toBe(5);
    const rerun = captureIO(env);
    expect(await main([...args], rerun.io)).toBe(0);
    expect(await verify(`s3://${s3.bucket}/${prefix}`)).toMatchObject({ code: 0 });
  });
});
