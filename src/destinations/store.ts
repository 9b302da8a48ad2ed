import { constants, createReadStream } from 'node:fs';
import { link, lstat, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Destination } from './destination.js';
import { CtlakeError, quoted } from '../errors.js';
import { destinationError, fileDestination, makeDirs, temporaryPath } from './file.js';

export interface StoredObject {
  /** Relative to the store's root, with `/` separators. */
  name: string;
  size: number;
  /**
   * A local store lists what is not a regular file, without following it:
   * a symbolic link, or a FIFO, socket or device. Such an entry is never
   * read or written through; `verify` reports it. Absent for a file.
   */
  kind?: 'symlink' | 'other' | undefined;
}

/**
 * Why `name` cannot name an object below a store's root, or undefined when
 * it can. A name is `/`-separated and relative: no empty, `.` or `..`
 * segment, no leading `/`, no backslash (a separator on Windows and to some
 * S3 tools), no NUL or other control character. Names come from outside
 * (a manifest, a partition value, a query id), so every store operation
 * checks them here, in one place.
 */
export function badObjectName(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'it is not a string';
  if (name === '') return 'it is empty';
  if (name.length > 1024) return 'it is longer than 1024 characters';
  if (name.startsWith('/')) return 'it is an absolute path';
  if (name.includes('\\')) return 'it has a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it has a NUL or control character';
  for (const segment of name.split('/')) {
    if (segment === '..') return 'it has a ".." segment';
    if (segment === '.' || segment === '') return 'it has an empty or "." segment';
  }
  return undefined;
}

/** The error for a name that badObjectName refuses: nothing is read, written or removed. */
export function refusedName(root: string, name: unknown, reason: string): CtlakeError {
  return new CtlakeError('DESTINATION_FAILED', `refused the path ${quoted(name)} in ${root}: ${reason}; ctlake reads, writes and removes only below the dataset's root`);
}

/** A read that failed, worded as a read. */
export function readError(target: string, error: unknown): CtlakeError {
  if (error instanceof CtlakeError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const hint = code === 'EACCES' || code === 'EPERM' ? 'check its permissions' : code === 'EISDIR' || code === 'ENOTDIR' ? 'check the path' : 'check that it can be read';
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new CtlakeError('DESTINATION_FAILED', `cannot read ${target}: ${code ?? detail}; ${hint}`, { cause: error });
}

/**
 * Each existing component of `segments` below `rootDir`, lstat'ed in turn:
 * refuses the first that is a symbolic link, so that nothing is read,
 * written or removed through a link planted inside the dataset (a folder
 * `eventdate=2024-05-01 -> /elsewhere`, or a link at a file's name). With
 * `lastMayBeLink`, the final component may be a link (removing a link
 * unlinks the link itself, never what it points to). Stops at the first
 * component that does not exist: the folders below it are created as real
 * folders. The root itself may be a link: the user named it.
 */
async function refuseLinks(rootDir: string, name: string, segments: readonly string[], lastMayBeLink = false): Promise<void> {
  let at = rootDir;
  for (let i = 0; i < segments.length; i++) {
    at = path.join(at, segments[i]!);
    let info;
    try {
      info = await lstat(at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw readError(at, error);
    }
    if (info.isSymbolicLink() && !(lastMayBeLink && i === segments.length - 1)) {
      const what = segments.slice(0, i + 1).join('/');
      throw new CtlakeError('DESTINATION_FAILED', `refused ${quoted(name)} in ${rootDir}${path.sep}: ${quoted(what)} is a symbolic link, and ctlake never reads or writes through one inside a dataset; remove the link`);
    }
    if (!info.isDirectory()) return;
  }
}

/**
 * A folder of objects: where a dataset is written, locked and verified
 * from. ctlake's local folder and S3 prefix implement it, and so may a
 * library user's (GCS, Azure Blob, memory): `exportQuery({ store })`, the
 * jobs' `store`, `verifyDataset(store)`. Names are relative to `root`, use
 * `/`, and pass badObjectName (ctlake checks every name it passes; a store
 * that maps names to paths should check again).
 *
 * The contract, as the dataset code (src/dataset/) and the locks
 * (store-lock.ts) rely on it:
 * - `check()` is called once per export, before the query is started.
 * - Every object appears whole or not at all. `create(name)` streams one
 *   data file through a Destination (its contract above): its commit()
 *   makes the object visible under `name`, replacing one of that name, and
 *   its abort() leaves none. `put` writes a small object (the manifest,
 *   `_SUCCESS`) in one step, replacing one of that name.
 * - Reads see every write that resolved (read-after-write): `get`,
 *   `getTagged` and `list` are how the commit, the locks and `verify` find
 *   what was just written. A missing object is `undefined` from `get` and
 *   `getTagged`, and no error for `remove`.
 * - `putIf` is atomic: of writers racing on one name, at most one wins. The
 *   export and manifest locks are built on it alone, so two runs (or
 *   hosts) sharing the store never interleave an export or the manifest.
 * - Failures reject, preferably with a CtlakeError (DESTINATION_FAILED)
 *   whose message names the object and the fix; any other error is
 *   reported as the export's DESTINATION_FAILED.
 * One export calls a store for one thing at a time, except that data files
 * of different partitions are written concurrently (up to maxOpenFiles
 * Destinations open at once), and a lock renewal may come at any moment.
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
  const tmp = temporaryPath(target);
  try {
    let handle;
    // Another write's remove() may take an emptied folder away between our
    // mkdir and open (two exports releasing and taking `_locks/*.lock`):
    // the folder is made again, a bounded number of times.
    for (let attempt = 1; ; attempt++) {
      await makeDirs(path.dirname(target));
      try {
        handle = await open(tmp, 'wx');
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw error;
      }
    }
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

/** A file's bytes, refusing a symbolic link at its name (O_NOFOLLOW: ELOOP). */
async function readNoFollow(file: string): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await handle.stat();
    if (size > WHOLE_OBJECT_LIMIT) throw tooLarge(file, size);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * The most ctlake reads of an object whole (`get`, `getTagged`: manifests,
 * job states, locks): 256 MiB, some 100 times the manifest of a dataset
 * with a million files. A larger object is not one ctlake wrote, and
 * reading it would only exhaust memory.
 */
export const WHOLE_OBJECT_LIMIT = 256 * 1024 * 1024;

export function tooLarge(location: string, size: number): CtlakeError {
  return new CtlakeError('DESTINATION_FAILED', `cannot read ${quoted(location, 160)}: it is ${size} bytes, more than ctlake reads whole (${WHOLE_OBJECT_LIMIT} bytes); it is not a manifest, state or lock that ctlake wrote: move it aside`);
}

/**
 * A local folder as an ObjectStore. Data files go through fileDestination
 * (temporary file, fsync, rename); small objects are written the same way.
 * Folders emptied by remove() are removed too, up to the root.
 */
export function localStore(dir: string): ObjectStore {
  const rootDir = path.resolve(dir);
  const root = rootDir + path.sep;
  /** The checked absolute path of `name`: below the root, and through no symbolic link. */
  const full = async (name: string, lastMayBeLink = false) => {
    const reason = badObjectName(name);
    if (reason) throw refusedName(root, name, reason);
    const segments = name.split('/');
    await refuseLinks(rootDir, name, segments, lastMayBeLink);
    const resolved = path.join(rootDir, ...segments);
    if (!resolved.startsWith(root)) throw refusedName(root, name, 'it resolves outside the root');
    return resolved;
  };
  return {
    root,
    async check() {
      try {
        await makeDirs(rootDir);
      } catch (error) {
        throw destinationError(dir, error);
      }
    },
    create: async (name) => fileDestination(await full(name)),
    async put(name, data) {
      await writeWhole(await full(name), data, (tmp, target) => rename(tmp, target));
    },
    async getTagged(name) {
      const file = await full(name);
      try {
        const data = await readNoFollow(file);
        return { data, tag: await fileTag(file) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw readError(file, error);
      }
    },
    async putIf(name, data, condition) {
      const target = await full(name);
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
      // the rename. Lock holders re-read what they wrote (src/destinations/store-lock.ts).
      const current = await this.getTagged(name);
      if (current?.tag !== condition.ifTag) return undefined;
      await writeWhole(target, data, (tmp, to) => rename(tmp, to));
      return await fileTag(target);
    },
    async get(name) {
      const file = await full(name);
      try {
        return await readNoFollow(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw readError(file, error);
      }
    },
    async read(name) {
      const file = await full(name);
      try {
        const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
        return createReadStream('', { fd: handle, autoClose: true });
      } catch (error) {
        throw readError(file, error);
      }
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
          throw readError(folder === rootDir ? dir : folder, error);
        }
        for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
          const full = path.join(folder, entry.name);
          const name = path.relative(rootDir, full).split(path.sep).join('/');
          if (entry.isDirectory()) {
            yield* walk(full);
            continue;
          }
          // lstat, not stat: a link is listed as a link and never followed
          // (a link to a folder would otherwise be walked, a loop for ever).
          const info = await lstat(full).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return undefined;
            throw readError(full, error);
          });
          if (info?.isFile()) yield { name, size: info.size };
          else if (info?.isDirectory()) yield* walk(full);
          else if (info) yield { name, size: 0, kind: info.isSymbolicLink() ? 'symlink' : 'other' };
        }
      };
      yield* walk(rootDir);
    },
    async remove(name) {
      const file = await full(name, true);
      try {
        await rm(file, { force: true });
      } catch (error) {
        throw destinationError(file, error);
      }
      for (let folder = path.dirname(file); folder.startsWith(root); folder = path.dirname(folder)) {
        try {
          await rmdir(folder);
        } catch {
          return;
        }
      }
    },
  };
}
