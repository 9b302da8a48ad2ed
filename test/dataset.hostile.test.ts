import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { localStore } from '../src/destinations/store.js';
import { BIN, runCli } from './support/cli-process.js';
import { captureIO, emulatorEnv, withEmulator } from './support/lake.js';
import { lakeRows } from './support/lake-rows.js';

/** The real ctlake process, with its stderr collected. */
function spawnCtlake(args: string[], env: Record<string, string>): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout!.resume();
  return { child, stderr: () => stderr };
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
}

/** Every entry below `dir` (links not followed), with a file's SHA-256 or a link's target. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir, { recursive: true }).catch(() => [] as string[])).sort()) {
    const full = path.join(dir, name);
    const info = await lstat(full);
    if (info.isSymbolicLink()) out[name] = `link -> ${await readlink(full)}`;
    else if (info.isFile()) out[name] = createHash('sha256').update(await readFile(full)).digest('hex');
  }
  return out;
}

const tempFiles = async (dir: string) => (await readdir(dir, { recursive: true }).catch(() => [] as string[])).filter((n) => n.endsWith('.tmp'));
/** The temporary files of data files being written (not of a lock being taken). */
const dataTempFiles = async (dir: string) => (await tempFiles(dir)).filter((n) => /(^|\/)\.part-/.test(n));

describe('hostile datasets', () => {
  let emulator: Emulator;
  let dir: string;
  let env: Record<string, string>;
  let small: string;
  let other: string;
  let big: string;
  beforeAll(async () => {
    emulator = await withEmulator();
    small = emulator.addQuery({ rows: lakeRows(300), sql: 'SELECT * FROM lake' });
    other = emulator.addQuery({ rows: lakeRows(200), sql: 'SELECT * FROM lake LIMIT 200' });
    big = emulator.addQuery({ rows: lakeRows(3000), sql: 'SELECT * FROM lake' });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  const exportTo = async (out: string, queryId: string, extra: string[] = []) => {
    const run = captureIO(env);
    const code = await main(['export', '--query-id', queryId, '--out', out, '--partition-by', 'eventTime:day', ...extra], run.io);
    return { code, stderr: run.stderr() };
  };
  const verify = async (out: string, extra: string[] = []) => {
    const run = captureIO(env);
    const code = await main(['verify', out, ...extra], run.io);
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  };
  const manifestOf = async (out: string) => JSON.parse(await readFile(path.join(out, '_manifest.json'), 'utf8')) as { exports: Array<{ key: string; rows: number; files: Array<Record<string, unknown>> }> };
  const fresh = async (name: string) => {
    const out = path.join(dir, name) + '/';
    expect(await exportTo(out, small)).toMatchObject({ code: 0 });
    return out;
  };

  describe('paths outside the root (store and manifest)', () => {
    it('localStore refuses a name with "..", an absolute path, a backslash or a NUL for every operation', async () => {
      const root = path.join(dir, 'store-root');
      const outside = path.join(dir, 'store-outside.txt');
      await writeFile(outside, 'keep me');
      const store = localStore(root);
      await store.check();
      for (const name of ['../store-outside.txt', outside, 'a\\..\\..\\x', 'a\u0000b', 'a//b', './x', '']) {
        await expect(store.remove(name)).rejects.toMatchObject({ code: 'DESTINATION_FAILED', message: expect.stringMatching(/^refused the path .* ctlake reads, writes and removes only below the dataset's root$/) });
        await expect(store.put(name, Buffer.from('x'))).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
        await expect(store.get(name)).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
        await expect(store.create(name)).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
        await expect(store.read(name)).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
        await expect(store.putIf(name, Buffer.from('x'), { ifAbsent: true })).rejects.toMatchObject({ code: 'DESTINATION_FAILED' });
      }
      expect(await readFile(outside, 'utf8')).toBe('keep me');
    });

    it('a rerun into a dataset whose manifest names a file outside it deletes nothing there, exits 5 before any query call, and says how to repair', async () => {
      const out = await fresh('edited-manifest');
      const victim = path.join(dir, 'victim.txt');
      await writeFile(victim, 'not yours');
      const manifest = await manifestOf(out);
      manifest.exports[0]!.files.push({ ...manifest.exports[0]!.files[0]!, path: '../victim.txt' });
      await writeFile(path.join(out, '_manifest.json'), JSON.stringify(manifest));
      const before = await snapshot(out);
      const calls = emulator.requests.length;
      const rerun = await exportTo(out, small);
      expect(rerun.code).toBe(5);
      expect(rerun.stderr).toMatch(/files\[\d+\] \(export ".*"\)\.path "\.\.\/victim\.txt" is outside the dataset/);
      expect(rerun.stderr).toMatch(/nothing was written; restore _manifest\.json from a backup, or move it out of the dataset and rerun/);
      expect(rerun.stderr.trim().split('\n').filter((l) => l.startsWith('ctlake: error:'))).toHaveLength(1);
      expect(emulator.requests.slice(calls)).toEqual([]);
      expect(await readFile(victim, 'utf8')).toBe('not yours');
      expect(await snapshot(out)).toEqual(before);
    });
  });

  describe('symbolic links inside a dataset', () => {
    it('a planted partition-folder link is never written through: the export fails, nothing lands outside, and verify reports the link', async () => {
      const out = path.join(dir, 'planted-folder') + '/';
      const elsewhere = path.join(dir, 'elsewhere-folder');
      await mkdir(elsewhere);
      await mkdir(out);
      await symlink(elsewhere, path.join(out, 'eventdate=2024-05-01'));
      const run = await exportTo(out, small);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/"eventdate=2024-05-01" is a symbolic link, and ctlake never reads or writes through one inside a dataset; remove the link/);
      expect(await readdir(elsewhere)).toEqual([]);
      const report = await verify(out);
      expect(report.code).toBe(5);
      expect(report.stdout).toMatch(/^"eventdate=2024-05-01": a symbolic link, which ctlake never follows inside a dataset; remove it$/m);
    });

    it('verify reports a listed data file replaced by a link to a good copy outside, instead of saying OK', async () => {
      const out = await fresh('linked-file');
      const name = (await manifestOf(out)).exports[0]!.files[0]!.path as string;
      const copy = path.join(dir, 'linked-file-copy.parquet');
      await rename(path.join(out, name), copy);
      await symlink(copy, path.join(out, name));
      const report = await verify(out);
      expect(report.code).toBe(5);
      expect(report.stdout).toContain(`${JSON.stringify(name)}: a symbolic link, which ctlake never follows inside a dataset; remove it`);
      // A rerun refuses to write through the link, and the copy outside is untouched.
      const sha = createHash('sha256').update(await readFile(copy)).digest('hex');
      expect((await exportTo(out, small)).code).toBe(1);
      expect(createHash('sha256').update(await readFile(copy)).digest('hex')).toBe(sha);
    });
  });

  describe('special files inside a dataset', () => {
    it('verify reports a FIFO as not a regular file, and never opens it (which would hang)', async () => {
      const out = await fresh('fifo');
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkfifo', [path.join(out, 'eventdate=2024-05-01', 'part-99999-x.parquet')]);
      const report = await verify(out);
      expect(report.code).toBe(5);
      expect(report.stdout).toContain('"eventdate=2024-05-01/part-99999-x.parquet": not a regular file (a FIFO, socket or device); remove it');
    });
  });

  describe('a corrupt or unreadable manifest', () => {
    it('an export into a dataset whose manifest is not JSON refuses before StartQuery with exit 5, deletes nothing, and its advice (move it out of the dataset) then works', async () => {
      const out = await fresh('corrupt-manifest');
      await writeFile(path.join(out, '_manifest.json'), '{"manifestVersion": 1, "exports": [');
      const before = await snapshot(out);
      const calls = emulator.requests.length;
      // A query-id export and an SQL export: neither reads a page nor starts a query.
      const first = await exportTo(out, small);
      const run = captureIO(env);
      const second = await main(['export', '--sql', 'SELECT eventID FROM lake', '--out', out, '--partition-by', 'eventTime:day'], run.io);
      expect([first.code, second]).toEqual([5, 5]);
      expect(first.stderr).toMatch(/^ctlake: error: .*_manifest\.json is not JSON \(.*\); nothing was written; restore _manifest\.json from a backup, or move it out of the dataset and rerun: ctlake then writes a new manifest listing that export, and leaves the files of every other export where they are \(verify lists them as not in the manifest\)$/m);
      expect(emulator.requests.slice(calls)).toEqual([]);
      expect(await snapshot(out)).toEqual(before);

      // The advice: move it out and rerun, here with another query.
      await rename(path.join(out, '_manifest.json'), path.join(dir, 'corrupt-manifest.json.bad'));
      expect((await exportTo(out, other)).code).toBe(0);
      const after = await snapshot(out);
      for (const [name, sha] of Object.entries(before)) if (name.startsWith('eventdate=')) expect(after[name]).toBe(sha);
      expect((await manifestOf(out)).exports.map((e) => e.key)).toEqual([other]);
      // verify names the earlier files as not in the new manifest, and nothing else.
      const report = await verify(out);
      expect(report.code).toBe(5);
      const lines = report.stdout.trim().split('\n');
      expect(lines.every((l) => l.endsWith('not in the manifest (an extra or leftover file)'))).toBe(true);
      expect(lines.every((l) => l.includes(small))).toBe(true);
    });
  });

  describe('verify on a malformed manifest', () => {
    it('exits 5 with one problem line per fault, never exit 1 with an internal message', async () => {
      const out = await fresh('malformed');
      const good = await manifestOf(out);
      const entry = good.exports[0]!;
      const file = entry.files[0]!;
      const cases: Array<[string, unknown, RegExp]> = [
        ['not JSON', 'nope{', /^_manifest\.json is not JSON \(/],
        ['an array', '[]', /^_manifest\.json is not a ctlake manifest .*found a JSON array\)$/],
        ['another version', { manifestVersion: 2, exports: [] }, /found manifestVersion 2\)$/],
        ['an export that is not an object', { ...good, exports: [7] }, /^_manifest\.json: exports\[0\] is not an object$/],
        ['files not a list', { ...good, exports: [{ ...entry, files: 'x' }] }, /exports\[0\] \(export ".*"\): files is not a list$/],
        ['a ".." path', { ...good, exports: [{ ...entry, files: [{ ...file, path: '../../etc/passwd' }] }] }, /\.path "\.\.\/\.\.\/etc\/passwd" is outside the dataset \(it has a "\.\." segment\)/],
        ['an absolute path', { ...good, exports: [{ ...entry, files: [{ ...file, path: '/etc/passwd' }] }] }, /\.path "\/etc\/passwd" is outside the dataset \(it is an absolute path\)/],
        ['a backslash', { ...good, exports: [{ ...entry, files: [{ ...file, path: '..\\x' }] }] }, /\.path "\.\.\\\\x" is outside the dataset \(it has a backslash\)/],
        ['a NUL', { ...good, exports: [{ ...entry, files: [{ ...file, path: 'a\u0000b' }] }] }, /\.path "a\\u0000b" is outside the dataset \(it has a NUL or control character\)/],
        ['negative rows', { ...good, exports: [{ ...entry, files: [{ ...file, rows: -1 }] }] }, /\.rows -1 is not a count/],
        ['a bad SHA-256', { ...good, exports: [{ ...entry, files: [{ ...file, sha256: 'zz' }] }] }, /\.sha256 "zz" is not 64 hex digits/],
        ['a missing file', { ...good, exports: [{ ...entry, files: [...entry.files, { ...file, path: 'eventdate=2099-01-01/part-00000-x.parquet' }] }] }, /^eventdate=2099-01-01\/part-00000-x\.parquet: missing/],
      ];
      const name = path.join(out, '_manifest.json');
      for (const [what, content, line] of cases) {
        await writeFile(name, typeof content === 'string' ? content : JSON.stringify(content));
        const report = await verify(out);
        expect({ what, code: report.code, stderr: report.stderr }).toMatchObject({ what, code: 5, stderr: expect.stringMatching(/does not match its manifest/) });
        expect(report.stdout.split('\n').some((l) => line.test(l)), `${what}: ${report.stdout}`).toBe(true);
      }
      // The verdict's advice is the manifest's repair, not "rerun" (a rerun refuses it too).
      await writeFile(name, 'nope{');
      expect((await verify(out)).stderr).toMatch(/^ctlake: error: .* does not match its manifest: 1 problem \(listed on stdout\); restore _manifest\.json from a backup, or move it out of the dataset and rerun/m);
      // Several faults: a line for each.
      await writeFile(name, JSON.stringify({ ...good, exports: [{ ...entry, rows: -5, files: [{ ...file, path: '/abs' }, { ...file, rows: 1.5 }] }] }));
      const report = await verify(out);
      expect(report.code).toBe(5);
      expect(report.stdout.split('\n').filter((l) => l.startsWith('_manifest.json: '))).toHaveLength(3);
    });

    it('words a manifest that cannot be read as a read, exit 5', async () => {
      const out = await fresh('unreadable');
      await unlink(path.join(out, '_manifest.json'));
      await mkdir(path.join(out, '_manifest.json'));
      await writeFile(path.join(out, '_manifest.json', 'x'), '');
      const report = await verify(out);
      expect(report.code).toBe(5);
      expect(report.stdout).toMatch(/^cannot read .*_manifest\.json: EISDIR; check the path$/m);
      // And an export into it refuses with the same words (exit 1: a failure, not a verdict).
      const run = await exportTo(out, small);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^ctlake: error: cannot read .*_manifest\.json: EISDIR; check the path$/m);
    });
  });

  describe('two runs writing the same export key', () => {
    it('a second process exporting a key while the first holds it exits 8 naming the key and the holder; the first commits and verify passes', async () => {
      const out = path.join(dir, 'concurrent') + '/';
      const args = ['export', '--query-id', big, '--out', out, '--partition-by', 'eventTime:day', '--page-size', '100', '--max-rows-per-file', '200'];
      // Slow pages keep the first exporting while the second starts and is refused; fast again after.
      emulator.setFaults({ latencyMs: 200, operations: ['GetQueryResults'] });
      try {
        const first = spawnCtlake(args, env);
        // The first is writing its data files.
        await until(async () => (await dataTempFiles(out)).length > 0);
        const second = await runCli(args, env);
        emulator.setFaults({});
        expect(second.status, second.stderr).toBe(8);
        expect(second.stderr).toContain(`ctlake: error: export ${JSON.stringify(big)} is already being written: another run holds the lock ${out}_locks/${big}.lock (host `);
        expect(second.stderr).toContain(`pid ${first.child.pid},`);
        const [code] = await once(first.child, 'exit');
        expect(code).toBe(0);
      } finally {
        emulator.setFaults({});
      }
      expect(await verify(out)).toMatchObject({ code: 0 });
      expect(await readdir(out)).not.toContain('_locks');
    });

    it('of two processes started together on one key, exactly one exports (exit 0) and the other exits 8', async () => {
      const out = path.join(dir, 'together') + '/';
      const args = ['export', '--query-id', big, '--out', out, '--partition-by', 'eventTime:day', '--page-size', '100'];
      emulator.setFaults({ latencyMs: 100, operations: ['GetQueryResults'] });
      try {
        const codes = await Promise.all([runCli(args, env), runCli(args, env)]);
        expect(codes.map((c) => c.status).sort()).toEqual([0, 8]);
      } finally {
        emulator.setFaults({});
      }
      expect(await verify(out)).toMatchObject({ code: 0 });
    });
  });

  describe('what a killed run leaves', () => {
    it('after kill -9, verify passes with a warning naming the leftover and its pid, and the next export removes it', async () => {
      const out = await fresh('killed');
      emulator.setFaults({ latencyMs: 50, operations: ['GetQueryResults'] });
      let pid: number | undefined;
      try {
        const { child } = spawnCtlake(['export', '--query-id', big, '--out', out, '--partition-by', 'eventTime:day', '--page-size', '100'], env);
        pid = child.pid;
        await until(async () => (await dataTempFiles(out)).length > 0);
        child.kill('SIGKILL');
        await once(child, 'exit');
      } finally {
        emulator.setFaults({});
      }
      const left = await tempFiles(out);
      expect(left.length).toBeGreaterThan(0);
      expect(left.every((n) => n.includes(`.ctlake-${pid}-`))).toBe(true);
      const report = await verify(out);
      expect(report.code).toBe(0);
      expect(report.stdout).toMatch(/^OK /);
      expect(report.stdout).toContain(`warning: ${left[0]}: leftover of a killed run (pid ${pid}): removed by the next export`);
      expect(report.stdout).toContain(`warning: _locks/${big}.lock: lock of a killed run: taken over by the next export of that key`);

      // The next export of another key removes the leftovers; the killed key's own rerun takes its lock over.
      const next = await exportTo(out, other);
      expect(next.code).toBe(0);
      expect(next.stderr).toMatch(/removed \d+ temporary files? left in .* by killed runs/);
      expect(await tempFiles(out)).toEqual([]);
      const rerun = await exportTo(out, big);
      expect(rerun.code).toBe(0);
      expect(rerun.stderr).toContain(`took over the lock of export ${JSON.stringify(big)} from a run that is gone (host `);
      expect(rerun.stderr).toContain(`pid ${pid},`);
      const clean = await verify(out);
      expect(clean.code).toBe(0);
      expect(clean.stdout).not.toContain('warning');
      await expect(stat(path.join(out, '_locks'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});
