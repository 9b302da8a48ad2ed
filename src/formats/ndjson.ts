import { createGzip, constants as zlib } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { TypingOptions } from '../rows/column-types.js';
import type { FlatRecord } from '../rows/flatten-row.js';
import { invalidValue, jsonCell, parseValue, ValueError } from '../rows/parse-value.js';
import { buildSchema, type ColumnSchema } from '../rows/schema.js';

export type NdjsonCompression = 'none' | 'gzip';

/** `raw`: the service's strings exactly. `typed`: values of the Parquet schema's types. */
export type NdjsonTypes = 'raw' | 'typed';

/**
 * Record batches to NDJSON: one JSON object per line, UTF-8, keys in column
 * order. One chunk per batch; memory is one batch's text.
 *
 * Raw (the default) writes the service's strings exactly, with the flattened
 * column names, and null for an absent column. Typed writes the schema that
 * Parquet gets (same names, same types): numbers, booleans, ISO-8601
 * timestamps with `Z`, JSON for json columns (their text where it is not
 * JSON), strings for the rest; a cell that does not fit its type fails with
 * VALUE_INVALID, as in Parquet. int64 values are written as exact integer
 * literals, even beyond 2^53.
 */
export async function* encodeNdjson(batches: AsyncIterable<FlatRecord[]>, types: NdjsonTypes = 'raw', typing: TypingOptions = {}): AsyncGenerator<string> {
  let schema: ColumnSchema[] = [];
  let keys: string[] = [];
  let row = 0;
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    let text = '';
    if (types === 'raw') {
      for (const record of batch) text += JSON.stringify(record) + '\n';
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
          line += keys[i] + ':' + typedJson(schema[i]!, record[schema[i]!.source] ?? null, row);
        }
        text += line + '}\n';
      }
    }
    yield text;
  }
}

function typedJson(column: ColumnSchema, text: string | null, row: number): string {
  if (column.type === 'json') {
    if (text === null || text === 'null') return 'null';
    const cell = jsonCell(text);
    if (!cell.json) return JSON.stringify(cell.text);
    // Re-serialize JSON that spans lines, so that one row stays one line.
    return /[\n\r]/.test(cell.text) ? JSON.stringify(JSON.parse(cell.text)) : cell.text;
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
