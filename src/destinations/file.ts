import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { CtlakeError } from '../errors.js';
import type { Destination } from './destination.js';

/**
 * A local file, written atomically. Bytes go to a temporary file beside the
 * target (`.NAME.ctlake-PID-RANDOM.tmp`, same directory so that the rename
 * cannot cross file systems); `commit()` fsyncs it and renames it over the
 * target, `abort()` deletes it. Until commit the target is untouched: a
 * failed or interrupted export leaves nothing new there, and an earlier file
 * of the same name stays as it was. Missing parent directories are created,
 * and removed again by abort() when they are still empty.
 */
export async function fileDestination(target: string): Promise<Destination> {
  const finalPath = path.resolve(target);
  const dir = path.dirname(finalPath);
  const tmpPath = path.join(dir, `.${path.basename(finalPath)}.ctlake-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let createdDir: string | undefined;
  let stream: WriteStream;
  try {
    createdDir = await makeDirs(dir);
    stream = createWriteStream(tmpPath, { flags: 'wx' });
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
        const handle = await open(tmpPath, 'r+');
        try {
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
 * `mkdir -p`, resolving with the first directory it created (undefined when
 * `dir` existed), as `mkdir(dir, { recursive: true })` does. It goes one
 * level at a time because Node's recursive mkdir never settles where a
 * parent exists yet refuses children with ENOENT (procfs:
 * `--out /proc/nope/x`): it takes every ENOENT for a missing parent and
 * tries again, for ever.
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
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
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

export function destinationError(target: string, error: unknown): CtlakeError {
  const code = (error as NodeJS.ErrnoException).code;
  const hint =
    code === 'ENOSPC' ? 'free some space or choose another --out'
    : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'choose a --out you may write to'
    : code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' ? 'check the path in --out'
    : 'check --out';
  const detail = error instanceof Error ? error.message : String(error);
  return new CtlakeError('DESTINATION_FAILED', `cannot write ${target}: ${code ?? detail}; ${hint}`, { cause: error });
}
