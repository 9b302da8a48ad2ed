import { setTimeout as sleep } from 'node:timers/promises';
import { CtlakeError, isCtlakeError } from '../errors.js';
import { acquireLock, type LockHandle } from '../destinations/store-lock.js';
import type { ObjectStore } from '../destinations/store.js';
import type { ColumnSchema } from '../rows/schema.js';
import type { WrittenFile } from './write-dataset.js';

export const MANIFEST = '_manifest.json';
export const SUCCESS = '_SUCCESS';
/** Held while a process updates the manifest; `verify` does not count it as an extra file. */
export const MANIFEST_LOCK = '_manifest.json.lock';

/** One data file, as `_manifest.json` lists it. */
export interface ManifestFile {
  /** Relative to the dataset's root. */
  path: string;
  partition: Record<string, string>;
  rows: number;
  bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** One export into the dataset: its query, its files and their totals. */
export interface ManifestExport {
  /** What the files' names carry (`part-00000-KEY.parquet`): the QueryId, or a window's or slice's name. */
  key: string;
  queryId: string;
  sql: string | undefined;
  /** [start, end) of a windowed or backfill run, ISO-8601. */
  window?: { start: string; end: string } | undefined;
  format: string;
  compression: string;
  rows: number;
  /** GetQueryResults' TotalResultsCount; the files' rows add up to it. */
  totalResultsCount: number | undefined;
  /** DescribeQuery's BytesScanned (the bytes billed) and EventsScanned. */
  bytesScanned: number | undefined;
  eventsScanned: number | undefined;
  /** Parquet: the schema of the files (source column, name, type). */
  schema: ColumnSchema[] | undefined;
  startedAt: string;
  endedAt: string;
  ctlakeVersion: string;
  files: ManifestFile[];
}

/**
 * `_manifest.json`: every export the dataset holds, each with its files,
 * their rows, bytes and SHA-256. `ctlake verify` checks a dataset against
 * it. Exports are kept in key order, so the file is stable across reruns.
 */
export interface Manifest {
  manifestVersion: 1;
  ctlakeVersion: string;
  updatedAt: string;
  exports: ManifestExport[];
}

export async function readManifest(store: ObjectStore): Promise<Manifest | undefined> {
  const bytes = await store.get(MANIFEST);
  if (bytes === undefined) return undefined;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch {
    throw new CtlakeError('VERIFY_FAILED', `${store.root}${MANIFEST} is not JSON; rerun the export to rewrite it`);
  }
  if (manifest?.manifestVersion !== 1 || !Array.isArray(manifest.exports)) {
    throw new CtlakeError('VERIFY_FAILED', `${store.root}${MANIFEST} is not a ctlake manifest (version 1); rerun the export to rewrite it`);
  }
  return manifest;
}

export function manifestFiles(files: readonly WrittenFile[]): ManifestFile[] {
  return files.map(({ path, partition, rows, bytes, sha256 }) => ({ path, partition, rows, bytes, sha256 })).sort((a, b) => a.path.localeCompare(b.path));
}

/** Manifest updates of one process, one store after another: read-modify-write must not interleave. */
const queues = new Map<string, Promise<unknown>>();

/**
 * The commit protocol's last two steps, after every data file is in:
 * `_manifest.json` gains (or replaces) this export's entry, then `_SUCCESS`
 * is written. Files of an earlier export with the same key that this one
 * did not rewrite (it had more parts) are removed first, so a rerun never
 * leaves duplicates. Updates within one process are serialized per store;
 * across processes (two jobs writing one dataset) by `_manifest.json.lock`,
 * taken by conditional write and waited for up to two minutes.
 */
export async function commitDataset(store: ObjectStore, entry: ManifestExport, now: () => Date = () => new Date()): Promise<Manifest> {
  const previous = queues.get(store.root) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const lock = await manifestLock(store);
    try {
      return await update();
    } finally {
      await lock.release().catch(() => undefined);
    }
  });
  const update = async () => {
    const manifest = (await readManifest(store)) ?? { manifestVersion: 1 as const, ctlakeVersion: entry.ctlakeVersion, updatedAt: '', exports: [] };
    const kept = new Set(entry.files.map((f) => f.path));
    const old = manifest.exports.find((e) => e.key === entry.key);
    for (const file of old?.files ?? []) if (!kept.has(file.path)) await store.remove(file.path);
    // Files of this key from a run that died before its manifest (no entry lists them).
    for await (const object of store.list()) {
      if (!kept.has(object.name) && isDataFileOf(object.name, entry.key)) await store.remove(object.name);
    }
    manifest.exports = [...manifest.exports.filter((e) => e.key !== entry.key), entry].sort((a, b) => a.key.localeCompare(b.key));
    manifest.ctlakeVersion = entry.ctlakeVersion;
    manifest.updatedAt = now().toISOString();
    await store.put(MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
    await store.put(SUCCESS, Buffer.alloc(0));
    return manifest;
  };
  queues.set(store.root, run);
  try {
    return await run;
  } finally {
    if (queues.get(store.root) === run) queues.delete(store.root);
  }
}

async function manifestLock(store: ObjectStore): Promise<LockHandle> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await acquireLock(store, MANIFEST_LOCK, { leaseMs: 120_000 });
    } catch (error) {
      if (!isCtlakeError(error, 'LOCK_HELD') || attempt >= 600) throw error;
      await sleep(200);
    }
  }
}

/** Whether a path is a data file written under `key` (`.../part-00012-KEY.parquet`). */
export function isDataFileOf(path: string, key: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.startsWith('part-') && /^part-\d{5,}-/.test(name) && name.slice(name.indexOf('-', 5) + 1).startsWith(`${key}.`);
}

/**
 * After a failed export: if the manifest lists an earlier export with the
 * same key, its files may have been overwritten and then removed, so the
 * dataset no longer matches its manifest; `_SUCCESS` is removed and the
 * caller says so. Returns whether it did.
 */
export async function withdrawSuccess(store: ObjectStore, key: string): Promise<boolean> {
  const manifest = await readManifest(store).catch(() => undefined);
  if (!manifest?.exports.some((e) => e.key === key)) return false;
  await store.remove(SUCCESS);
  return true;
}
