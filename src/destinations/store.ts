import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Destination } from './destination.js';
import type { CtlakeError } from '../errors.js';
import { destinationError, fileDestination, makeDirs } from './file.js';

export interface StoredObject {
  /** Relative to the store's root, with `/` separators. */
  name: string;
  size: number;
}

/**
 * A folder of objects, local or on S3: what a dataset is written to and
 * verified from. Names are relative to `root` and use `/`. Each object
 * appears whole or not at all: `create` streams through a Destination
 * (temporary file and rename, or a multipart upload), `put` writes a small
 * object in one step.
 */
export interface ObjectStore {
  /** `/abs/dir/` or `s3://bucket/prefix/`, for messages. */
  readonly root: string;
  /** Fails early, with the fix, when the store cannot be written at all (no such bucket). */
  check(): Promise<void>;
  create(name: string): Promise<Destination>;
  put(name: string, data: Buffer): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(name: string): Promise<Buffer | undefined>;
  read(name: string): Promise<Readable>;
  /** Every object below the root, temporary files of unfinished writes included. */
  list(): AsyncIterable<StoredObject>;
  /** Removes an object; a missing one is not an error. */
  remove(name: string): Promise<void>;
  /** The object's bytes and a tag that changes whenever the object does (S3: its ETag). */
  getTagged(name: string): Promise<{ data: Buffer; tag: string } | undefined>;
  /**
   * A conditional write: with `ifAbsent`, only when no object has the name;
   * with `ifTag`, only when the object still has that tag. Resolves to the
   * tag of what was written (for the next conditional write), or undefined
   * when the condition does not hold (S3: 412 PreconditionFailed, or 409
   * ConditionalRequestConflict), so that two writers cannot both win.
   */
  putIf(name: string, data: Buffer, condition: { ifAbsent: true } | { ifTag: string }): Promise<string | undefined>;
}

/** A local file's version, for conditional writes: its inode, mtime and size. */
async function fileTag(file: string): Promise<string> {
  const info = await stat(file, { bigint: true });
  return `${info.ino}-${info.mtimeNs}-${info.size}`;
}

/** Writes `data` to a temporary file beside `target`, fsynced, then lets `place` move it there. */
async function writeWhole(target: string, data: Buffer, place: (tmp: string, target: string) => Promise<void>): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.ctlake-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await makeDirs(path.dirname(target));
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await place(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw destinationError(target, error);
  }
}

/**
 * A local folder as an ObjectStore. Data files go through fileDestination
 * (temporary file, fsync, rename); small objects are written the same way.
 * Folders emptied by remove() are removed too, up to the root.
 */
export function localStore(dir: string): ObjectStore {
  const rootDir = path.resolve(dir);
  const full = (name: string) => path.join(rootDir, ...name.split('/'));
  return {
    root: rootDir + path.sep,
    async check() {
      try {
        await makeDirs(rootDir);
      } catch (error) {
        throw destinationError(dir, error);
      }
    },
    create: (name) => fileDestination(full(name)),
    async put(name, data) {
      await writeWhole(full(name), data, (tmp, target) => rename(tmp, target));
    },
    async getTagged(name) {
      try {
        const data = await readFile(full(name));
        return { data, tag: await fileTag(full(name)) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw destinationError(full(name), error);
      }
    },
    async putIf(name, data, condition) {
      const target = full(name);
      if ('ifAbsent' in condition) {
        // link() fails with EEXIST when the name is taken: an atomic create of a complete file.
        try {
          await writeWhole(target, data, (tmp, to) => link(tmp, to).finally(() => unlink(tmp)));
          return await fileTag(target);
        } catch (error) {
          if (((error as CtlakeError).cause as NodeJS.ErrnoException | undefined)?.code === 'EEXIST') return undefined;
          throw error;
        }
      }
      // A local file has no compare-and-swap: the tag is checked just before
      // the rename. Lock holders re-read what they wrote (src/jobs/lock.ts).
      const current = await this.getTagged(name);
      if (current?.tag !== condition.ifTag) return undefined;
      await writeWhole(target, data, (tmp, to) => rename(tmp, to));
      return await fileTag(target);
    },
    async get(name) {
      try {
        return await readFile(full(name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw destinationError(full(name), error);
      }
    },
    async read(name) {
      return createReadStream(full(name));
    },
    async *list() {
      // A walk of our own: other exports into the same folder create and
      // rename files meanwhile, and an entry that vanishes between the
      // listing and its stat is simply not there (Node's recursive readdir
      // fails the whole listing instead).
      const walk = async function* (folder: string): AsyncGenerator<StoredObject> {
        let entries;
        try {
          entries = await readdir(folder, { withFileTypes: true });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || (code === 'ENOTDIR' && folder !== rootDir)) return;
          throw destinationError(dir, error);
        }
        for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
          const full = path.join(folder, entry.name);
          if (entry.isDirectory()) {
            yield* walk(full);
            continue;
          }
          const info = await stat(full).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return undefined;
            throw destinationError(full, error);
          });
          if (info?.isFile()) yield { name: path.relative(rootDir, full).split(path.sep).join('/'), size: info.size };
          else if (info?.isDirectory()) yield* walk(full);
        }
      };
      yield* walk(rootDir);
    },
    async remove(name) {
      try {
        await rm(full(name), { force: true });
      } catch (error) {
        throw destinationError(full(name), error);
      }
      for (let folder = path.dirname(full(name)); folder.startsWith(rootDir + path.sep); folder = path.dirname(folder)) {
        try {
          await rmdir(folder);
        } catch {
          return;
        }
      }
    },
  };
}
