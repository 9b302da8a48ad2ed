import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { s3Store } from '../src/destinations/s3.js';
import { BIN, runCli } from './support/cli-process.js';
import { captureIO, emulatorEnv, withEmulator } from './support/lake.js';
import { lakeRows } from './support/lake-rows.js';
import { startS3, type TestS3 } from './support/s3.js';

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
}

describe('hostile datasets on S3', () => {
  let emulator: Emulator;
  let s3: TestS3;
  let env: Record<string, string>;
  let small: string;
  let big: string;
  beforeAll(async () => {
    emulator = await withEmulator();
    s3 = await startS3();
    small = emulator.addQuery({ rows: lakeRows(300), sql: 'SELECT * FROM lake' });
    big = emulator.addQuery({ rows: lakeRows(3000), sql: 'SELECT * FROM lake' });
    env = { ...emulatorEnv(emulator), AWS_ENDPOINT_URL_S3: s3.url };
  });
  afterAll(async () => {
    await emulator.close();
    await s3.close();
  });
  beforeEach(() => s3.failWhen(undefined));

  const exportTo = async (prefix: string, queryId: string) => {
    const run = captureIO(env);
    const code = await main(['export', '--s3-force-path-style', '--query-id', queryId, '--out', `s3://${s3.bucket}/${prefix}`, '--partition-by', 'eventTime:day'], run.io);
    return { code, stderr: run.stderr() };
  };
  const verify = async (prefix: string) => {
    const run = captureIO(env);
    const code = await main(['verify', `s3://${s3.bucket}/${prefix}`, '--s3-force-path-style'], run.io);
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  };
  const objects = async (prefix: string) => Object.fromEntries(await Promise.all((await s3.keys(prefix)).map(async (k) => [k, (await s3.get(k)).toString('base64')] as const)));

  it('s3Store refuses a key outside its prefix (.., absolute, backslash, NUL) before any request', async () => {
    const store = s3Store(s3.client, s3.bucket, 'inside/', { partSizeBytes: 8 * 1024 * 1024, queueSize: 1 });
    const from = s3.requests.length;
    for (const name of ['../outside', '/abs', 'a\\b', 'a\u0000b', 'a/./b', 'x/../../y']) {
      await expect(store.remove(name)).rejects.toMatchObject({ code: 'DESTINATION_FAILED', message: expect.stringMatching(/^refused the path .* in s3:\/\/lake\/inside\/: /) });
      await expect(store.put(name, Buffer.from('x'))).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
      await expect(store.get(name)).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
      await expect(store.create(name)).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
    }
    expect(s3.requests.slice(from)).toEqual([]);
  });

  it('an export into an S3 dataset whose manifest names a key outside its prefix exits 5 before any query call and removes nothing', async () => {
    expect((await exportTo('edited/', small)).code).toBe(0);
    await s3.client.send(new (await import('@aws-sdk/client-s3')).PutObjectCommand({ Bucket: s3.bucket, Key: 'victim.txt', Body: 'not yours' }));
    const manifest = JSON.parse((await s3.get('edited/_manifest.json')).toString()) as { exports: Array<{ files: Array<Record<string, unknown>> }> };
    manifest.exports[0]!.files.push({ ...manifest.exports[0]!.files[0]!, path: '../victim.txt' });
    await s3.client.send(new (await import('@aws-sdk/client-s3')).PutObjectCommand({ Bucket: s3.bucket, Key: 'edited/_manifest.json', Body: JSON.stringify(manifest) }));
    const before = await objects('edited/');
    const calls = emulator.requests.length;
    const rerun = await exportTo('edited/', small);
    expect(rerun.code).toBe(5);
    expect(rerun.stderr).toMatch(/\.path "\.\.\/victim\.txt" is outside the dataset/);
    expect(emulator.requests.slice(calls)).toEqual([]);
    expect((await s3.get('victim.txt')).toString()).toBe('not yours');
    expect(await objects('edited/')).toEqual(before);
    const report = await verify('edited/');
    expect(report.code).toBe(5);
    expect(report.stdout).toMatch(/^_manifest\.json: exports\[0\]\.files\[\d+\] \(export ".*"\)\.path "\.\.\/victim\.txt" is outside the dataset/m);
  });

  it('verify words a manifest GET that fails as a read, one problem line, exit 5', async () => {
    expect((await exportTo('unreadable/', small)).code).toBe(0);
    s3.failWhen((r) => r.method === 'GET' && r.url.includes('unreadable/_manifest.json'));
    const report = await verify('unreadable/');
    s3.failWhen(undefined);
    expect(report.code).toBe(5);
    expect(report.stdout).toMatch(/^cannot read s3:\/\/lake\/unreadable\/_manifest\.json: InternalError/);
    expect(report.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('a second process exporting a key into an S3 dataset while the first holds it exits 8 naming the key and the holder', async () => {
    const out = `s3://${s3.bucket}/concurrent/`;
    const args = ['export', '--s3-force-path-style', '--query-id', big, '--out', out, '--partition-by', 'eventTime:day', '--page-size', '100'];
    // Slow pages keep the first exporting while the second starts and is refused; fast again after.
    emulator.setFaults({ latencyMs: 200, operations: ['GetQueryResults'] });
    try {
      const first = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
      const from = emulator.requests.length;
      // The first is reading pages: its export is under way.
      await until(() => emulator.requests.slice(from).filter((r) => r.operation === 'GetQueryResults').length >= 3);
      const second = await runCli(args, env);
      emulator.setFaults({});
      expect(second.status, second.stderr).toBe(8);
      expect(second.stderr).toContain(`ctlake: error: export ${JSON.stringify(big)} is already being written: another run holds the lock ${out}_locks/${big}.lock (host `);
      expect(second.stderr).toContain(`pid ${first.pid},`);
      const [code] = await once(first, 'exit');
      expect(code).toBe(0);
    } finally {
      emulator.setFaults({});
    }
    expect(await verify('concurrent/')).toMatchObject({ code: 0 });
    expect(await s3.keys('concurrent/_locks/')).toEqual([]);
  });
});
