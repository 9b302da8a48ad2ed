import { createGzip, constants as zlib } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { TypingOptions } from '../rows/column-types.js';
import { cellOf, type FlatRecord } from '../rows/flatten-row.js';
import { escapeLoneSurrogates, invalidValue, jsonCell, parseValue, ValueError, wellFormed } from '../rows/parse-value.js';
import type { LakeType } from '../rows/lake-type.js';
import { readNested, type NestedValue } from '../rows/nested-value.js';
import { buildSchema, lateColumnsError, type ColumnSchema } from '../rows/schema.js';
import { UNPARSED_COLUMN_SOURCE } from '../rows/unparsed-column.js';

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
export async function* encodeNdjson(
  batches: AsyncIterable<FlatRecord[]>,
  types: NdjsonTypes = 'raw',
  typing: TypingOptions = {},
  settled?: () => readonly ColumnSchema[] | undefined,
): AsyncGenerator<Buffer> {
  let schema: ColumnSchema[] = [];
  let keys: string[] = [];
  /** Set when the schema was settled before the first row: then it never changes. */
  let fixed: ColumnSchema[] | undefined;
  let width = 0;
  let row = 0;
  const text = new Utf8Lines();
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    if (types === 'raw') {
      for (const record of batch) text.add(JSON.stringify(record));
    } else {
      if (row === 0 && fixed === undefined) {
        const given = settled?.();
        if (given !== undefined) {
          fixed = [...given];
          schema = fixed;
          keys = schema.map((c) => JSON.stringify(c.name));
          width = Object.keys(batch[0]!).length;
        }
      }
      // Columns only ever grow (ColumnSet), new ones last.
      const sources = Object.keys(batch[batch.length - 1]!);
      if (fixed !== undefined) {
        if (sources.length > width) {
          const known = new Set(fixed.map((c) => c.source));
          const added = sources.slice(width).filter((name) => !known.has(name));
          if (added.length) throw lateColumnsError(added, row + 1 + batch.findIndex((r) => Object.keys(r).length > width), 'sql');
          width = sources.length;
        }
      } else if (sources.length !== schema.length) {
        schema = buildSchema(sources, typing);
        keys = schema.map((c) => JSON.stringify(c.name));
      }
      const unparsed = schema.findIndex((c) => c.source === UNPARSED_COLUMN_SOURCE);
      for (const record of batch) {
        row++;
        let line = '{';
        let fallen: string | undefined;
        for (let i = 0; i < schema.length; i++) {
          const column = schema[i]!;
          if (i === unparsed) continue;
          if (line.length > 1) line += ',';
          const cell = cellOf(record, column.source);
          const json = typedJson(column, cell, row);
          if (json === undefined) {
            // Not readable for its type: null here, and the text in the unparsed column.
            line += keys[i] + ':null';
            fallen = `${fallen === undefined ? '' : `${fallen},`}${JSON.stringify(column.name)}:${JSON.stringify(cell)}`;
          } else {
            line += keys[i] + ':' + json;
          }
        }
        if (unparsed >= 0) line += `${line.length > 1 ? ',' : ''}${keys[unparsed]}:${fallen === undefined ? 'null' : `{${fallen}}`}`;
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

/**
 * One cell as typed JSON text; undefined when a column whose type came from
 * Lake's schema (`fallback`) cannot read it, so that the caller keeps the
 * text in the unparsed column. Any other misfit throws VALUE_INVALID.
 */
function typedJson(column: ColumnSchema, text: string | null, row: number): string | undefined {
  if (column.type === 'json') {
    if (text === null || text === 'null') return 'null';
    const cell = jsonCell(text);
    if (!cell.json) return JSON.stringify(cell.text);
    // Re-serialize JSON that spans lines, so that one row stays one line.
    const json = /[\n\r]/.test(cell.text) ? JSON.stringify(JSON.parse(cell.text)) : cell.text;
    // Written as it is, a lone surrogate in it would become U+FFFD; escaped, it is the same JSON value.
    return wellFormed(json) ? json : escapeLoneSurrogates(json);
  }
  if (column.type === 'nested') {
    if (text === null || text === 'null') return 'null';
    const reading = readNested(text, column.lakeType!);
    return reading.ok ? nestedJson(reading.value, column.lakeType!) : undefined;
  }
  let value;
  try {
    value = parseValue(text, column.type);
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    if (column.fallback === true) return undefined;
    throw invalidValue(column.source, row, text, error);
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

/**
 * A typed nested value as JSON text, walking its type: a struct is an
 * object of its published field names, a map an object of its keys (written
 * key by key, never through a JavaScript object, so that a key such as
 * `__proto__` is kept), an array an array; timestamps ISO-8601 with `Z`,
 * int64 values exact, NaN and infinities as strings, as for flat columns.
 */
export function nestedJson(value: NestedValue, type: LakeType): string {
  if (value === null) return 'null';
  switch (type.kind) {
    case 'struct': {
      const fields = value as NestedValue[];
      return `{${type.fields.map((field, i) => `${JSON.stringify(field.name)}:${nestedJson(fields[i] ?? null, field.type)}`).join(',')}}`;
    }
    case 'map':
      return `{${(value as Array<[string, NestedValue]>).map(([key, item]) => `${JSON.stringify(key)}:${nestedJson(item, type.value)}`).join(',')}}`;
    case 'array':
      return `[${(value as NestedValue[]).map((item) => nestedJson(item, type.element)).join(',')}]`;
    case 'timestamp':
    case 'date':
      return JSON.stringify(new Date(value as number).toISOString());
    case 'float':
    case 'double':
      return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    default:
      return typeof value === 'string' ? JSON.stringify(value) : String(value);
  }
}

/** The compressor to put after the encoder, if any. gzip at level 6 (zlib's default). */
export function ndjsonCompressor(compression: NdjsonCompression): Transform | undefined {
  return compression === 'gzip' ? createGzip({ level: zlib.Z_DEFAULT_COMPRESSION }) : undefined;
}
