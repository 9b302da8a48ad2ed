import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import type { CloudTrailEvent } from './sample-events.js';

/**
 * Real CloudTrail events from disk, for the emulator's event data store: the
 * log files trails deliver to S3 (`{"Records": [...]}`, usually gzipped) and
 * NDJSON with one event per line. Every error is an `Error` with a one-line
 * message that names the file (and line) and says what to fix.
 */

/** The names a directory walk picks up; any name works when given explicitly. */
const EVENT_FILE = /\.(json|ndjson|jsonl)(\.gz)?$/i;
/** NDJSON by name: streamed line by line rather than read whole. */
const LINES_FILE = /\.(ndjson|jsonl)(\.gz)?$/i;
/**
 * Digest files sit beside the logs in a synced trail bucket
 * (AWSLogs/<account>/CloudTrail-Digest/...) and end in .json.gz too, but hold
 * hashes, not events; a directory walk skips them.
 */
const DIGEST_FILE = /(^|[\\/])CloudTrail-Digest[\\/]|_CloudTrail-Digest_/;

const gunzipBuffer = promisify(gunzip);

/**
 * Yields the events of each path in order. A file's events come in file
 * order; a directory is walked recursively for .json, .json.gz, .ndjson,
 * .jsonl (and their .gz) files, taken in sorted order of their relative paths.
 * Every path is resolved before the first event is yielded, so a missing path
 * fails fast.
 *
 * Gzip is recognised by its magic bytes (1f 8b), whatever the name says.
 * Memory: a `{"Records": ...}` file is read whole (trails write files of a few
 * MB); an .ndjson/.jsonl file is streamed, holding one line at a time. A file
 * with another name is read whole and may hold either format.
 */
export async function* readEventFiles(paths: string[]): AsyncGenerator<CloudTrailEvent> {
  for (const file of await listEventFiles(paths)) yield* readEventFile(file);
}

/** The files `readEventFiles` reads, in its order; throws for a missing path or an empty directory. */
export async function listEventFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      throw fileError(path, error);
    });
    if (info.isFile()) {
      files.push(path);
    } else if (info.isDirectory()) {
      const names = (await readdir(path, { recursive: true })).filter((name) => EVENT_FILE.test(name) && !DIGEST_FILE.test(name)).sort();
      const found: string[] = [];
      for (const name of names) {
        const file = join(path, name);
        const entry = await stat(file).catch((error: unknown) => {
          throw fileError(file, error);
        });
        if (entry.isFile()) found.push(file);
      }
      if (found.length === 0) {
        throw new Error(`${path}: no event files in this directory or below; expected names ending in .json, .ndjson or .jsonl (optionally .gz)`);
      }
      files.push(...found);
    } else {
      throw new Error(`${path}: not a file or directory; pass CloudTrail log files or directories of them`);
    }
  }
  return files;
}

/** The events of one file: streamed NDJSON for .ndjson/.jsonl names, else the whole file. */
function readEventFile(file: string): AsyncGenerator<CloudTrailEvent> {
  return LINES_FILE.test(file) ? readLines(file) : readDocument(file);
}

/**
 * A whole file: a trail's `{"Records": [...]}`, or NDJSON saved under another
 * name (recognised by a first line that is a JSON object on its own).
 */
async function* readDocument(file: string): AsyncGenerator<CloudTrailEvent> {
  let bytes = await readFile(file).catch((error: unknown) => {
    throw fileError(file, error);
  });
  if (isGzip(bytes)) {
    bytes = await gunzipBuffer(bytes).catch((error: unknown) => {
      throw new Error(`${file}: starts like gzip but does not decompress (${brief(error)}); download it again or pass it uncompressed`, { cause: error });
    });
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new Error(`${file}: the file is empty; expected a CloudTrail log file {"Records": [...]} or NDJSON events`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    if (firstLineIsObject(text)) {
      let line = 0;
      for (const row of text.split('\n')) yield* parseLine(file, ++line, row);
      return;
    }
    throw new Error(
      `${file}: not valid JSON (${brief(error)}); expected a CloudTrail log file {"Records": [...]} as trails write it, or NDJSON with one event per line`,
      { cause: error },
    );
  }
  const records = recordsOf(document);
  if (records) {
    for (let i = 0; i < records.length; i++) yield eventAt(records[i], `${file}: Records[${i}]`);
  } else if (isEvent(document)) {
    yield document; // one-line NDJSON
  } else if (isObject(document) && 'digestStartTime' in document) {
    throw new Error(`${file}: a CloudTrail digest file, which holds hashes, not events; pass the log files under CloudTrail/ instead`);
  } else {
    throw new Error(`${file}: JSON without a "Records" array; expected a CloudTrail log file {"Records": [...]} or NDJSON with one event per line`);
  }
}

/** NDJSON, streamed through readline (gunzipped first when the magic bytes say so). */
async function* readLines(file: string): AsyncGenerator<CloudTrailEvent> {
  const handle = await open(file).catch((error: unknown) => {
    throw fileError(file, error);
  });
  let gzipped: boolean;
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    gzipped = isGzip(buffer.subarray(0, bytesRead));
  } catch (error) {
    await handle.close();
    throw fileError(file, error);
  }
  // The stream owns the handle from here (autoClose): destroying it closes the file.
  const source = handle.createReadStream({ start: 0 });
  // pipeline() destroys both streams on an error in either, so a corrupt gzip
  // surfaces through readline's iterator instead of leaving it hanging.
  const input: Readable = gzipped ? pipeline(source, createGunzip(), () => {}) : source;
  const lines = createInterface({ input, crlfDelay: Infinity });
  const iterator = lines[Symbol.asyncIterator]();
  let line = 0;
  try {
    for (;;) {
      let step: IteratorResult<string>;
      try {
        step = await iterator.next();
      } catch (error) {
        const what = gzipped ? 'the gzip data is corrupt or truncated; download it again' : 'check that the file is readable';
        throw new Error(`${file}: reading failed after line ${line} (${brief(error)}); ${what}`, { cause: error });
      }
      if (step.done) break;
      yield* parseLine(file, ++line, step.value);
    }
  } finally {
    lines.close();
    input.destroy();
    source.destroy();
  }
}

/**
 * One NDJSON line: blank lines are skipped; a line holding a whole
 * `{"Records": [...]}` document (one trail file per line) yields its events.
 */
function* parseLine(file: string, line: number, text: string): Generator<CloudTrailEvent> {
  const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
  if (trimmed === '') return;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    throw new Error(`${file}:${line}: not valid JSON (${brief(error)}); NDJSON needs one complete event object per line`, { cause: error });
  }
  const records = recordsOf(value);
  if (records) {
    for (let i = 0; i < records.length; i++) yield eventAt(records[i], `${file}:${line}: Records[${i}]`);
  } else {
    yield eventAt(value, `${file}:${line}`);
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object that carries an event's identifying keys, rather than some other JSON. */
function isEvent(value: unknown): value is CloudTrailEvent {
  return isObject(value) && ('eventTime' in value || 'eventName' in value || 'eventID' in value);
}

/** The `Records` array of a trail log file, or undefined when `value` is not one. */
function recordsOf(value: unknown): unknown[] | undefined {
  return isObject(value) && Array.isArray(value.Records) ? value.Records : undefined;
}

function eventAt(value: unknown, where: string): CloudTrailEvent {
  if (isObject(value)) return value;
  throw new Error(`${where}: expected an event object, got ${short(value)}; each event must be a JSON object such as {"eventVersion": ...}`);
}

function firstLineIsObject(text: string): boolean {
  const first = text.split('\n', 2)[0]?.trim() ?? '';
  if (!first.startsWith('{')) return false;
  try {
    return isObject(JSON.parse(first));
  } catch {
    return false;
  }
}

/** A missing or unreadable path, in one line. */
function fileError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT' ? 'no such file or directory; check the path'
    : code === 'EACCES' ? 'permission denied; make the file readable'
    : code === 'EISDIR' ? 'is a directory'
    : `cannot be read (${brief(error)})`;
  return new Error(`${path}: ${why}`, { cause: error });
}

/** An error's message on one line, short enough for a terminal. */
function brief(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
