import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { exportWindows } from '../src/jobs/export-windows.js';
import { backfill } from '../src/jobs/backfill.js';
import type { JobState } from '../src/jobs/job-state.js';
import { captureIO, emulatorClient, emulatorEnv } from './support/lake.js';
import { runCli } from './support/cli-process.js';
import { startS3, type TestS3 } from './support/s3.js';

/**
 * Hostile input to scheduled exports and backfills: typo'd plans, summary
 * files with nowhere to go, state and lock files that are not what ctlake
 * wrote, and a lock taken over while a run holds it. Each run must end
 * promptly with the documented exit code and one line naming the problem.
 */
describe('jobs with hostile input', () => {
  let emulator: Emulator;
  let dir: string;
  let sqlFile: string;
  let env: Record<string, string>;
  let n = 0;
  /** A fresh dataset folder and state path for each case. */
  const fresh = () => {
    n++;
    return { out: path.join(dir, `lake-${n}`) + '/', state: path.join(dir, `state-${n}.json`) };
  };
  const startQueries = () => emulator.requests.filter((r) => r.operation === 'StartQuery').length;
  const windowArgs = (out: string, state: string, extra: string[] = []) => [
    'export', '--sql-file', sqlFile, '--window', '15m', '--since', '2024-05-01T00:00:00Z', '--state', state, '--out', out, '--now', '2024-05-01T01:15:00Z', ...extra,
  ];
  const backfillArgs = (out: string, state: string, extra: string[] = []) => [
    'backfill', '--sql-file', sqlFile, '--from', '2024-05-01T00:00:00Z', '--to', '2024-05-01T06:00:00Z', '--slice', '1h', '--concurrency', '1', '--state', state, '--out', out, ...extra,
  ];
  /** Runs the CLI in-process; resolves with the exit code and stderr. */
  const cli = async (args: string[]) => {
    const io = captureIO(env);
    const code = await main(args, io.io);
    return { code, stderr: io.stderr() };
  };
  /** Waits (bounded) until the emulator has seen `count` StartQuery calls. */
  const untilStarted = async (count: number) => {
    for (let i = 0; i < 1000 && startQueries() < count; i++) await new Promise((r) => setTimeout(r, 10));
    expect(startQueries()).toBeGreaterThanOrEqual(count);
  };
  /** Another run's live lock, as a takeover leaves it. */
  const othersLock = () => JSON.stringify({ owner: 'elsewhere:1:abc', host: 'elsewhere', pid: 1, acquiredAt: '2024-01-01T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z' });

  beforeAll(async () => {
    emulator = await startEmulator({ sample: 2000, seed: 11 });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-'));
    sqlFile = path.join(dir, 'events.sql');
    await writeFile(sqlFile, `SELECT eventID, eventTime FROM ${emulator.eventDataStoreId}\nWHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'\n`);
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('plans too big for memory', () => {
    it('typo plan (--since 1970 with --window 1m: 29 million windows) is refused at once with exit 2 naming --since and --window, no query, no heap crash', async () => {
      const { out, state } = fresh();
      const before = startQueries();
      // A process with a small heap, as the old code built every window in memory first.
      const r = await runCli(['export', '--sql-file', sqlFile, '--window', '1m', '--since', '1970-01-01T00:00:00Z', '--state', state, '--out', out, '--now', '2026-01-01T00:00:00Z'], {
        ...env,
        NODE_OPTIONS: '--max-old-space-size=96',
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^ctlake: error: \d+ windows of 1m have closed since --since 1970-01-01T00:00:00Z, more than 1000000: check --since and --window/m);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(startQueries()).toBe(before);
    });

    it.each([
      ['year 0001 (read by Date as 1901)', '0001-01-01T00:00:00Z', /--since must be a UTC time from 1970-01-01 to 9999-12-31, not "0001-01-01T00:00:00Z": check its year/],
      ['year 99999', '99999-01-01T00:00:00Z', /--since must be a UTC time such as 2026-01-01T00:00:00Z .*not "99999-01-01T00:00:00Z"/],
      ['a --since later than now', '2030-01-01T00:00:00Z', /--since 2030-01-01T00:00:00Z is later than now \(2026-01-01T00:00:00Z\)/],
    ])('out-of-range --since: %s is a usage error (exit 2) before any query', async (_, since, message) => {
      const { out, state } = fresh();
      const before = startQueries();
      const r = await cli(['export', '--sql-file', sqlFile, '--window', '1h', '--since', since, '--state', state, '--out', out, '--now', '2026-01-01T00:00:00Z']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(startQueries()).toBe(before);
    });

    it('out-of-range --from and an absurd backfill range (more than 100000 slices) are refused with exit 2 before any query', async () => {
      const { out, state } = fresh();
      const before = startQueries();
      const year = await cli(['backfill', '--sql-file', sqlFile, '--from', '0001-01-01T00:00:00Z', '--to', '2024-01-01T00:00:00Z', '--slice', '1d', '--state', state, '--out', out]);
      expect(year.code).toBe(2);
      expect(year.stderr).toMatch(/--from must be a UTC time from 1970-01-01 to 9999-12-31/);
      const absurd = await cli(['backfill', '--sql-file', sqlFile, '--from', '1970-01-01T00:00:00Z', '--to', '2024-01-01T00:00:00Z', '--slice', '1m', '--state', state, '--out', out]);
      expect(absurd.code).toBe(2);
      expect(absurd.stderr).toMatch(/--from 1970-01-01T00:00:00Z to --to 2024-01-01T00:00:00Z is \d+ slices of 1m, more than 100000: check --from, --to and --slice/);
      expect(startQueries()).toBe(before);
    });

    it.each([
      ['--window 99999999d (past the last instant Date holds)', ['--window', '99999999d'], /--window must be from 1m to 366d, not "99999999d"/],
      ['--window 30s', ['--window', '30s'], /--window must be from 1m to 366d, not "30s"/],
      ['--lag 400d (nothing would be exported for a year)', ['--lag', '400d'], /--lag must be from 0 to 30d, not "400d"/],
    ])('out-of-range duration: %s is a usage error (exit 2) before any query', async (_, extra, message) => {
      const { out, state } = fresh();
      const before = startQueries();
      const r = await cli(windowArgs(out, state, extra));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(startQueries()).toBe(before);
    });

    it('out-of-range duration: --slice 9999d is a usage error (exit 2) before any query', async () => {
      const { out, state } = fresh();
      const r = await cli(backfillArgs(out, state, ['--slice', '9999d']));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--slice must be from 1m to 366d, not "9999d"/);
    });

    it('backlog beyond --max-windows: the oldest N go out, a warning counts the rest, exit 0, and the next run continues', async () => {
      const { out, state } = fresh();
      const first = await cli(windowArgs(out, state, ['--max-windows', '2']));
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/2 of 2 windows exported/);
      expect(first.stderr).toMatch(/3 more windows have closed and remain; the next run continues from 2024-05-01T00:30:00Z/);
      expect((JSON.parse(await readFile(state, 'utf8')) as JobState).exportedUntil).toBe('2024-05-01T00:30:00Z');
      const second = await cli(windowArgs(out, state, ['--max-windows', '10']));
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/3 of 3 windows exported/);
      expect(second.stderr).not.toMatch(/remain/);
      expect((JSON.parse(await readFile(state, 'utf8')) as JobState).exportedUntil).toBe('2024-05-01T01:15:00Z');
    });

    it('backfill beyond --max-slices: the oldest N not done go out, a warning counts the rest, exit 0, and the next run continues', async () => {
      const { out, state } = fresh();
      const first = await cli(backfillArgs(out, state, ['--max-slices', '4']));
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/4 slices exported, 0 failed, 0 done before/);
      expect(first.stderr).toMatch(/2 more slices remain; the next run continues/);
      const second = await cli(backfillArgs(out, state, ['--max-slices', '4']));
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/2 slices exported, 0 failed, 4 done before/);
      expect(second.stderr).not.toMatch(/remain/);
      expect((await cli(backfillArgs(out, state))).code).toBe(6);
    });
  });

  describe('interrupts', () => {
    it('interrupt between two slices (no slice running) ends the backfill as INTERRUPTED (exit 130), not as success', async () => {
      const { out, state } = fresh();
      const controller = new AbortController();
      const client = emulatorClient(emulator);
      const run = backfill({
        sqlTemplate: await readFile(sqlFile, 'utf8'),
        from: Date.UTC(2024, 4, 1),
        to: Date.UTC(2024, 4, 1, 6),
        sliceMs: 3_600_000,
        concurrency: 1,
        state,
        out,
        client,
        pollMinMs: 5,
        signal: controller.signal,
        // The first slice has ended and is recorded; the next has not started.
        onProgress: (e) => {
          if (e.phase === 'end') controller.abort();
        },
      });
      const error = await run.then(() => undefined, (e: unknown) => e);
      client.destroy();
      expect(error).toMatchObject({ code: 'INTERRUPTED' });
      expect(exitCodeFor(error)).toBe(130);
      const recorded = JSON.parse(await readFile(state, 'utf8')) as JobState;
      expect(Object.values(recorded.runs).filter((r) => r.status === 'done')).toHaveLength(1);
    });
  });

  describe('--summary-json with nowhere to go', () => {
    const places = [
      ['a folder that does not exist', () => '/nonexistent-dir/summary.json', /its folder "\/nonexistent-dir" does not exist/],
      ['a path under a regular file', () => `${sqlFile}/summary.json`, /is not a folder/],
      ['a folder as the file', () => dir, /it is a folder/],
    ] as const;

    it.each(places)('unwritable --summary-json (%s) is exit 2 before StartQuery, for export, export --window and backfill', async (_, place, message) => {
      const summary = place();
      const before = startQueries();
      const one = fresh();
      const runs = [
        await cli(['export', '--sql', `SELECT eventID FROM ${emulator.eventDataStoreId}`, '--out', path.join(dir, `plain-${n}.ndjson`), '--summary-json', summary]),
        await cli(windowArgs(one.out, one.state, ['--summary-json', summary])),
        await cli(backfillArgs(fresh().out, fresh().state, ['--summary-json', summary])),
      ];
      for (const r of runs) {
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/^ctlake: error: --summary-json ".*" cannot be written: /m);
        expect(r.stderr).toMatch(message);
      }
      expect(startQueries()).toBe(before);
    });

    it('a writable --summary-json is written whole, by a rename, with no temporary file left beside it', async () => {
      const folder = path.join(dir, 'summaries');
      await mkdir(folder);
      const summary = path.join(folder, 'summary.json');
      await writeFile(summary, 'previous');
      const r = await cli(['export', '--sql', `SELECT eventID FROM ${emulator.eventDataStoreId}`, '--out', path.join(dir, 'plain.ndjson'), '--summary-json', summary]);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(await readFile(summary, 'utf8')) as { rows: number }).rows).toBe(2000);
      expect(await readdir(folder)).toEqual(['summary.json']);
    });
  });

  describe('state files that are not what ctlake wrote', () => {
    const base = { stateVersion: 1, job: 'windows', runs: {}, updatedAt: '2024-05-01T00:00:00Z' };
    /** A state of this very job (same SQL and --out), with `patch` applied as raw JSON text. */
    const stateOf = async (out: string, patch: Record<string, unknown> | undefined, raw?: string) => {
      const { sqlHash } = await import('../src/jobs/job-state.js');
      const sql = (await readFile(sqlFile, 'utf8')).trim();
      return raw ?? JSON.stringify({ ...base, sqlSha256: sqlHash(sql), out, ...patch });
    };
    const cases: Array<[string, Record<string, unknown> | undefined, string | undefined, RegExp]> = [
      ['exportedUntil a number (12345, once read as the year 12345)', { exportedUntil: 12345 }, undefined, /its exportedUntil is 12345, not a UTC time/],
      ['exportedUntil text that is no time', { exportedUntil: 'yesterday' }, undefined, /its exportedUntil is "yesterday"/],
      ['exportedUntil in year 12345', { exportedUntil: '+012345-01-01T00:00:00.000Z' }, undefined, /its exportedUntil is "\+012345/],
      ['runs an array', { runs: [] }, undefined, /its runs is \[\], not an object/],
      ['runs a number', { runs: 5 }, undefined, /its runs is 5/],
      ['a run keyed by __proto__', undefined, '{"stateVersion":1,"job":"windows","sqlSha256":"x","out":"y","updatedAt":"","runs":{"__proto__":{"polluted":true}}}', /its runs\["__proto__"\] /],
      ['a __proto__ field', undefined, '{"__proto__":{"exportedUntil":"2024-05-01T00:00:00Z"},"stateVersion":1,"job":"windows","sqlSha256":"x","out":"y","updatedAt":"","runs":{}}', /unknown field "__proto__"/],
      ['a typo\'d field (exportedUntill)', { exportedUntill: '2024-05-01T00:30:00Z' }, undefined, /unknown field "exportedUntill"/],
      ['a run with negative rows', { runs: { '20240501T000000Z-20240501T001500Z': { key: '20240501T000000Z-20240501T001500Z', start: '2024-05-01T00:00:00Z', end: '2024-05-01T00:15:00Z', status: 'done', rows: -1, finishedAt: 'x' } } }, undefined, /rows is -1, not a whole number/],
      ['a run not keyed by its window', { runs: { k: { key: 'k', start: '2024-05-01T00:00:00Z', end: '2024-05-01T00:15:00Z', status: 'done', finishedAt: 'x' } } }, undefined, /runs\["k"\] is not keyed by its own start and end/],
      ['JSON that is an array', undefined, '[1,2]', /it holds an array, not an object/],
      ['JSON that is a number', undefined, '42', /it holds a number, not an object/],
      ['JSON null', undefined, 'null', /it holds null/],
      ['not JSON at all', undefined, '{"stateVersion": 1, "job": ', /is not JSON/],
    ];

    it.each(cases)('unusable state (%s) is refused with exit 2, one line naming the file and the fix, before any query', async (_, patch, raw, message) => {
      const { out, state } = fresh();
      await writeFile(state, await stateOf(out, patch, raw));
      const before = startQueries();
      const r = await cli(windowArgs(out, state));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(`--state ${state} `);
      expect(r.stderr).toMatch(/restore it from a backup, or delete it to start over/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(startQueries()).toBe(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it.each([
      ['the state path is a folder', async (state: string) => (await mkdir(state), state), /EISDIR at ".*state-\d+\.json"/],
      ['the lock path is a folder', async (state: string) => (await mkdir(`${state}.lock`), state), /EISDIR at ".*state-\d+\.json\.lock"/],
      ['the state folder does not exist under a file', async () => `${sqlFile}/state.json`, /ENOTDIR|ENOENT/],
    ])('unusable state path (%s) is refused with exit 2 naming --state, not --out', async (_, make, message) => {
      const { out, state } = fresh();
      const location = await make(state);
      const r = await cli(windowArgs(out, location));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^ctlake: error: --state .* cannot be used: /m);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/--out/);
    });

    it('state whose exportedUntil is more than a day past now is refused with exit 2 (every run would say nothing to do)', async () => {
      const { out, state } = fresh();
      await writeFile(state, await stateOf(out, { exportedUntil: '2099-01-01T00:00:00Z' }));
      const r = await cli(windowArgs(out, state));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/says every window until "2099-01-01T00:00:00Z" is exported, which is more than a day later than now/);
    });

    it('unusable state on S3 (exportedUntil 12345) is refused with exit 2 as a local one is', async () => {
      const s3: TestS3 = await startS3();
      try {
        const out = `s3://${s3.bucket}/lake/x/`;
        const { PutObjectCommand } = await import('@aws-sdk/client-s3');
        await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'state/x.json', Body: await stateOf(out, { exportedUntil: 12345 }) }));
        const io = captureIO({ ...env, AWS_ENDPOINT_URL_S3: s3.url });
        const code = await main(['export', '--sql-file', sqlFile, '--window', '15m', '--since', '2024-05-01T00:00:00Z', '--now', '2024-05-01T01:00:00Z', '--s3-force-path-style', '--state', `s3://${s3.bucket}/state/x.json`, '--out', out], io.io);
        expect(code, io.stderr()).toBe(2);
        expect(io.stderr()).toMatch(/--state s3:\/\/.*\/state\/x\.json is not a valid ctlake job state: its exportedUntil is 12345/);
      } finally {
        await s3.close();
      }
    });
  });

  describe('locks', () => {
    it.each(['0', '1s', '29s', '2d'])('lock lease out of range (--lock-lease %s) is a usage error (exit 2) naming the flag, before any query', async (lease) => {
      const { out, state } = fresh();
      const before = startQueries();
      for (const args of [windowArgs(out, state, ['--lock-lease', lease]), backfillArgs(out, state, ['--lock-lease', lease])]) {
        const r = await cli(args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`--lock-lease must be from 30s to 1d .*not "${lease}"`));
      }
      expect(startQueries()).toBe(before);
    });

    it.each([
      ['not JSON', 'garbage\n', /the lock .*\.lock is not JSON, so no ctlake run wrote it; if no run of this job is going, remove it/],
      ['empty, as flock or touch leaves it', '', /the lock .*\.lock is empty \(a flock or touch of that name\?\)/],
      ['JSON of another shape', '{"owner": 5}', /the lock .*\.lock is JSON, but not a lock record/],
      ['a lock record with a time that does not parse', JSON.stringify({ owner: 'x', host: 'h', pid: 1, acquiredAt: 'x', expiresAt: 'never' }), /not a lock record/],
    ])('garbage lock file (%s) is refused with exit 2 and one line, not taken over', async (_, content, message) => {
      const { out, state } = fresh();
      await writeFile(`${state}.lock`, content);
      const before = startQueries();
      const r = await cli(windowArgs(out, state));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(await readFile(`${state}.lock`, 'utf8')).toBe(content);
      expect(startQueries()).toBe(before);
    });

    it('lock taken over while export --window runs: the run stops with exit 8 "lock lost", not 130, and leaves the new holder its lock and state', async () => {
      const { out, state } = fresh();
      emulator.setFaults({ latencyMs: 100, operations: ['DescribeQuery', 'GetQueryResults'] });
      try {
        const before = startQueries();
        const running = cli(windowArgs(out, state));
        await untilStarted(before + 1);
        await writeFile(`${state}.lock`, othersLock());
        const r = await running;
        expect(r.code, r.stderr).toBe(8);
        expect(r.stderr).toMatch(/^ctlake: error: lock lost: .*\.lock was taken over by host "elsewhere", pid 1, since "2024-01-01T00:00:00Z"; this run stops/m);
        // It stopped at once: the window in flight went out, its state was not written over the new holder's.
        expect(startQueries()).toBe(before + 1);
        await expect(readFile(state)).rejects.toThrow(/ENOENT/);
        expect(await readFile(`${state}.lock`, 'utf8')).toBe(othersLock());
      } finally {
        emulator.setFaults({});
      }
    });

    it('lock removed while export --window runs: the run stops with exit 8 "lock lost", as for a takeover', async () => {
      const { out, state } = fresh();
      emulator.setFaults({ latencyMs: 100, operations: ['DescribeQuery', 'GetQueryResults'] });
      try {
        const before = startQueries();
        const running = cli(windowArgs(out, state));
        await untilStarted(before + 1);
        await rm(`${state}.lock`);
        const r = await running;
        expect(r.code, r.stderr).toBe(8);
        expect(r.stderr).toMatch(/^ctlake: error: lock lost: .*\.lock was removed by someone else; this run stops/m);
        expect(startQueries()).toBe(before + 1);
      } finally {
        emulator.setFaults({});
      }
    });

    it('lock taken over while a backfill runs: every slice stops, exit 8 "lock lost"', async () => {
      const { out, state } = fresh();
      emulator.setFaults({ latencyMs: 100, operations: ['DescribeQuery', 'GetQueryResults'] });
      try {
        const before = startQueries();
        const running = cli(backfillArgs(out, state));
        await untilStarted(before + 1);
        await writeFile(`${state}.lock`, othersLock());
        const r = await running;
        expect(r.code, r.stderr).toBe(8);
        expect(r.stderr).toMatch(/^ctlake: error: lock lost: .*was taken over by host "elsewhere"/m);
        // One slice at a time: the one in flight went out, none started after.
        expect(startQueries()).toBe(before + 1);
        expect(await readFile(`${state}.lock`, 'utf8')).toBe(othersLock());
      } finally {
        emulator.setFaults({});
      }
    });

    it('lock lost at a renewal while a query runs: the export is stopped and the run fails with LOCK_HELD (exit 8), not INTERRUPTED (130)', async () => {
      // Queries that never end by themselves: only the lost lock can stop the run.
      const slow = await startEmulator({ sample: 100, runningMs: 3_600_000 });
      const client = emulatorClient(slow);
      try {
        const { out, state } = fresh();
        const run = exportWindows({
          sqlTemplate: `SELECT eventID FROM ${slow.eventDataStoreId} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'`,
          out,
          state,
          client,
          windowMs: 3_600_000,
          since: Date.UTC(2024, 4, 1),
          now: Date.UTC(2024, 4, 1, 2),
          lockLeaseMs: 3000,
          pollMinMs: 5,
          pollMaxMs: 50,
        });
        const outcome = run.then(
          () => undefined,
          (error: unknown) => error,
        );
        for (let i = 0; i < 1000 && !slow.requests.some((r) => r.operation === 'StartQuery'); i++) await new Promise((r) => setTimeout(r, 10));
        await writeFile(`${state}.lock`, othersLock());
        const error = await outcome;
        expect(error).toMatchObject({ code: 'LOCK_HELD', message: expect.stringMatching(/^lock lost: .*was taken over by host "elsewhere"/) });
        expect(exitCodeFor(error)).toBe(8);
        // The stopped export cancelled its query.
        expect(slow.requests.some((r) => r.operation === 'CancelQuery')).toBe(true);
      } finally {
        client.destroy();
        await slow.close();
      }
    });

    it('library lock lease below 3 s is a TypeError naming lockLeaseMs', async () => {
      const { out, state } = fresh();
      await expect(
        exportWindows({ sqlTemplate: "SELECT 1 WHERE t >= '{{start}}' AND t < '{{end}}'", out, state, windowMs: 3_600_000, since: 0, lockLeaseMs: 100 }),
      ).rejects.toThrow(/Invalid option lockLeaseMs: 100; expected a whole number of milliseconds from 3000/);
    });
  });
});
