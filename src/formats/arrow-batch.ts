import { Buffer } from 'node:buffer';
import {
  Bool,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';
import type { ColumnType } from '../rows/column-types.js';
import { cellOf, type FlatRecord } from '../rows/flatten-row.js';
import { formatLakeType, type LakePrimitiveKind, type LakeType } from '../rows/lake-type.js';
// A namespace import: the module links even where readNested is only declared (a build without the reader), and only a nested column calls it.
import { readNested } from '../rows/nested-value.js';
import type { NestedValue } from '../rows/nested-value.js';
import { invalidValue, parseValue, unencodableValue, ValueError, wellFormed } from '../rows/parse-value.js';
import type { ColumnSchema } from '../rows/schema.js';
import { TextMemo } from '../rows/text-memo.js';
import { fallsBack, isUnparsedColumn } from '../rows/unparsed-column.js';
import { arrowTypeOf, nestedData, primitiveType } from './arrow-nested.js';

/**
 * One fixed Arrow schema per file. Every batch is built from this same
 * object, with explicit types and every field nullable, never inferred:
 * parquet-wasm's streaming writer drops, hangs on or crashes over a batch
 * whose schema differs from the file's, and never says so.
 * Timestamps are milliseconds adjusted to UTC (the precision Lake gives);
 * json columns are UTF-8 text holding JSON; nested columns have the Arrow
 * type of their Lake type (arrowTypeOf), the fallback column (see
 * rows/unparsed-column.ts) a map of text to text. At most one fallback
 * column.
 */
export function arrowSchema(columns: readonly ColumnSchema[], metadata: Map<string, string> = new Map()): Schema {
  unparsedIndex(columns);
  return new Schema(columns.map((c) => new Field(c.name, c.type === 'nested' ? arrowTypeOf(lakeTypeOf(c)) : arrowType(c.type), true)), metadata);
}

function lakeTypeOf(column: ColumnSchema): LakeType {
  if (column.lakeType === undefined) throw new Error(`internal: nested column ${JSON.stringify(column.name)} has no lakeType`);
  return column.lakeType;
}

/** The index of the fallback column, or -1. */
function unparsedIndex(columns: readonly ColumnSchema[]): number {
  let at = -1;
  for (let i = 0; i < columns.length; i++) {
    if (!isUnparsedColumn(columns[i]!)) continue;
    if (at >= 0) throw new Error('internal: a schema holds more than one fallback column');
    at = i;
  }
  return at;
}

/** A flat column's Arrow type: that of the Lake scalar its type stands for (json is UTF-8 text). */
function arrowType(type: ColumnType): DataType {
  if (type === 'nested') throw new Error('internal: a nested column has the Arrow type of its lakeType');
  return primitiveType(FLAT_KINDS[type]);
}

const FLAT_KINDS: Readonly<Record<Exclude<ColumnType, 'nested'>, LakePrimitiveKind>> = {
  int64: 'bigint',
  double: 'double',
  boolean: 'boolean',
  timestamp: 'timestamp',
  string: 'string',
  json: 'string',
};

// A Buffer, for Buffer#write: it encodes straight into the buffer at an
// offset, where TextEncoder#encodeInto needs a subarray and a result object
// per cell (measured: about a third less time per CloudTrail cell).
let scratch = Buffer.allocUnsafeSlow(1 << 20);

/**
 * Records to one RecordBatch of `schema`. Each cell is parsed with
 * parseValue; a cell that does not fit its column's type throws
 * VALUE_INVALID naming the column, the row (1-based, over the whole export)
 * and the value, with the fix; so does a text holding a lone surrogate,
 * which UTF-8 cannot hold (NDJSON escapes it). Columns are built straight into typed arrays
 * (apache-arrow's vectorFromArray would read every timestamp unit as
 * milliseconds, refuses numbers for Int64, and is several times slower for
 * strings).
 *
 * A nested cell is read with readNested for its Lake type. With a fallback
 * column in the schema, a cell that does not read (a nested one), or does
 * not parse (a scalar one whose column is marked `fallback`), is null in its
 * column and its text goes into the row's fallback map under the column's
 * output name; without one, it throws VALUE_INVALID as above. Columns of
 * other types take the same path as before nested columns existed.
 */
export function recordBatch(schema: Schema, columns: readonly ColumnSchema[], records: readonly FlatRecord[], firstRow: number): RecordBatch {
  const unparsed = unparsedIndex(columns);
  const fallback = unparsed < 0 ? undefined : new Fallback(records.length, firstRow);
  const children: Data[] = [];
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    if (i === unparsed) continue;
    children[i] = column.type === 'nested' ? nestedColumn(column, records, firstRow, fallback) : columnData(schema.fields[i]!.type, column, records, firstRow, fallback);
  }
  if (fallback) children[unparsed] = fallback.data(columns[unparsed]!);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: records.length, nullCount: 0, children }));
}

/** The fallback map of each row of one batch: null until a cell of the row falls back. */
class Fallback {
  private readonly rows: Array<Array<[string, string]> | null>;
  constructor(
    length: number,
    private readonly firstRow: number,
  ) {
    this.rows = new Array<null>(length).fill(null);
  }
  /** Keeps `text`, row `i`'s cell of `column`, which did not fit its type. */
  add(i: number, column: ColumnSchema, text: string): void {
    // Checked here, to name the column the text came from, not the fallback column.
    if (!wellFormed(text)) throw unencodableValue(column.source, this.firstRow + i, text, 'Parquet');
    (this.rows[i] ??= []).push([column.name, text]);
  }
  data(column: ColumnSchema): Data {
    return nestedData(lakeTypeOf(column), this.rows, { column: column.source, firstRow: this.firstRow });
  }
}

function nestedColumn(column: ColumnSchema, records: readonly FlatRecord[], firstRow: number, fallback: Fallback | undefined): Data {
  const type = lakeTypeOf(column);
  const n = records.length;
  const values = new Array<NestedValue>(n);
  // readNested is a pure function of the text and the type, and a column's
  // texts repeat (one principal's userIdentity, one client's tlsDetails):
  // each distinct text of the batch is read once (see rows/text-memo.ts for
  // the exceptions), and its value shared by the rows that hold it
  // (nestedData only reads values). Bounded by the batch, whose texts the
  // records hold already.
  const readings = new TextMemo((text) => readNested(text, type));
  for (let i = 0; i < n; i++) {
    const text = cellOf(records[i]!, column.source);
    if (text === null) {
      values[i] = null;
      continue;
    }
    const reading = readings.get(text);
    if (reading.ok) values[i] = reading.value;
    else if (fallback) {
      values[i] = null;
      fallback.add(i, column, text);
    } else {
      const typeText = formatLakeType(type);
      const shown = typeText.length > 60 ? `${typeText.slice(0, 60)}...` : typeText;
      throw invalidValue(column.source, firstRow + i, text, new ValueError(`not readable as ${shown} (${reading.reason})`));
    }
  }
  return nestedData(type, values, { column: column.source, firstRow });
}

function columnData(type: DataType, column: ColumnSchema, records: readonly FlatRecord[], firstRow: number, fallback: Fallback | undefined): Data {
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
      if (fallback && text !== null && fallsBack(column)) {
        fallback.add(i, column, text);
        nulls++;
        return null;
      }
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
            const grown = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, pos + text.length * 3));
            scratch.copy(grown, 0, 0, pos);
            scratch = grown;
          }
          const written = scratch.write(text, pos);
          // Lossless: a lone surrogate would be written as U+FFFD. Only a
          // text with a non-ASCII character (more bytes than code units) can
          // hold one, so ASCII cells pay one comparison.
          if (written !== text.length && !wellFormed(text)) throw unencodableValue(column.source, firstRow + i, text, 'Parquet');
          pos += written;
        }
        offsets[i + 1] = pos;
      }
      return makeData({ type: type as Utf8, length: n, nullCount: nulls, valueOffsets: offsets, data: new Uint8Array(scratch.buffer, scratch.byteOffset, pos).slice(), nullBitmap: nullBitmap() });
    }
    case 'nested':
      throw new Error('internal: a nested column is built by nestedColumn');
  }
}
