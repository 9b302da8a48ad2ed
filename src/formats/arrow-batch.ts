import {
  Bool,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimeUnit,
  Timestamp,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';
import type { ColumnType } from '../rows/column-types.js';
import { cellOf, type FlatRecord } from '../rows/flatten-row.js';
import { invalidValue, parseValue, unencodableValue, ValueError, wellFormed } from '../rows/parse-value.js';
import type { ColumnSchema } from '../rows/schema.js';

/**
 * One fixed Arrow schema per file. Every batch is built from this same
 * object, with explicit types and every field nullable, never inferred:
 * parquet-wasm's streaming writer drops, hangs on or crashes over a batch
 * whose schema differs from the file's, and never says so.
 * Timestamps are milliseconds adjusted to UTC (the precision Lake gives);
 * json columns are UTF-8 text holding JSON.
 */
export function arrowSchema(columns: readonly ColumnSchema[], metadata: Map<string, string> = new Map()): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true)), metadata);
}

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'int64':
      return new Int64();
    case 'double':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'timestamp':
      return new Timestamp(TimeUnit.MILLISECOND, 'UTC');
    case 'string':
    case 'json':
      return new Utf8();
    case 'nested':
      throw new Error('internal: nested columns are not built yet');
  }
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(1 << 20);

/**
 * Records to one RecordBatch of `schema`. Each cell is parsed with
 * parseValue; a cell that does not fit its column's type throws
 * VALUE_INVALID naming the column, the row (1-based, over the whole export)
 * and the value, with the fix; so does a text holding a lone surrogate,
 * which UTF-8 cannot hold (NDJSON escapes it). Columns are built straight into typed arrays
 * (apache-arrow's vectorFromArray would read every timestamp unit as
 * milliseconds, refuses numbers for Int64, and is several times slower for
 * strings).
 */
export function recordBatch(schema: Schema, columns: readonly ColumnSchema[], records: readonly FlatRecord[], firstRow: number): RecordBatch {
  const children = columns.map((column, i) => columnData(schema.fields[i]!.type, column, records, firstRow));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: records.length, nullCount: 0, children }));
}

function columnData(type: DataType, column: ColumnSchema, records: readonly FlatRecord[], firstRow: number): Data {
  const n = records.length;
  const validity = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  const cell = (i: number) => {
    const text = cellOf(records[i]!, column.source);
    try {
      const value = parseValue(text, column.type);
      if (value === null) nulls++;
      else validity[i >> 3]! |= 1 << (i & 7);
      return value;
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      throw invalidValue(column.source, firstRow + i, text, error);
    }
  };
  const nullBitmap = () => (nulls ? validity : undefined);

  switch (column.type) {
    case 'int64':
    case 'timestamp': {
      const values = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = cell(i);
        if (v !== null) values[i] = typeof v === 'bigint' ? v : BigInt(v as number);
      }
      return makeData({ type: type as Int64, length: n, nullCount: nulls, data: values, nullBitmap: nullBitmap() });
    }
    case 'double': {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = cell(i);
        if (v !== null) values[i] = v as number;
      }
      return makeData({ type: type as Float64, length: n, nullCount: nulls, data: values, nullBitmap: nullBitmap() });
    }
    case 'boolean': {
      const values = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) if (cell(i) === true) values[i >> 3]! |= 1 << (i & 7);
      return makeData({ type: type as Bool, length: n, nullCount: nulls, data: values, nullBitmap: nullBitmap() });
    }
    case 'string':
    case 'json': {
      const offsets = new Int32Array(n + 1);
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const v = cell(i);
        if (v !== null) {
          const text = v as string;
          if (scratch.length - pos < text.length * 3) {
            const grown = new Uint8Array(Math.max(scratch.length * 2, pos + text.length * 3));
            grown.set(scratch.subarray(0, pos));
            scratch = grown;
          }
          const written = encoder.encodeInto(text, scratch.subarray(pos)).written;
          // Lossless: a lone surrogate would be written as U+FFFD. Only a
          // text with a non-ASCII character (more bytes than code units) can
          // hold one, so ASCII cells pay one comparison.
          if (written !== text.length && !wellFormed(text)) throw unencodableValue(column.source, firstRow + i, text, 'Parquet');
          pos += written;
        }
        offsets[i + 1] = pos;
      }
      return makeData({ type: type as Utf8, length: n, nullCount: nulls, valueOffsets: offsets, data: scratch.slice(0, pos), nullBitmap: nullBitmap() });
    }
    case 'nested':
      throw new Error('internal: nested columns are not built yet');
  }
}
