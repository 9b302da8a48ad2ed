import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parse, type CsvError } from 'csv-parse';
import { CtlakeError, quoted } from '../errors.js';
import type { QueryResultRow } from '../lake-model.js';

/**
 * The rows of one result file of Lake's delivery (result_N.csv.gz), as
 * GetQueryResults would give them: each a QueryResultRow, a list of
 * single-key maps in the header's order, a column named twice (two `arn`)
 * kept twice, a SQL null a missing key.
 *
 * Lake does not document its CSV. What is read (docs/delivery.md): gzip,
 * UTF-8, a header row of the column names in select-list order, RFC 4180
 * quoting (a field with a comma, quote, CR or LF is quoted, quotes
 * doubled), a null as an empty unquoted field, an empty string as `""`,
 * each value the text GetQueryResults gives. Also read: CRLF line ends, a
 * UTF-8 BOM, quoted names in the header, and nulls written as `""`; in that
 * last layout a null and '' look alike, and `quotedEmpty: 'null'` reads
 * both as null.
 *
 * Parsing is csv-parse's (adaltas/node-csv: streaming, RFC 4180, its
 * `quoting` flag per field tells `""` from an empty field), behind
 * node:zlib's gunzip.
 */

export interface DeliveredRowsOptions {
  /** The file's name, for messages. @default 'result file' */
  fileName?: string | undefined;
  /** Rows per yielded batch. @default 1000 */
  batchSize?: number | undefined;
  /** Whether the bytes are gzip (Lake's `.csv.gz`); false for a CSV already decompressed. @default true */
  gzip?: boolean | undefined;
  /**
   * What an empty quoted field (`""`) is: the empty string, as Lake's layout
   * writes one (a null is an empty unquoted field); or a null, for a file
   * that quotes every field, nulls included, where the two cannot be told
   * apart. @default 'string'
   */
  quotedEmpty?: 'string' | 'null' | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The most characters one field or record may hold before the file is
 * refused: a Lake row is at most some MB (a large requestParameters), so a
 * record past this is not one, and reading on would only fill memory.
 */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

/**
 * One cell `{ [name]: value }`. A computed key defines an own property
 * whatever the name (`__proto__` included, which a literal `__proto__:`
 * key would take as the prototype), on an ordinary object, as JSON.parse
 * makes a page's cells: flattenRow and cellOf read both alike.
 */
export function deliveredCell(name: string, value: string): Readonly<Record<string, string>> {
  return { [name]: value };
}

/**
 * Streams `source` (a result file's stored bytes) to batches of at most
 * `batchSize` rows. Memory is bounded by design: one batch, csv-parse's
 * buffer of the record being read (at most MAX_RECORD_CHARS), and the
 * streams' high-water marks, whatever the file's size. The header names are
 * data: held in an array, never keys of a lookup object.
 *
 * A file that is not gzip, not CSV (an unclosed quote, a record whose field
 * count differs from the header's), or has a record past MAX_RECORD_CHARS
 * fails with UNEXPECTED_RESPONSE naming the file and line. A file with no
 * bytes after gunzip has no header and no rows.
 */
export async function* deliveredRows(source: Readable, options: DeliveredRowsOptions = {}): AsyncGenerator<QueryResultRow[]> {
  const fileName = options.fileName ?? 'result file';
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1_000_000) throw new TypeError(`Invalid option batchSize: ${quoted(batchSize)}; expected a whole number from 1 to 1000000`);
  const quotedNull = options.quotedEmpty === 'null';
  const parser = parse({
    bom: true,
    delimiter: ',',
    quote: '"',
    escape: '"',
    max_record_size: MAX_RECORD_CHARS,
    // Header names and values are strings; a null (an empty field that is not quoted) is null.
    cast: (value, context) => (value === '' && (!context.quoting || quotedNull) ? (context.records === 0 ? '' : null) : value),
  });
  const gunzip = options.gzip === false ? undefined : createGunzip();
  // One pipeline carries errors and clean-up; its first error is the one reported.
  let failure: unknown;
  const done = pipeline([source, ...(gunzip ? [gunzip] : []), leadingComments(fileName), parser], { signal: options.signal }).catch((error: unknown) => {
    failure ??= error;
  });
  gunzip?.once('error', (error) => (failure ??= gzipError(fileName, error)));
  let header: string[] | undefined;
  let batch: QueryResultRow[] = [];
  try {
    for await (const record of parser as AsyncIterable<Array<string | null>>) {
      if (header === undefined) {
        header = record.map((name) => name ?? '');
        continue;
      }
      const row: Array<Readonly<Record<string, string>>> = [];
      for (let i = 0; i < record.length; i++) {
        const value = record[i];
        if (value !== null && value !== undefined) row.push(deliveredCell(header[i]!, value));
      }
      batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
    await done;
    if (failure !== undefined) throw failure;
  } catch (error) {
    if (options.signal?.aborted) throw new CtlakeError('INTERRUPTED', 'Export interrupted', { cause: error });
    throw csvError(fileName, failure ?? error, parser.info.lines);
  } finally {
    // A consumer that stops early (break, an error downstream) ends the read.
    if (!parser.destroyed) parser.destroy();
    await done;
  }
}

/** The most bytes of `#` lines before the header that are skipped. */
const MAX_COMMENT_BYTES = 1024 * 1024;

/**
 * Drops the `#` lines a file may open with before its header: the AWS CLI's
 * sample delivery begins `# Execution Time: ... Query Statement: ...`, whose
 * SQL text is not CSV. Only lines at the very start are comments; a `#` in
 * any later line is data. Bounded: more than MAX_COMMENT_BYTES of them is
 * not a delivered file.
 */
function leadingComments(fileName: string): Transform {
  let pending: Buffer | undefined = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (pending === undefined) return callback(null, chunk);
      let rest = Buffer.concat([pending, chunk]);
      // A BOM before the first `#` stays for csv-parse to drop when no comment follows.
      const bom = rest.length >= 3 && rest[0] === 0xef && rest[1] === 0xbb && rest[2] === 0xbf ? 3 : 0;
      let at = bom;
      while (at < rest.length && rest[at] === 0x23) {
        const end = rest.indexOf(0x0a, at);
        if (end < 0) break;
        at = end + 1;
      }
      if (at < rest.length && rest[at] === 0x23) {
        // A comment line not ended yet: wait for more.
        if (rest.length > MAX_COMMENT_BYTES) return callback(new CtlakeError('UNEXPECTED_RESPONSE', `${fileName}: more than ${MAX_COMMENT_BYTES} bytes of # lines before the header; not the CSV Lake delivers`));
        pending = rest;
        return callback();
      }
      if (at === rest.length && rest.length > bom) {
        pending = rest.subarray(0, bom);
        return callback();
      }
      pending = undefined;
      rest = at > bom ? rest.subarray(at) : rest;
      callback(null, rest);
    },
    // What is still held at the end is a BOM or a comment line with no end: no header, no rows.
    flush(callback) {
      callback();
    },
  });
}

function gzipError(fileName: string, error: unknown): CtlakeError {
  const code = (error as NodeJS.ErrnoException).code ?? 'Z_DATA_ERROR';
  return new CtlakeError('UNEXPECTED_RESPONSE', `${fileName}: not a gzip file (${code}: ${(error as Error).message.slice(0, 120)}); Lake delivers its results as .csv.gz`, { cause: error });
}

/** What csv-parse's error codes mean, said without quoting the value (it may be anything the query returned). */
const CSV_FAULTS: Readonly<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is not closed by the end of the file',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by something other than a comma or line end',
  INVALID_OPENING_QUOTE: 'a quote inside a field that is not quoted',
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'a record has another number of fields than the header',
  CSV_MAX_RECORD_SIZE: `a record longer than ${MAX_RECORD_CHARS} characters`,
};

function csvError(fileName: string, error: unknown, lines: number): CtlakeError {
  if (error instanceof CtlakeError) return error;
  const code = String((error as CsvError).code ?? '');
  const line = typeof (error as CsvError).lines === 'number' ? ((error as CsvError).lines as number) : lines;
  if ((error as NodeJS.ErrnoException).syscall !== undefined || (!code.startsWith('CSV_') && !CSV_FAULTS[code])) {
    return new CtlakeError('UNEXPECTED_RESPONSE', `${fileName}: cannot be read at line ${line}: ${(error as Error).message.split('\n')[0]!.slice(0, 160)}`, { cause: error });
  }
  const what = CSV_FAULTS[code] ?? `${code}`;
  return new CtlakeError('UNEXPECTED_RESPONSE', `${fileName}: not the CSV Lake delivers, at line ${line}: ${what}`, { cause: error });
}
