import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fileDestination } from '../src/destinations/file.js';
import { isCtlakeError } from '../src/errors.js';
import type { Emulator } from '../src/emulator/server.js';
import { runShell } from './support/cli-process.js';
import { expectNdjsonFile, expectNdjsonRows, tempFiles } from './support/complete-output.js';
import { captureIO, emulatorEnv, QUERY_ID, sampleRows, withEmulator } from './support/lake.js';
import { mountTmpfs } from './support/tmpfs.js';

/**
 * Hostile `--out` values on a real file system: FIFOs, devices, descriptor
 * paths, directories, sockets, symbolic links, modes and umasks, names too
 * long, a read-only file system, and leftovers of a run killed with kill -9.
 * Each either completes (every row, in order) or ends with one error line and
 * the documented exit code, before any request when the target is refused.
 */

const run = promisify(execFile);
const ROWS = sampleRows(2000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function inProcess(argv: string[], env: Record<string, string>): Promise<Run> {
  const { io, stdout, stderr } = captureIO(env);
  const code = await main(argv, io);
  return { code, stdout: stdout(), stderr: stderr() };
}

/** The built `ctlake` as a process, after `before` (e.g. `umask 077`) and with `after` (redirections). */
function asProcess(args: string[], env: Record<string, string>, { before = '', after = '' } = {}): Promise<Run> {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const line = `${before ? `${before}; ` : ''}eval "$CTLAKE" ${args.map((a) => quote(quote(a))).join(' ')} ${after}`;
  return runShell(line, env).then(({ status, stdout, stderr }) => ({ code: status, stdout, stderr }));
}

/** Exit 0 with the summary line at most: no error, no warning. */
function expectSuccess(result: Run): void {
  expect(result.stderr.split('\n').filter((l) => l !== '' && !/^ctlake: \d+ rows, /.test(l))).toEqual([]);
  expect(result.code).toBe(0);
}

function expectOneLineError(result: Run, exitCode: number, line: string | RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  const lines = result.stderr.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines).toHaveLength(1);
  if (typeof line === 'string') expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
  expect(result.code).toBe(exitCode);
}

/** `mknod`, for a real device node of our own (never /dev's own, which an old build would replace); the reason when it cannot. */
async function mknod(file: string, type: 'c' | 'b', major: number, minor: number): Promise<string | undefined> {
  try {
    await run('mknod', [file, type, String(major), String(minor)]);
    return undefined;
  } catch (error) {
    return `mknod failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
  }
}

describe('--out that is not a regular file', () => {
  let emulator: Emulator;
  let env: Record<string, string>;
  let dir: string;
  const args = (out: string) => ['export', '--query-id', QUERY_ID, '--out', out];

  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: ROWS }] });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hostile-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a FIFO is written straight into, its reader gets every row, and it stays a FIFO', async () => {
    const fifo = path.join(dir, 'rows.fifo');
    await run('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    const read: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => read.push(c));
    const ended = once(reader, 'close');
    try {
      const result = await inProcess(args(fifo), env);
      expectSuccess(result);
      expect((await lstat(fifo)).isFIFO()).toBe(true);
      await ended;
      expectNdjsonRows(Buffer.concat(read).toString('utf8'), ROWS);
      expect(await tempFiles(dir, 'rows.fifo')).toEqual([]);
    } finally {
      reader.kill();
    }
  });

  it('a FIFO whose reader leaves early: one line naming EPIPE, exit 1', async () => {
    const fifo = path.join(dir, 'early.fifo');
    await run('mkfifo', [fifo]);
    const reader = spawn('head', ['-c', '100', fifo]);
    reader.stdout.resume();
    try {
      const result = await inProcess(args(fifo), env);
      expectOneLineError(result, 1, `ctlake: error: cannot write ${fifo}: EPIPE; its reader closed it before the export ended`);
      expect((await lstat(fifo)).isFIFO()).toBe(true);
    } finally {
      reader.kill();
    }
  });

  it('a character device (a node of /dev/null\'s own device) is written into and stays a device', async (context) => {
    const device = path.join(dir, 'null');
    const reason = await mknod(device, 'c', 1, 3);
    if (reason) return context.skip(reason);
    const result = await inProcess(args(device), env);
    expectSuccess(result);
    expect((await lstat(device)).isCharacterDevice()).toBe(true);
    expect(await tempFiles(dir, 'null')).toEqual([]);
  });

  it('/dev/stdout of a process is its standard output, and is not replaced', async () => {
    const result = await asProcess(args('/dev/stdout'), env);
    expectSuccess(result);
    expectNdjsonRows(result.stdout, ROWS);
    expect(await readlink('/dev/stdout')).toBe('/proc/self/fd/1');
  });

  it('/proc/self/fd/1 of a process is its standard output', async () => {
    const result = await asProcess(args('/proc/self/fd/1'), env);
    expectSuccess(result);
    expectNdjsonRows(result.stdout, ROWS);
  });

  it('/dev/fd/3 open for appending (3>>file) keeps what the file held and appends every row', async () => {
    const file = path.join(dir, 'appended.ndjson');
    await writeFile(file, '{"seq":"earlier"}\n');
    const result = await asProcess(args('/dev/fd/3'), env, { after: `3>>'${file}'` });
    expectSuccess(result);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('{"seq":"earlier"}\n')).toBe(true);
    expectNdjsonRows(text.slice('{"seq":"earlier"}\n'.length), ROWS);
  });

  it('a directory without a trailing / is refused before any request: exit 2, the fix named, the directory untouched', async () => {
    const folder = path.join(dir, 'lake');
    await mkdir(folder);
    await writeFile(path.join(folder, 'kept.txt'), 'kept');
    const before = emulator.requests.length;
    const result = await inProcess(args(folder), env);
    expectOneLineError(result, 2, `ctlake: error: --out ${folder} is a directory; add a trailing / to export a dataset into it, or name a file`);
    expect(emulator.requests.length).toBe(before);
    expect(await readdir(folder)).toEqual(['kept.txt']);
    expect(await tempFiles(dir, 'lake')).toEqual([]);
  });

  it('a directory is refused before StartQuery (--sql): no query started, none billed', async () => {
    const folder = path.join(dir, 'lake-sql');
    await mkdir(folder);
    const before = emulator.requests.length;
    const result = await inProcess(['export', '--sql', `SELECT eventName FROM ${emulator.eventDataStoreId}`, '--out', folder], env);
    expect(result.code).toBe(2);
    expect(emulator.requests.slice(before).map((r) => r.operation)).toEqual([]);
  });

  it('a socket is refused before any request: exit 2, and it stays a socket', async () => {
    const socket = path.join(dir, 'out.sock');
    const server = createServer().listen(socket);
    await once(server, 'listening');
    try {
      const before = emulator.requests.length;
      const result = await inProcess(args(socket), env);
      expectOneLineError(result, 2, `ctlake: error: --out ${socket} is a socket, which cannot be opened as a file; use --out - to write to standard output, or name a file`);
      expect(emulator.requests.length).toBe(before);
      expect((await lstat(socket)).isSocket()).toBe(true);
    } finally {
      server.close();
    }
  });

  it('a block device is refused before any request: exit 2, and it stays a device', async (context) => {
    const device = path.join(dir, 'loop');
    const reason = await mknod(device, 'b', 7, 0);
    if (reason) return context.skip(reason);
    const before = emulator.requests.length;
    const result = await inProcess(args(device), env);
    expectOneLineError(result, 2, `ctlake: error: --out ${device} is a block device; name a file; ctlake does not write to disks`);
    expect(emulator.requests.length).toBe(before);
    expect((await lstat(device)).isBlockDevice()).toBe(true);
  });

  it('a symbolic link to a file: the file it points to is replaced (mode kept), the link stays a link', async () => {
    const elsewhere = path.join(dir, 'elsewhere');
    await mkdir(elsewhere);
    const real = path.join(elsewhere, 'real.ndjson');
    await writeFile(real, 'old\n');
    await chmod(real, 0o640);
    const link = path.join(dir, 'link.ndjson');
    await symlink(real, link);
    const result = await inProcess(args(link), env);
    expectSuccess(result);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(real);
    await expectNdjsonFile(real, ROWS);
    expect((await stat(real)).mode & 0o777).toBe(0o640);
    expect(await tempFiles(dir, 'link.ndjson')).toEqual([]);
    expect(await tempFiles(elsewhere, 'real.ndjson')).toEqual([]);
  });

  it('a symbolic link to nothing is refused before any request: exit 2, nothing created', async () => {
    const link = path.join(dir, 'dangling.ndjson');
    await symlink(path.join(dir, 'missing', 'x.ndjson'), link);
    const before = emulator.requests.length;
    const result = await inProcess(args(link), env);
    expectOneLineError(result, 2, `ctlake: error: --out ${link} is a symbolic link to nothing; name the file itself, or remove the link`);
    expect(emulator.requests.length).toBe(before);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    await expect(lstat(path.join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });
});

describe('a replaced file keeps its mode; a new one gets the umask\'s', () => {
  let emulator: Emulator;
  let env: Record<string, string>;
  let dir: string;
  const args = (out: string) => ['export', '--query-id', QUERY_ID, '--out', out];

  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(50) }] });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-modes-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['an existing 0600 file under umask 022 stays 0600', 0o600, '022', 0o600],
    ['an existing 0664 file under umask 077 stays 0664', 0o664, '077', 0o664],
    ['a new file under umask 077 is 0600', undefined, '077', 0o600],
    ['a new file under umask 022 is 0644', undefined, '022', 0o644],
    ['a new Parquet file under umask 027 is 0640', undefined, '027', 0o640],
  ] as const)('%s', async (_name, existing, umask, expected) => {
    const out = path.join(dir, `${umask}-${existing ?? 'new'}.${umask === '027' ? 'parquet' : 'ndjson'}`);
    if (existing !== undefined) {
      await writeFile(out, 'old\n');
      await chmod(out, existing);
    }
    const result = await asProcess(args(out), env, { before: `umask ${umask}` });
    expectSuccess(result);
    expect((await stat(out)).mode & 0o777).toBe(expected);
  });
});

describe('what a killed run leaves is cleaned by the next run in the same folder', () => {
  let emulator: Emulator;
  let env: Record<string, string>;
  let dir: string;
  const rows = sampleRows(3000);
  const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 4);

  beforeAll(async () => {
    // 60 pages, each answer held back: the run is still writing when it is killed.
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows }], faults: { latencyMs: 100 } });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-killed-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('kill -9 mid-export leaves a private partial temporary file; the rerun removes it and completes, and keeps files of live runs and other hosts', async () => {
    const out = path.join(dir, 'events.ndjson');
    const args = ['export', '--query-id', QUERY_ID, '--page-size', '50', '--out', out];
    const first = asProcess(args, env, { before: 'umask 022' });

    // Wait (by condition, not by time) for the temporary file to hold some rows.
    let temp: string | undefined;
    while (!temp) {
      for (const name of await tempFiles(dir, 'events.ndjson')) {
        if ((await stat(path.join(dir, name)).catch(() => undefined))?.size) temp = name;
      }
      if (!temp) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Private from the start, whatever the umask.
    expect((await stat(path.join(dir, temp))).mode & 0o777).toBe(0o600);
    const pid = Number(/\.ctlake-(\d+)-/.exec(temp)?.[1]);
    process.kill(pid, 'SIGKILL');
    const killed = await first;
    expect([137, null]).toContain(killed.code); // killed by signal 9: the shell's 137, or the signal itself when sh exec'd node
    expect(await tempFiles(dir, 'events.ndjson')).toEqual([temp]);

    // Leftovers that must stay: a live process's (this one's parent), and one made on another host.
    const live = `.events.ndjson.ctlake-${process.ppid}-${tag}00000000.tmp`;
    const otherHost = `.events.ndjson.ctlake-${pid}-${tag === 'ffff' ? '0000' : 'ffff'}00000000.tmp`;
    await writeFile(path.join(dir, live), 'live');
    await writeFile(path.join(dir, otherHost), 'other host');
    // And one that must go: another target's in the same folder, of the same dead process.
    const otherTarget = `.other.ndjson.ctlake-${pid}-${tag}00000000.tmp`;
    await writeFile(path.join(dir, otherTarget), 'dead');

    emulator.setFaults({});
    const second = await asProcess(args, env, { before: 'umask 022' });
    expectSuccess(second);
    await expectNdjsonFile(out, rows);
    expect((await stat(out)).mode & 0o777).toBe(0o644);
    expect((await tempFiles(dir, 'events.ndjson')).sort()).toEqual([live, otherHost].sort());
    expect(await tempFiles(dir, 'other.ndjson')).toEqual([]);
  });
});

describe('errors name the real cause, in one bounded line', () => {
  let emulator: Emulator;
  let env: Record<string, string>;
  let dir: string;
  const args = (out: string) => ['export', '--query-id', QUERY_ID, '--out', out];

  beforeAll(async () => {
    emulator = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(20) }] });
    env = emulatorEnv(emulator);
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-hints-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a file name of 250 bytes is written (the temporary file\'s name is cut to fit)', async () => {
    const name = `${'é'.repeat(120)}${'x'.repeat(3)}.ndjson`;
    expect(Buffer.byteLength(name)).toBe(250);
    const result = await inProcess(args(path.join(dir, name)), env);
    expectSuccess(result);
    await expectNdjsonFile(path.join(dir, name), sampleRows(20));
    expect(await readdir(dir)).toEqual([name]);
    await rm(path.join(dir, name));
  });

  it('ENAMETOOLONG: a file name over 255 bytes says so, with the path cut, exit 1', async () => {
    const out = path.join(dir, `${'n'.repeat(300)}.ndjson`);
    const result = await inProcess(args(out), env);
    expectOneLineError(result, 1, /^ctlake: error: cannot write ".*"\.\.\. \(\d+ characters\): ENAMETOOLONG; a name in --out is longer than the file system allows \(255 bytes\): shorten it$/);
    expect(result.stderr.length).toBeLessThan(400);
  });

  it('ENAMETOOLONG in a dataset folder: a partition value too long, use another --partition-by', async () => {
    const file = path.join(dir, 'lake', `eventname=${'v'.repeat(300)}`, 'part-00000.ndjson');
    const error = await fileDestination(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCtlakeError(error, 'DESTINATION_FAILED')).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/: ENAMETOOLONG; a partition value makes a folder name longer than the file system allows \(255 bytes\): use another partitionBy$/);
    expect(message.length).toBeLessThan(400);
    expect(await readdir(dir)).toEqual([]);
  });

  it('EROFS: a read-only file system says it is read-only, exit 1', async (context) => {
    const tmpfs = await mountTmpfs('1m');
    if (typeof tmpfs === 'string') return context.skip(tmpfs);
    try {
      await run('mount', ['-o', 'remount,ro', tmpfs.dir]);
      const out = path.join(tmpfs.dir, 'x.ndjson');
      const before = emulator.requests.length;
      const result = await inProcess(args(out), env);
      expectOneLineError(result, 1, `ctlake: error: cannot write ${out}: EROFS; the file system is read-only: choose a --out on a writable one`);
      expect(emulator.requests.length).toBe(before);
    } finally {
      await tmpfs.unmount();
    }
  });

});
