import { execFile } from 'node:child_process';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A small tmpfs mounted for a test: a real file system that runs out of space (ENOSPC). */
export interface Tmpfs {
  dir: string;
  /** Gives the file system another size, e.g. to rerun an export once there is room. */
  resize(size: string): Promise<void>;
  unmount(): Promise<void>;
}

/**
 * Mounts a tmpfs of `size` (`mount -t tmpfs -o size=...`) on a new directory.
 * Only root (CAP_SYS_ADMIN) may mount; elsewhere, or where the container forbids
 * it, this resolves with the reason instead, for the test to skip with.
 */
export async function mountTmpfs(size: string): Promise<Tmpfs | string> {
  if (process.platform !== 'linux') return `tmpfs needs Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  } catch (error) {
    await rmdir(dir).catch(() => undefined);
    return `mount -t tmpfs failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
  }
  return {
    dir,
    resize: async (next) => {
      await run('mount', ['-o', `remount,size=${next}`, dir]);
    },
    unmount: async () => {
      await run('umount', [dir]);
      await rmdir(dir);
    },
  };
}
