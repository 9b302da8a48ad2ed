import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../destinations/store.js';
import { isCtlakeError, quoted, shownName } from '../errors.js';
import { FooterTail } from '../formats/parquet-footer.js';
import { isStale, parseLock } from '../destinations/store-lock.js';
import { isLeftover, temporaryFileOwner } from '../destinations/file.js';
import { LOCKS, MANIFEST, MANIFEST_LOCK, parseManifest, SUCCESS } from './manifest.js';

export interface VerifyReport {
  /** The dataset's root, as named. */
  dataset: string;
  ok: boolean;
  exports: number;
  files: number;
  rows: number;
  bytes: number;
  /** One line per problem, each naming the file or export. */
  problems: string[];
  /**
   * Whether `_manifest.json` is there but cannot be read, or has a fault. A
   * rerun then refuses the dataset too: the repair is to restore the
   * manifest, or move it out of the dataset.
   */
  manifestFaulty: boolean;
  /**
   * What is there but does not make the dataset wrong: a temporary file of
   * a killed run (the next export of the dataset removes it), or of an
   * export writing now; a lock of a killed or running export.
   */
  warnings: string[];
}

/**
 * Re-reads a dataset and checks it against its `_manifest.json`: `_SUCCESS`
 * is there; every listed file is there with its size, SHA-256 and row
 * count (Parquet: the footer's; NDJSON: its lines, after gunzip for .gz);
 * each export's files add up to its rows and to the query's
 * TotalResultsCount; and no other file is there (a leftover, a temporary
 * file, a duplicate). Files are streamed, one at a time: memory is one
 * Parquet tail. Problems are collected, never thrown, so one run names
 * them all; only a listing that fails throws.
 *
 * A symbolic link, FIFO or device inside the dataset is a problem and is
 * never read. The manifest is input: each of its faults is a problem line
 * (parseManifest), and a manifest that cannot be read is one too, worded
 * as a read. A temporary file of a killed run (its pid is gone) or a lock
 * left in `_locks/` is a warning, not a problem: readers skip names that
 * start with `.` or `_`, and the next export removes or takes them over.
 */
export async function verifyDataset(store: ObjectStore): Promise<VerifyReport> {
  const report: VerifyReport = { dataset: store.root, ok: false, exports: 0, files: 0, rows: 0, bytes: 0, problems: [], manifestFaulty: false, warnings: [] };
  const problem = (line: string) => report.problems.push(line);
  const present = new Map<string, number>();
  /** Links, FIFOs, sockets: never read, each a problem. */
  const special = new Map<string, 'symlink' | 'other'>();
  for await (const object of store.list()) {
    present.set(object.name, object.size);
    if (object.kind) special.set(object.name, object.kind);
  }
  if (present.size === 0) {
    problem(`no dataset at ${store.root}: nothing is there`);
    return report;
  }
  const notFile = (name: string) =>
    special.get(name) === 'symlink' ? `${quoted(name)}: a symbolic link, which ctlake never follows inside a dataset; remove it`
    : `${quoted(name)}: not a regular file (a FIFO, socket or device); remove it`;
  // Said first, and whatever else is wrong: a link is never followed, a FIFO never read.
  for (const name of special.keys()) problem(notFile(name));
  let bytes: Buffer | undefined;
  if (!special.has(MANIFEST)) {
    try {
      bytes = await store.get(MANIFEST);
    } catch (error) {
      problem((error as Error).message);
      report.manifestFaulty = true;
    }
  } else report.manifestFaulty = true;
  if (bytes === undefined) {
    if (!special.has(MANIFEST) && report.problems.length === special.size) problem(`${MANIFEST} is missing: the export did not commit, or this is not a ctlake dataset`);
    return report;
  }
  const parsed = parseManifest(bytes);
  for (const line of parsed.problems) problem(line);
  const manifest = parsed.manifest;
  report.manifestFaulty = parsed.problems.length > 0;
  if (!manifest) return report;
  if (!present.has(SUCCESS)) problem(`${SUCCESS} is missing: the last export did not commit`);
  const listed = new Set<string>([MANIFEST, SUCCESS, MANIFEST_LOCK, ...parsed.paths]);
  for (const entry of manifest.exports) {
    report.exports++;
    let rows = 0;
    for (const file of entry.files) {
      listed.add(file.path);
      report.files++;
      rows += file.rows;
      const size = present.get(file.path);
      if (size === undefined) {
        problem(`${file.path}: missing (export ${entry.key})`);
        continue;
      }
      if (special.has(file.path)) continue;
      const seen = await readFile(store, file.path);
      report.bytes += seen.bytes;
      // One problem per file: the first check that fails says enough.
      if (size !== file.bytes) problem(`${file.path}: ${size} bytes, the manifest says ${file.bytes}`);
      else if (seen.rows === undefined) problem(`${file.path}: ${seen.error ?? 'its rows cannot be counted'}`);
      else if (seen.sha256 !== file.sha256) problem(`${file.path}: SHA-256 ${seen.sha256} differs from the manifest's ${file.sha256}`);
      else if (seen.rows !== file.rows) problem(`${file.path}: ${seen.rows} rows, the manifest says ${file.rows}`);
    }
    report.rows += rows;
    if (rows !== entry.rows) problem(`export ${entry.key}: its files hold ${rows} rows, the manifest says ${entry.rows}`);
    if (entry.totalResultsCount !== undefined && rows !== entry.totalResultsCount) {
      problem(`export ${entry.key}: its files hold ${rows} rows, query ${entry.queryId} returned ${entry.totalResultsCount}`);
    }
  }
  for (const name of present.keys()) {
    if (listed.has(name)) continue;
    if (special.has(name)) continue;
    const owner = temporaryFileOwner(name);
    if (owner !== undefined) {
      report.warnings.push(
        isLeftover(name)
          ? `${shownName(name)}: leftover of a killed run (pid ${owner.pid}): removed by the next export`
          : `${shownName(name)}: temporary file of a running export (pid ${owner.pid})${owner.thisHost ? '' : ' on another host'}`,
      );
      continue;
    }
    if (name.startsWith(LOCKS) && name.endsWith('.lock')) {
      const lock = await store.get(name).then((data) => data && parseLock(data)).catch(() => undefined);
      report.warnings.push(
        lock && !isStale(lock, Date.now()) ? `${name}: an export is running (host ${quoted(lock.host)}, pid ${lock.pid}, since ${quoted(lock.acquiredAt)})` : `${name}: lock of a killed run: taken over by the next export of that key`,
      );
      continue;
    }
    problem(`${shownName(name)}: not in the manifest (an extra or leftover file)`);
  }
  report.ok = report.problems.length === 0;
  return report;
}

async function readFile(store: ObjectStore, path: string): Promise<{ bytes: number; sha256: string; rows: number | undefined; error?: string }> {
  const hash = createHash('sha256');
  const tail = new FooterTail();
  let bytes = 0;
  let lines = 0;
  const ndjson = /\.ndjson(\.gz)?$/.test(path);
  const gzip = path.endsWith('.gz');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!ndjson) tail.push(chunk);
      callback(null, ndjson ? chunk : undefined);
    },
  });
  const counter = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      callback();
    },
  });
  try {
    await pipeline([await store.read(path), tap, ...(gzip ? [createGunzip()] : []), counter]);
    const rows = ndjson ? lines : tail.rows();
    return { bytes, sha256: hash.digest('hex'), rows };
  } catch (error) {
    if (bytes === 0 && isReadError(error)) return { bytes, sha256: '', rows: undefined, error: (error as Error).message.replace(/^cannot read \S+: /, 'cannot read it: ') };
    const what = ndjson ? (gzip ? 'gzip NDJSON' : 'NDJSON') : 'Parquet';
    return { bytes, sha256: '', rows: undefined, error: `not a readable ${what} file (${(error as Error).message.split('\n')[0]})` };
  }
}

/** A failure to open or fetch the file (EACCES, S3 403), as opposed to bytes that do not parse. */
function isReadError(error: unknown): boolean {
  return (isCtlakeError(error) && error.message.startsWith('cannot read ')) || typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
