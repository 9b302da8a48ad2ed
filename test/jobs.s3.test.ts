import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { s3Store } from '../src/destinations/s3.js';
import { localStore } from '../src/destinations/store.js';
import { acquireLock } from '../src/destinations/store-lock.js';
import type { JobState } from '../src/jobs/job-state.js';
import { captureIO, emulatorEnv } from './support/lake.js';
import { startS3, type TestS3 } from './support/s3.js';

const S3_OPTIONS = { partSizeBytes: 8 * 1024 * 1024, queueSize: 1 };

describe('job state and locks on S3', () => {
  let emulator: Emulator;
  let s3: TestS3;
  let dir: string;
  let sqlFile: string;
  beforeAll(async () => {
    emulator = await startEmulator({ sample: 4000, seed: 5 });
    s3 = await startS3();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-jobs-s3-'));
    sqlFile = path.join(dir, 'q.sql');
    await writeFile(sqlFile, `SELECT eventID, eventTime FROM ${emulator.eventDataStoreId} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`);
  });
  afterAll(async () => {
    await emulator.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the lock to exactly one of many runs that ask at once, on S3 and locally', async () => {
    for (const store of [s3Store(s3.client, s3.bucket, 'locks/', S3_OPTIONS), localStore(dir)]) {
      const tries = await Promise.allSettled(Array.from({ length: 5 }, () => acquireLock(store, 'job.lock')));
      const won = tries.filter((t) => t.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const t of tries) if (t.status === 'rejected') expect(t.reason).toMatchObject({ code: 'LOCK_HELD' });
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
      expect(await store.get('job.lock')).toBeUndefined();
    }
  });

  it('takes over a lock whose lease has expired, once', async () => {
    const store = s3Store(s3.client, s3.bucket, 'locks/', S3_OPTIONS);
    const expired = { owner: 'gone', host: 'elsewhere', pid: 1, acquiredAt: '2024-01-01T00:00:00Z', expiresAt: '2024-01-01T00:10:00Z' };
    await store.put('old.lock', Buffer.from(JSON.stringify(expired)));
    const tries = await Promise.allSettled([acquireLock(store, 'old.lock'), acquireLock(store, 'old.lock')]);
    const won = tries.filter((t) => t.status === 'fulfilled') as Array<PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>>;
    expect(won).toHaveLength(1);
    expect(won[0]!.value.tookOver?.owner).toBe('gone');
    await won[0]!.value.release();
    // A live lock of another host is never taken over.
    const live = { ...expired, expiresAt: '2999-01-01T00:00:00Z' };
    await store.put('live.lock', Buffer.from(JSON.stringify(live)));
    await expect(acquireLock(store, 'live.lock')).rejects.toMatchObject({ code: 'LOCK_HELD', message: expect.stringMatching(/host "elsewhere", pid 1/) });
  });

  it('writes the state only over the version it read: a run that lost its lock stops', async () => {
    const { openStateFile } = await import('../src/jobs/job-state.js');
    for (const location of [`s3://${s3.bucket}/cas/state.json`, path.join(dir, 'cas.json')]) {
      const file = await openStateFile(location, async () => s3.client);
      const state: JobState = { stateVersion: 1, job: 'windows', sqlSha256: 'x', out: 'y/', runs: {}, updatedAt: '' };
      expect(await file.read()).toBeUndefined();
      await file.write(state);
      await file.write({ ...state, exportedUntil: '2024-05-01T01:00:00Z' });
      // Another run writes meanwhile (it took the lock over).
      const other = await openStateFile(location, async () => s3.client);
      await other.read();
      await other.write({ ...state, exportedUntil: '2024-05-01T02:00:00Z' });
      await expect(file.write({ ...state, exportedUntil: '2024-05-01T03:00:00Z' })).rejects.toMatchObject({ code: 'LOCK_HELD' });
      expect((await other.read())?.exportedUntil).toBe('2024-05-01T02:00:00Z');
    }
  });

  it('keeps a windowed job state on S3 and refuses a concurrent run with exit 8', async () => {
    const env = { ...emulatorEnv(emulator), AWS_ENDPOINT_URL_S3: s3.url };
    const args = (now: string) => [
      'export', '--sql-file', sqlFile, '--window', '1h', '--since', '2024-05-01T00:00:00Z', '--now', now, '--s3-force-path-style',
      '--state', `s3://${s3.bucket}/state/logins.json`, '--out', `s3://${s3.bucket}/lake/logins/`, '--partition-by', 'eventTime:day',
    ];
    emulator.setFaults({ latencyMs: 100, operations: ['GetQueryResults', 'DescribeQuery'] });
    const first = captureIO(env);
    const running = main(args('2024-05-01T03:00:00Z'), first.io);
    for (let i = 0; i < 300 && !(await s3.keys('state/')).includes('state/logins.json.lock'); i++) await new Promise((r) => setTimeout(r, 10));
    const second = captureIO(env);
    expect(await main(args('2024-05-01T03:00:00Z'), second.io)).toBe(8);
    expect(second.stderr()).toMatch(/another run holds the lock s3:\/\/lake\/state\/logins\.json\.lock/);
    expect(await running).toBe(0);
    emulator.setFaults({});
    expect(await s3.keys('state/')).toEqual(['state/logins.json']);
    const state = JSON.parse((await s3.get('state/logins.json')).toString('utf8')) as JobState;
    expect(state.exportedUntil).toBe('2024-05-01T03:00:00Z');
    expect(Object.keys(state.runs)).toHaveLength(3);
    const verify = captureIO(env);
    expect(await main(['verify', `s3://${s3.bucket}/lake/logins/`, '--s3-force-path-style'], verify.io)).toBe(0);
    expect(verify.stdout()).toMatch(/OK .* 3 exports/);
  });
});
