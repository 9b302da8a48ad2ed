import { createGzip, constants as zlib } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { TypingOptions } from '../rows/column-types.js';
import { cellOf, type FlatRecord } from '../rows/flatten-row.js';
import { escapeLoneSurrogates, invalidValue, jsonCell, parseValue, ValueError, wellFormed } from '../rows/parse-value.js';
import { buildSchema, type ColumnSchema } from '../rows/schema.js';

export type NdjsonCompression = 'none' | 'gzip';

/** `raw`: the service's strings exactly. `typed`: values of the Parquet schema's types. */
export type NdjsonTypes = 'raw' | 'typed';

/**
 * Record batches to NDJSON: one JSON object per line, UTF-8, keys in column
 * order. One Buffer per batch; memory is one batch's bytes, plus a reused
 * buffer as large as the largest batch. Each batch array is emptied once
 * encoded: the caller hands its records over.
 *
 * Raw (the default) writes the service's strings exactly, with the flattened
 * column names, and null for an absent column. Typed writes the schema that
 * Parquet gets (same names, same types): numbers, booleans, ISO-8601
 * timestamps with `Z`, JSON for json columns (their text where it is not
 * JSON), strings for the rest; a cell that does not fit its type fails with
 * VALUE_INVALID, as in Parquet. int64 values are written as exact integer
 * literals, even beyond 2^53. A lone surrogate (`"\ud800"`) survives both:
 * JSON.stringify escapes it, and a json column's text has it escaped.
 */
export async function* encodeNdjson(batches: AsyncIterable<FlatRecord[]>, types: NdjsonTypes = 'raw', typing: TypingOptions = {}): AsyncGenerator<Buffer> {
  let schema: ColumnSchema[] = [];
  let keys: string[] = [];
  let row = 0;
  const text = new Utf8Lines();
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    if (types === 'raw') {
      for (const record of batch) text.add(JSON.stringify(record));
    } else {
      // Columns only ever grow (ColumnSet); rebuild the schema when they do.
      const sources = Object.keys(batch[batch.length - 1]!);
      if (sources.length !== schema.length) {
        schema = buildSchema(sources, typing);
        keys = schema.map((c) => JSON.stringify(c.name));
      }
      for (const record of batch) {
        row++;
        let line = '{';
        for (let i = 0; i < schema.length; i++) {
          if (i > 0) line += ',';
          line += keys[i] + ':' + typedJson(schema[i]!, cellOf(record, schema[i]!.source), row);
        }
        text.add(line + '}');
      }
    }
    // Encoded: empty the array, so that its records can be collected young.
    // Held until the next batch replaced it, they lived through the next
    // page's download and parse, and every garbage collection in it copied
    // them (measured with queryRecordBatches dropping the rows once
    // flattened: a third less GC time over a 1M-row NDJSON export).
    batch.length = 0;
    yield text.take();
  }
}

/**
 * Lines gathered as UTF-8 bytes, each encoded as soon as it is made. Why not
 * one string per batch: V8 builds `+=` as a rope, which it must flatten
 * before encoding it, and on 1,000 wide rows that cost three to four times
 * the JSON.stringify calls themselves.
 */
class Utf8Lines {
  #buffer = Buffer.allocUnsafe(1 << 20);
  #length = 0;

  add(line: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit, plus the newline.
    const most = line.length * 3 + 1;
    if (this.#buffer.length - this.#length < most) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + most));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    this.#length += this.#buffer.write(line, this.#length, 'utf8');
    this.#buffer[this.#length++] = 0x0a;
  }

  /** The bytes so far, as a Buffer of their own; the gatherer starts again empty. */
  take(): Buffer {
    const bytes = Buffer.from(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
    return bytes;
  }
}

function typedJson(column: ColumnSchema, text: string | null, row: number): string {
  if (column.type === 'json') {
    if (text === null || text === 'null') return 'null';
    const cell = jsonCell(text);
    if (!cell.json) return JSON.stringify(cell.text);
    // Re-serialize JSON that spans lines, so that one row stays one line.
    const json = /[\n\r]/.test(cell.text) ? JSON.stringify(JSON.parse(cell.text)) : cell.text;
    // Written as it is, a lone surrogate in it would become U+FFFD; escaped, it is the same JSON value.
    return wellFormed(json) ? json : escapeLoneSurrogates(json);
  }
  let value;
  try {
    value = parseValue(text, column.type);
  } catch (error) {
    if (error instanceof ValueError) throw invalidValue(column.source, row, text, error);
    throw error;
  }
  if (value === null) return 'null';
  switch (column.type) {
    case 'int64':
    case 'boolean':
      return String(value);
    case 'double':
      return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    case 'timestamp':
      return JSON.stringify(new Date(value as number).toISOString());
    default:
      return JSON.stringify(value);
  }
}

/** The compressor to put after the encoder, if any. gzip at level 6 (zlib's default). */
export function ndjsonCompressor(compression: NdjsonCompression): Transform | undefined {
  return compression === 'gzip' ? createGzip({ level: zlib.Z_DEFAULT_COMPRESSION }) : undefined;
}
