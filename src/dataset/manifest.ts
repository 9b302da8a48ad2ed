import { setTimeout as sleep } from 'node:timers/promises';
import { CtlakeError, isCtlakeError, quoted } from '../errors.js';
import { acquireLock, type LockHandle } from '../destinations/store-lock.js';
import { isLeftover } from '../destinations/file.js';
import { badObjectName, type ObjectStore } from '../destinations/store.js';
import { schemaDifference, type ColumnRecord } from '../rows/schema.js';
import type { PartitionKeyType } from './partition.js';
import type { WrittenFile } from './write-dataset.js';

export const MANIFEST = '_manifest.json';
export const SUCCESS = '_SUCCESS';
/** Held while a process updates the manifest; `verify` does not count it as an extra file. */
export const MANIFEST_LOCK = '_manifest.json.lock';
/** Where the per-key locks live: `_locks/KEY.lock`, held by the export of KEY from its start to its commit. */
export const LOCKS = '_locks/';

/** One data file, as `_manifest.json` lists it. */
export interface ManifestFile {
  /** Relative to the dataset's root. */
  path: string;
  /** The file's partition values by key; null for Hive's default partition (a null or empty value). */
  partition: Record<string, string | null>;
  rows: number;
  bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** Lake's own delivery of an export's query, verified before the commit (see ManifestExport.delivery). */
export interface ManifestDelivery {
  /** The folder Lake delivered to (DescribeQuery's DeliveryS3Uri). */
  s3Uri: string;
  deliveryStatus: string;
  /** 'delivery': the rows came from these files; 'cross-check': from the pages, and the files held as many. */
  via: 'delivery' | 'cross-check';
  files: Array<{ name: string; sha256: string; bytes: number }>;
  /** result_sign.json's hashSignature (hex) and the fingerprint of the key it verified with. */
  signature: string;
  publicKeyFingerprint: string;
  queryCompleteTime: string | undefined;
  verified: true;
  /** Rows the delivered files hold. */
  rows: number;
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
  /**
   * The schema of every file of the export (source column, name, type, Lake
   * type text). Every export of a dataset has the same one: see
   * datasetSchemaClash.
   */
  schema: ColumnRecord[] | undefined;
  /** 'sql': settled from the query and the store's published schema before the first row; 'first-page': taken from the first page. */
  schemaSource?: 'sql' | 'first-page' | undefined;
  /** The published schema that typed the columns, and how it was chosen. */
  storeType?: string | undefined;
  storeTypeSource?: string | undefined;
  /** The partition levels, in folder order, with the type a Hive reader should give each key. */
  partitions?: Array<{ key: string; column: string; type: PartitionKeyType }> | undefined;
  /**
   * Lake's own delivery of the query (StartQuery DeliveryS3Uri), verified
   * before the commit: its folder, each delivered file's name and SHA-256,
   * the signature and the fingerprint of the key it verified with; `via`
   * says whether the rows came from the files or the pages were
   * cross-checked against them.
   */
  delivery?: ManifestDelivery | undefined;
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

/** What parseManifest makes of `_manifest.json`'s bytes. */
export interface ParsedManifest {
  /** The manifest with its well-formed exports only; undefined when it is not a manifest at all. */
  manifest: Manifest | undefined;
  /** One line per fault, each naming the field (`exports[2].files[0].path`) and quoting the value. */
  problems: string[];
  /** Every well-formed file path the manifest names, in damaged exports too: not "extra" files. */
  paths: Set<string>;
}

const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks `_manifest.json` field by field: it is input, edited or damaged
 * perhaps, and a path in it is read, overwritten and removed by the next
 * export. Every path must name an object below the root (badObjectName:
 * no `..`, no absolute path, no backslash, no NUL); counts are
 * non-negative integers; SHA-256 is 64 hex digits; keys and paths are not
 * listed twice. An export with a fault is left out of `manifest`, and its
 * problem said once. The work is bounded by the manifest's size.
 */
export function parseManifest(bytes: Buffer): ParsedManifest {
  const problems: string[] = [];
  const paths = new Set<string>();
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { manifest: undefined, problems: [`${MANIFEST} is not JSON (${(error as Error).message.split('\n')[0]})`], paths };
  }
  if (!isRecord(value) || value.manifestVersion !== 1 || !Array.isArray(value.exports)) {
    const version = isRecord(value) ? value.manifestVersion : undefined;
    return { manifest: undefined, problems: [`${MANIFEST} is not a ctlake manifest (manifestVersion 1 with an exports list; found ${version === undefined ? (isRecord(value) ? 'no manifestVersion' : `a JSON ${Array.isArray(value) ? 'array' : typeof value}`) : `manifestVersion ${quoted(version)}`})`], paths };
  }
  const keys = new Set<string>();
  const exports: ManifestExport[] = [];
  value.exports.forEach((entry: unknown, i: number) => {
    const at = `${MANIFEST}: exports[${i}]`;
    if (!isRecord(entry)) return problems.push(`${at} is not an object`);
    const key = entry.key;
    if (typeof key !== 'string' || badObjectName(key) || key.includes('/')) return problems.push(`${at}.key ${quoted(key)} is not a valid export key`);
    if (keys.has(key)) return problems.push(`${at}.key ${quoted(key)} is listed twice`);
    keys.add(key);
    if (!Array.isArray(entry.files)) return problems.push(`${at} (export ${quoted(key)}): files is not a list`);
    let bad = 0;
    entry.files.forEach((file: unknown, j: number) => {
      const fat = `${at}.files[${j}] (export ${quoted(key)})`;
      const fault = (line: string) => (bad++, problems.push(line));
      if (!isRecord(file)) return fault(`${fat} is not an object`);
      const reason = badObjectName(file.path);
      if (reason) return fault(`${fat}.path ${quoted(file.path)} is outside the dataset (${reason}): it is never read, written or removed`);
      const name = file.path as string;
      if (name === MANIFEST || name === SUCCESS || name.startsWith(LOCKS)) return fault(`${fat}.path ${quoted(name)} names one of ctlake's own files, not a data file`);
      if (paths.has(name)) fault(`${fat}.path ${quoted(name)} is listed twice`);
      paths.add(name);
      for (const field of ['rows', 'bytes'] as const) if (!isCount(file[field])) fault(`${fat}.${field} ${quoted(file[field])} is not a count (an integer, 0 or more)`);
      if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256)) fault(`${fat}.sha256 ${quoted(file.sha256)} is not 64 hex digits`);
      if (!isRecord(file.partition)) fault(`${fat}.partition is not an object`);
    });
    if (!isCount(entry.rows)) bad++, problems.push(`${at}.rows (export ${quoted(key)}) ${quoted(entry.rows)} is not a count (an integer, 0 or more)`);
    if (entry.totalResultsCount !== undefined && entry.totalResultsCount !== null && !isCount(entry.totalResultsCount)) {
      bad++, problems.push(`${at}.totalResultsCount (export ${quoted(key)}) ${quoted(entry.totalResultsCount)} is not a count (an integer, 0 or more)`);
    }
    if (bad === 0) exports.push(entry as unknown as ManifestExport);
    return undefined;
  });
  return { manifest: { ...(value as unknown as Manifest), exports }, problems, paths };
}

/**
 * The one-line repair for a manifest that cannot be used. Moving it aside is
 * safe: an export into a dataset with no manifest writes a new one that
 * lists its own export only, and removes no file of any other export (only
 * stale parts of its own key); `verify` then names the earlier files as not
 * in the manifest, until they are moved or exported again.
 */
export function manifestRepair(): string {
  return `nothing was written; restore ${MANIFEST} from a backup, or move it out of the dataset and rerun: ctlake then writes a new manifest listing that export, and leaves the files of every other export where they are (verify lists them as not in the manifest)`;
}

/**
 * The dataset's manifest, or undefined when there is none. A manifest that
 * is not JSON, or has any fault (parseManifest), is refused with
 * VERIFY_FAILED and the repair: an export must not act on it, since the
 * paths it would replace or remove are the ones it cannot trust.
 */
export async function readManifest(store: ObjectStore): Promise<Manifest | undefined> {
  const bytes = await store.get(MANIFEST);
  if (bytes === undefined) return undefined;
  const { manifest, problems } = parseManifest(bytes);
  if (!manifest || problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length === 2 ? '' : 's'}: ctlake verify lists them)` : '';
    throw new CtlakeError('VERIFY_FAILED', `${store.root}${problems[0]!.replace(`${MANIFEST}: `, `${MANIFEST} `)}${more}; ${manifestRepair()}`);
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
    // Checked again here, under the manifest's lock: another run may have committed since this one began.
    const clash = entry.schema && datasetSchemaClash(manifest, entry.key, entry.schema);
    if (clash) throw new CtlakeError('SCHEMA_CHANGED', `${store.root}: ${clash}`);
    const kept = new Set(entry.files.map((f) => f.path));
    const old = manifest.exports.find((e) => e.key === entry.key);
    for (const file of old?.files ?? []) if (!kept.has(file.path)) await store.remove(file.path);
    // Files of this key from a run that died before its manifest (no entry lists them).
    // (A listed name the store would refuse, such as an S3 key with a `..`, is foreign: not ours to remove.)
    for await (const object of store.list()) {
      if (!kept.has(object.name) && isDataFileOf(object.name, entry.key) && !badObjectName(object.name)) await store.remove(object.name);
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

/**
 * Why an export with `schema` cannot join the dataset, or undefined when it
 * can: every other export the manifest lists with a schema must have the
 * same one (schemaDifference), so that every file reads back with one
 * schema, without union_by_name. Exports recorded without a schema (raw
 * NDJSON from ctlake before 0.2) are not compared. The export's own key is
 * not compared either: a rerun replaces it.
 */
export function datasetSchemaClash(manifest: Manifest | undefined, key: string, schema: readonly ColumnRecord[]): string | undefined {
  for (const other of manifest?.exports ?? []) {
    if (other.key === key || !Array.isArray(other.schema)) continue;
    const difference = schemaDifference(schema, other.schema);
    if (difference !== undefined) {
      return `this export's schema differs from the dataset's (export ${quoted(other.key)}): ${difference}; export into a new dataset folder, or give the same query, column types and nested mode as the dataset's exports (_manifest.json records their schema)`;
    }
  }
  return undefined;
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

/** The lock object of export `key`. */
export function keyLockName(key: string): string {
  return `${LOCKS}${key}.lock`;
}

/**
 * Takes `_locks/KEY.lock` for the whole export of `key`, from before
 * StartQuery to after the commit: two runs writing the same key (a manual
 * rerun while cron runs, two hosts) would otherwise replace and remove each
 * other's files, and the manifest of one would list the files of the other.
 * The second run gets LOCK_HELD naming the key and the holder. The lease is
 * renewed by its holder (src/destinations/store-lock.ts); a killed holder's lock is stale
 * at once on its own host (its pid is gone), elsewhere when its lease ends.
 */
export async function lockExportKey(store: ObjectStore, key: string, leaseMs?: number): Promise<LockHandle> {
  try {
    return await acquireLock(store, keyLockName(key), leaseMs === undefined ? {} : { leaseMs });
  } catch (error) {
    if (isCtlakeError(error, 'LOCK_HELD')) {
      throw new CtlakeError('LOCK_HELD', (n) => `export ${quoted(key)} is already being written: ${error.describe(n)}`, { cause: error, option: error.option });
    }
    throw error;
  }
}

/**
 * Removes the temporary files that runs killed mid-write (kill -9, a power
 * cut) left in a local dataset: those whose pid is gone from this host. A
 * temporary file of a live process (another export writing now) is left
 * alone, and so is one made on another host (a folder shared over NFS):
 * see `isLeftover`. Returns the names removed.
 */
export async function removeLeftovers(store: ObjectStore): Promise<string[]> {
  const removed: string[] = [];
  for await (const object of store.list()) {
    if (object.kind !== undefined || badObjectName(object.name) || !isLeftover(object.name)) continue;
    // Best effort: a leftover that cannot be removed now is a warning in verify, not a reason to stop this export.
    if (await store.remove(object.name).then(() => true, () => false)) removed.push(object.name);
  }
  return removed;
}
