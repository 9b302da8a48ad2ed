import { createHash, randomBytes } from 'node:crypto';
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { hostname } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CtlakeError, isCtlakeError, quoted, type ErrorMessage, type OptionNamer } from '../errors.js';
import type { Destination } from './destination.js';

/**
 * A local file. What `target` names decides how it is written, before
 * anything is sent to the service:
 *
 * - A regular file, or nothing yet: atomically. Bytes go to a temporary file
 *   beside the target (`.NAME.ctlake-PID-TAG.tmp`, same directory so that the
 *   rename cannot cross file systems), created private (0600); `commit()`
 *   gives it the mode the target had (for a new file 0666 less the umask),
 *   fsyncs it and renames it over the target, `abort()` deletes it. Until
 *   commit the target is untouched. Missing parent directories are created,
 *   and removed again by abort() when they are still empty. A symbolic link
 *   is followed: the file it points to is replaced, in that file's directory,
 *   and the link stays a link.
 * - A FIFO, a character device (`/dev/null`, a terminal) or a descriptor path
 *   (`/dev/fd/N`, `/proc/PID/fd/N`, whatever it is open on; this process's
 *   own stdout by name is `--out -`, see parseTarget):
 *   straight through, appending; opening a FIFO waits for its reader, as a
 *   shell's `>` does. There is nothing to rename: commit() closes it, and
 *   abort() closes it too, since what a reader already took cannot be undone.
 * - A directory, a socket, a block device or a link to nothing: refused with
 *   INVALID_OPTION, saying what to name instead.
 *
 * Leftovers of earlier runs that were killed (kill -9, the OOM killer, a
 * crash) are removed when a target in the same folder is opened again:
 * temporary files made on this host (TAG starts with a hash of the host
 * name) whose process no longer exists (see removeLeftovers).
 */
export async function fileDestination(target: string): Promise<Destination> {
  let where: Placement;
  try {
    where = await placement(target, path.resolve(target));
  } catch (error) {
    throw isCtlakeError(error) ? error : destinationError(target, error);
  }
  return where.kind === 'stream' ? streamDestination(target, where.path) : replacingDestination(target, where.path);
}

type Placement = { kind: 'replace' | 'stream'; path: string };

/** `/dev/stdout`, `/dev/fd/3`, `/proc/self/fd/1`: a file descriptor's open file, not a name to replace. */
const DESCRIPTOR_PATH = /^\/dev\/(?:std(?:in|out|err)|fd\/\d+)$|^\/proc\/(?:self|thread-self|\d+)\/(?:task\/\d+\/)?fd\/\d+$/;

async function placement(target: string, resolved: string): Promise<Placement> {
  const refuse = (what: string, fix: ErrorMessage) =>
    new CtlakeError('INVALID_OPTION', (n) => `${n('out')} ${shownPath(target)} is ${what}; ${typeof fix === 'string' ? fix : fix(n)}`, { option: 'out' });
  const descriptor = process.platform !== 'win32' && DESCRIPTOR_PATH.test(resolved);
  let info;
  try {
    info = descriptor ? await stat(resolved) : await lstat(resolved);
  } catch (error) {
    // Nothing there yet (or a parent that is not a folder): the temporary file's creation says why.
    if (!descriptor) return { kind: 'replace', path: resolved };
    throw error;
  }
  let real = resolved;
  if (info.isSymbolicLink()) {
    try {
      real = await realpath(resolved);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw refuse('a symbolic link to nothing', 'name the file itself, or remove the link');
      throw error;
    }
    info = await stat(real);
  }
  if (info.isDirectory()) throw refuse('a directory', 'add a trailing / to export a dataset into it, or name a file');
  if (info.isSocket()) throw refuse('a socket, which cannot be opened as a file', (n) => `use ${n('out')} - to write to standard output, or name a file`);
  if (info.isBlockDevice()) throw refuse('a block device', 'name a file; ctlake does not write to disks');
  if (descriptor || info.isFIFO() || info.isCharacterDevice()) return { kind: 'stream', path: resolved };
  return { kind: 'replace', path: real };
}

/** The temporary file, private until commit, renamed over `finalPath` on success. */
async function replacingDestination(target: string, finalPath: string): Promise<Destination> {
  const dir = path.dirname(finalPath);
  const tmpPath = temporaryPath(finalPath);
  let createdDir: string | undefined;
  let stream: WriteStream;
  try {
    createdDir = await makeDirs(dir);
    if (!createdDir) await removeLeftovers(finalPath);
    stream = createWriteStream(tmpPath, { flags: 'wx', mode: 0o600 });
    await once(stream, 'open');
  } catch (error) {
    throw destinationError(target, error);
  }
  let done = false;

  const closed = async () => {
    if (!stream.closed) {
      stream.destroy();
      await once(stream, 'close');
    }
  };
  return {
    location: target,
    writable: stream,
    bytesWritten: () => stream.bytesWritten,
    async commit() {
      try {
        await closed();
        const mode = await modeFor(finalPath);
        const handle = await open(tmpPath, 'r+');
        try {
          await handle.chmod(mode);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmpPath, finalPath);
        done = true;
      } catch (error) {
        throw destinationError(target, error);
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await closed().catch(() => undefined);
      await rm(tmpPath, { force: true }).catch(() => undefined);
      if (createdDir) await removeEmptyDirs(dir, createdDir);
    },
  };
}

/**
 * A FIFO or device, written in place. Write errors become DESTINATION_FAILED
 * naming the target (a FIFO whose reader left gets EPIPE: a failure, exit 1,
 * unlike `--out -`, whose reader is the shell's pipeline).
 */
async function streamDestination(target: string, file: string): Promise<Destination> {
  let handle: FileHandle;
  try {
    // No O_CREAT: if the FIFO or device went away meanwhile, this fails rather than making a regular file.
    handle = await open(file, constants.O_WRONLY | constants.O_APPEND);
  } catch (error) {
    throw destinationError(target, error);
  }
  let bytes = 0;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= handle.close());
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writeAll(handle, chunk).then(
        () => {
          bytes += chunk.length;
          callback();
        },
        (error: unknown) => callback(destinationError(target, error)),
      );
    },
  });
  return {
    location: target,
    writable,
    bytesWritten: () => bytes,
    async commit() {
      try {
        await close();
      } catch (error) {
        throw destinationError(target, error);
      }
    },
    async abort() {
      writable.destroy();
      await close().catch(() => undefined);
    },
  };
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let at = 0; at < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, at, chunk.length - at);
    at += bytesWritten;
  }
}

/** The mode a replaced file ends with: the target's own, or for a new file 0666 less the umask. */
async function modeFor(finalPath: string): Promise<number> {
  try {
    const info = await stat(finalPath);
    if (info.isFile()) return info.mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return 0o666 & ~(await currentUmask());
}

/**
 * The process's umask, read from /proc/self/status on Linux: process.umask()
 * reads it by setting it to 0 and back, and a file created by another thread
 * meanwhile would get mode 0666.
 */
async function currentUmask(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const match = /^Umask:\s*([0-7]+)$/m.exec(status);
  return match ? parseInt(match[1]!, 8) : process.umask();
}

/** Four hex digits of the host name's hash: a leftover is judged only on the host that made it. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 4);

/** How many bytes of the target's name the temporary file's name keeps, so that it stays under NAME_MAX (255). */
const KEPT_NAME_BYTES = 200;

/** `.NAME.ctlake-`, NAME cut to KEPT_NAME_BYTES on a character boundary. */
function temporaryPrefix(finalPath: string): string {
  let name = '';
  let size = 0;
  for (const char of path.basename(finalPath)) {
    size += Buffer.byteLength(char);
    if (size > KEPT_NAME_BYTES) break;
    name += char;
  }
  return path.join(path.dirname(finalPath), `.${name}.ctlake-`);
}

/** A fresh temporary file's name beside `finalPath`: `.NAME.ctlake-PID-TAG.tmp`, TAG the host's four hex digits and eight random ones. */
export function temporaryPath(finalPath: string): string {
  return `${temporaryPrefix(finalPath)}${process.pid}-${HOST_TAG}${randomBytes(4).toString('hex')}.tmp`;
}

/** `.NAME.ctlake-PID-TAG.tmp`; TAG is the host's four hex digits and eight random ones, or (before the host tag) eight random ones. */
const TEMPORARY_NAME = /^\..*\.ctlake-(\d+)-((?:[0-9a-f]{4})?)[0-9a-f]{8}\.tmp$/s;

/**
 * Who wrote a temporary file, from its name: the pid, and whether it was this
 * host (its tag is this host's, or it has none, as names made before the
 * tag have). Undefined for a name that is not one of ctlake's temporary files.
 */
export function temporaryFileOwner(name: string): { pid: number; thisHost: boolean } | undefined {
  const match = TEMPORARY_NAME.exec(name.slice(name.lastIndexOf('/') + 1));
  const pid = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
  return { pid, thisHost: match![2] === '' || match![2] === HOST_TAG };
}

/**
 * Whether a name is a temporary file that a killed run of this host left: a
 * ctlake temporary file whose process is gone (kill(pid, 0) answers ESRCH).
 * A live process (or one of another user: EPERM) keeps its file, so a run
 * still writing is never disturbed; a leftover whose pid has since been
 * reused stays until that process ends, and one made on another host (a
 * shared NFS folder) stays for that host to judge.
 */
export function isLeftover(name: string): boolean {
  const owner = temporaryFileOwner(name);
  return owner !== undefined && owner.thisHost && owner.pid !== process.pid && !alive(owner.pid);
}

/** Folders this process has swept already; cleared when it grows past SWEPT_LIMIT. */
const swept = new Set<string>();
const SWEPT_LIMIT = 4096;

/**
 * Removes, from the folder of `finalPath`, the temporary files that runs on
 * this host left when they were killed (`isLeftover`), of any target in the
 * folder. Each folder is swept once per process, so that a dataset writing
 * thousands of files into one folder lists it once, not once per file. Best
 * effort: what cannot be listed or removed is left.
 */
export async function removeLeftovers(finalPath: string): Promise<void> {
  const dir = path.dirname(finalPath);
  if (swept.has(dir)) return;
  if (swept.size >= SWEPT_LIMIT) swept.clear();
  swept.add(dir);
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const entry of entries) {
    if (isLeftover(entry)) await rm(path.join(dir, entry), { force: true }).catch(() => undefined);
  }
}

/** Whether a process of this host has `pid`: kill(pid, 0) succeeds, or fails for want of permission. */
export function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * `mkdir -p`, resolving with the first directory it created (undefined when
 * `dir` existed), as `mkdir(dir, { recursive: true })` does. It goes one
 * level at a time because Node's recursive mkdir never settles where a
 * parent exists yet refuses children with ENOENT (procfs:
 * `--out /proc/nope/x`): it takes every ENOENT for a missing parent and
 * tries again, for ever. On failure, the directories it made are removed.
 */
export async function makeDirs(dir: string): Promise<string | undefined> {
  try {
    await mkdir(dir);
    return dir;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(dir)).isDirectory()) return undefined;
    if (code !== 'ENOENT' || path.dirname(dir) === dir) throw error;
  }
  const first = await makeDirs(path.dirname(dir));
  try {
    // ENOENT now, with the parent in place, is final.
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      // Leaves nothing behind: the parents made for it go again (ENAMETOOLONG under a new folder).
      if (first) await removeEmptyDirs(path.dirname(dir), first);
      throw error;
    }
    return first;
  }
  return first ?? dir;
}

/** Removes `dir` and its parents up to and including `top`, stopping at the first that is not empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let current = dir; current.startsWith(top); current = path.dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    if (current === top) return;
  }
}

/** How long a path may be in a message before it is quoted and cut. */
const PATH_LIMIT = 160;

/** A path for a message: as is when short and printable, else JSON-quoted and cut (a partition value can make it huge). */
function shownPath(file: string): string {
  // eslint-disable-next-line no-control-regex
  return file.length <= PATH_LIMIT && !/[\u0000-\u001f\u007f-\u009f]/.test(file) ? file : quoted(file, PATH_LIMIT);
}

/** The longest single name in `file`, when it is longer than NAME_MAX (255 bytes). */
function overlongName(file: string): string | undefined {
  return file.split(/[\\/]/).find((part) => Buffer.byteLength(part) > 255);
}

/**
 * What to do about an errno, in a few words, and the option it points at
 * (`out`, named through `n`); the errno itself is said before it.
 */
function hintFor(code: string | undefined, target: string, n: OptionNamer): { hint: string; option?: string } {
  const out = (hint: string) => ({ hint, option: 'out' });
  switch (code) {
    case 'ENOSPC':
      return out(`free some space or choose another ${n('out')}`);
    case 'EDQUOT':
      return out(`the disk quota is used up: free some space or choose another ${n('out')}`);
    case 'EFBIG':
      return out(`the file system refuses a file this large: choose another ${n('out')}`);
    case 'EACCES':
      return out(`choose a ${n('out')} you may write to`);
    case 'EPERM':
      return out(`permission denied: choose a ${n('out')} you may write to`);
    case 'EROFS':
      return out(`the file system is read-only: choose a ${n('out')} on a writable one`);
    case 'ENAMETOOLONG': {
      const name = overlongName(target);
      if (name?.includes('=')) {
        return { hint: `a partition value makes a folder name longer than the file system allows (255 bytes): use another ${n('partitionBy')}`, option: 'partitionBy' };
      }
      if (name) return out(`a name in ${n('out')} is longer than the file system allows (255 bytes): shorten it`);
      return out(`the path is longer than the file system allows: shorten ${n('out')}`);
    }
    case 'EISDIR':
      return { hint: 'it is a directory: name a file, or add a trailing / for a dataset' };
    case 'ENOTDIR':
    case 'EEXIST':
      return out(`check the path in ${n('out')}`);
    case 'ELOOP':
      return out(`too many symbolic links: check the path in ${n('out')}`);
    case 'EMFILE':
    case 'ENFILE':
      return { hint: 'too many open files: raise the limit (ulimit -n) or export less at once' };
    case 'EIO':
      return out(`an I/O error on the device: check the disk, or choose another ${n('out')}`);
    case 'ENXIO':
      return out(`no such device or no reader: check ${n('out')}`);
    case 'EPIPE':
      return { hint: 'its reader closed it before the export ended' };
    case 'EBUSY':
    case 'ETXTBSY':
      return out(`it is busy: choose another ${n('out')}`);
    default:
      return out(`check ${n('out')}`);
  }
}

/** A failure of the local file system as one bounded line: the path, the errno, and what to do. */
export function destinationError(target: string, error: unknown): CtlakeError {
  const code = (error as NodeJS.ErrnoException).code;
  const detail = error instanceof Error ? error.message : String(error);
  const what = code ?? quoted(detail);
  const { option } = hintFor(code, target, (name) => name);
  return new CtlakeError('DESTINATION_FAILED', (n) => `cannot write ${shownPath(target)}: ${what}; ${hintFor(code, target, n).hint}`, { option, cause: error });
}
