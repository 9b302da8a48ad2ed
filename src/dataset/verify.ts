import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../destinations/store.js';
import { FooterTail } from '../formats/parquet-footer.js';
import { MANIFEST, MANIFEST_LOCK, readManifest, SUCCESS } from './manifest.js';

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
}

/**
 * Re-reads a dataset and checks it against its `_manifest.json`: `_SUCCESS`
 * is there; every listed file is there with its size, SHA-256 and row
 * count (Parquet: the footer's; NDJSON: its lines, after gunzip for .gz);
 * each export's files add up to its rows and to the query's
 * TotalResultsCount; and no other file is there (a leftover, a temporary
 * file, a duplicate). Files are streamed, one at a time: memory is one
 * Parquet tail. Problems are collected, never thrown, so one run names
 * them all.
 */
export async function verifyDataset(store: ObjectStore): Promise<VerifyReport> {
  const report: VerifyReport = { dataset: store.root, ok: false, exports: 0, files: 0, rows: 0, bytes: 0, problems: [] };
  const problem = (line: string) => report.problems.push(line);
  const present = new Map<string, number>();
  for await (const object of store.list()) present.set(object.name, object.size);
  if (present.size === 0) {
    problem(`no dataset at ${store.root}: nothing is there`);
    return report;
  }
  let manifest;
  try {
    manifest = await readManifest(store);
  } catch (error) {
    problem((error as Error).message);
    return report;
  }
  if (!manifest) {
    problem(`${MANIFEST} is missing: the export did not commit, or this is not a ctlake dataset`);
    return report;
  }
  if (!present.has(SUCCESS)) problem(`${SUCCESS} is missing: the last export did not commit`);
  const listed = new Set<string>([MANIFEST, SUCCESS, MANIFEST_LOCK]);
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
  for (const name of present.keys()) if (!listed.has(name)) problem(`${name}: not in the manifest (an extra or leftover file)`);
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
    const what = ndjson ? (gzip ? 'gzip NDJSON' : 'NDJSON') : 'Parquet';
    return { bytes, sha256: '', rows: undefined, error: `not a readable ${what} file (${(error as Error).message.split('\n')[0]})` };
  }
}
