/**
 * Lake's struct, map and array types as Arrow types, and typed nested
 * values (NestedValue, see rows/nested-value.ts) as Arrow data, for the
 * Parquet writer. The shapes follow what Athena, Spark, DuckDB and polars
 * read back as STRUCT, MAP and LIST:
 *
 * - struct → Struct, the fields named as published (Lake publishes them in
 *   lower case, a few with case kept: `insightContext`), in published order;
 * - map → Map of an entries struct holding a non-null `key` and a `value`,
 *   keys not sorted. The entries are named `entries` (apache-arrow forces
 *   Arrow's name, so Parquet's repeated group is `entries`, not the
 *   `key_value` of the Parquet spec's examples: readers know a map by its
 *   MAP annotation, and the spec's compatibility rules accept any name);
 * - array → List whose element field is called `element`, so that
 *   parquet-rs writes the standard three-level LIST (`list.element`);
 * - tinyint, smallint, int, bigint → Int8, Int16, Int32, Int64 (Parquet
 *   INT32 with INT(8), INT(16) annotations, INT32, INT64; DuckDB reads them
 *   back as TINYINT, SMALLINT, INTEGER, BIGINT); float, double → Float32,
 *   Float64; boolean → Bool; string, binary → Utf8 (Lake's text holds
 *   binary as text); timestamp → Timestamp(ms, 'UTC'), as flat timestamp
 *   columns; date → Date32 (days).
 *
 * Every field is nullable, save what Arrow's Map requires to be present
 * (its entries and keys). A map key is text in NestedValue, so a map's key
 * is Utf8 whatever its published key type (every published map is
 * `map<string,...>`).
 */
import {
  Bool,
  DateDay,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  makeData,
  Map_,
  Struct,
  TimeUnit,
  Timestamp,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';
import type { LakePrimitiveKind, LakeType } from '../rows/lake-type.js';
import type { NestedValue } from '../rows/nested-value.js';
import { unencodableValue, wellFormed } from '../rows/parse-value.js';

/** The name of a list's element field: the Parquet LIST convention. */
export const LIST_ELEMENT_FIELD = 'element';
/** The name of a map's entries struct (apache-arrow's Map_ sets it whatever it is given). */
export const MAP_ENTRIES_FIELD = 'entries';

/** The Arrow type a column of Lake type `type` is written with. */
export function arrowTypeOf(type: LakeType): DataType {
  switch (type.kind) {
    case 'struct':
      return new Struct(type.fields.map((f) => new Field(f.name, arrowTypeOf(f.type), true)));
    case 'map':
      return new Map_(new Field(MAP_ENTRIES_FIELD, new Struct<{ key: Utf8; value: DataType }>([new Field('key', new Utf8(), false), new Field('value', arrowTypeOf(type.value), true)]), false), false);
    case 'array':
      return new List(new Field(LIST_ELEMENT_FIELD, arrowTypeOf(type.element), true));
    default:
      return primitiveType(type.kind);
  }
}

/** The Arrow type of a Lake scalar: flat columns (arrow-batch.ts) use it too. */
export function primitiveType(kind: LakePrimitiveKind): DataType {
  switch (kind) {
    case 'string':
    case 'binary':
      return new Utf8();
    case 'boolean':
      return new Bool();
    case 'tinyint':
      return new Int8();
    case 'smallint':
      return new Int16();
    case 'int':
      return new Int32();
    case 'bigint':
      return new Int64();
    case 'float':
      return new Float32();
    case 'double':
      return new Float64();
    case 'timestamp':
      return new Timestamp(TimeUnit.MILLISECOND, 'UTC');
    case 'date':
      return new DateDay();
  }
}

/** Where the values of a nestedData call come from, for its messages. */
export interface NestedCells {
  /** The source column. */
  column: string;
  /** The 1-based row, over the whole export, of values[0]. */
  firstRow: number;
}

/**
 * The Arrow data of one column of Lake type `type`: values[i] is row i
 * (null for a null cell), shaped as NestedValue says. Built in one pass
 * straight into typed arrays and offsets, with no apache-arrow builder.
 *
 * Throws VALUE_INVALID (naming `cells.column` and the row) for a string at
 * any depth, map keys included, that holds a lone surrogate, which UTF-8
 * cannot hold. A value whose shape is not its type's (a number for a
 * string, a struct of the wrong width, an int out of its range) is a bug of
 * the reader that made it: a TypeError.
 */
export function nestedData(type: LakeType, values: readonly NestedValue[], cells: NestedCells = { column: '', firstRow: 1 }): Data {
  const arrow = arrowTypeOf(type);
  const builder = builderFor(type, arrow);
  for (let i = 0; i < values.length; i++) {
    try {
      builder.append(values[i]!);
    } catch (error) {
      if (error instanceof LoneSurrogate) throw unencodableValue(cells.column, cells.firstRow + i, error.text, 'Parquet');
      throw error;
    }
  }
  return builder.finish();
}

class LoneSurrogate extends Error {
  constructor(readonly text: string) {
    super('lone surrogate');
  }
}

interface Builder {
  /** Appends one slot; null appends a null. */
  append(value: NestedValue): void;
  finish(): Data;
}

function builderFor(type: LakeType, arrow: DataType): Builder {
  switch (type.kind) {
    case 'struct':
      return new StructBuilder(
        arrow as Struct,
        type.fields.map((f, i) => builderFor(f.type, (arrow as Struct).children[i]!.type)),
      );
    case 'map': {
      const entries = (arrow as Map_).children[0]!.type as Struct;
      return new MapBuilder(arrow as Map_, entries, new Utf8Builder(entries.children[0]!.type as Utf8), builderFor(type.value, entries.children[1]!.type));
    }
    case 'array':
      return new ListBuilder(arrow as List, builderFor(type.element, (arrow as List).children[0]!.type));
    case 'string':
    case 'binary':
      return new Utf8Builder(arrow as Utf8);
    case 'boolean':
      return new BoolBuilder(arrow as Bool);
    case 'tinyint':
      return new FixedBuilder(arrow, new Int8Array(64), intIn(-(2n ** 7n), 2n ** 7n - 1n, 'tinyint'));
    case 'smallint':
      return new FixedBuilder(arrow, new Int16Array(64), intIn(-(2n ** 15n), 2n ** 15n - 1n, 'smallint'));
    case 'int':
      return new FixedBuilder(arrow, new Int32Array(64), intIn(-(2n ** 31n), 2n ** 31n - 1n, 'int'));
    case 'bigint':
      return new FixedBuilder(arrow, new BigInt64Array(64), (v) => {
        if (typeof v !== 'bigint' || v < -(2n ** 63n) || v >= 2n ** 63n) throw shapeError('bigint', 'a bigint in the int64 range', v);
        return v;
      });
    case 'float':
      return new FixedBuilder(arrow, new Float32Array(64), number('float'));
    case 'double':
      return new FixedBuilder(arrow, new Float64Array(64), number('double'));
    case 'timestamp':
      return new FixedBuilder(arrow, new BigInt64Array(64), (v) => {
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw shapeError('timestamp', 'whole epoch milliseconds', v);
        return BigInt(v);
      });
    case 'date':
      return new FixedBuilder(arrow, new Int32Array(64), (v) => {
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v % 86_400_000 !== 0) throw shapeError('date', 'epoch milliseconds of a UTC midnight', v);
        return v / 86_400_000;
      });
  }
}

function shapeError(kind: string, expected: string, value: NestedValue): TypeError {
  const shown = typeof value === 'bigint' ? `${value}n` : Array.isArray(value) ? 'an array' : JSON.stringify(value);
  return new TypeError(`nestedData: a ${kind} value must be ${expected}, not ${String(shown).slice(0, 40)}`);
}

function intIn(min: bigint, max: bigint, kind: string): (v: NestedValue) => number {
  return (v) => {
    if (typeof v !== 'bigint' || v < min || v > max) throw shapeError(kind, `a bigint from ${min} to ${max}`, v);
    return Number(v);
  };
}

function number(kind: string): (v: NestedValue) => number {
  return (v) => {
    if (typeof v !== 'number') throw shapeError(kind, 'a number', v);
    return v;
  };
}

type Fixed = Int8Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array;

/** `array` with room for `need` items: itself, or a copy twice as long (or more). */
function room<A extends Fixed | Uint8Array>(array: A, need: number): A {
  if (need <= array.length) return array;
  const next = new (array.constructor as new (length: number) => A)(Math.max(need, array.length * 2));
  (next as Uint8Array).set(array as Uint8Array);
  return next;
}

/** A validity bitmap that grows as slots are appended. */
class Validity {
  bits = new Uint8Array(8);
  nulls = 0;
  mark(i: number, valid: boolean): void {
    if (valid) {
      this.bits = room(this.bits, (i >> 3) + 1);
      this.bits[i >> 3]! |= 1 << (i & 7);
    } else this.nulls++;
  }
  /** The bitmap of `length` slots, or undefined when none is null (Arrow then reads all as valid). */
  bitmap(length: number): Uint8Array | undefined {
    return this.nulls ? room(this.bits, (length + 7) >> 3).slice(0, (length + 7) >> 3) : undefined;
  }
}

class FixedBuilder<A extends Fixed> implements Builder {
  length = 0;
  readonly validity = new Validity();
  constructor(
    readonly type: DataType,
    private values: A,
    private readonly convert: (v: NestedValue) => A[number],
  ) {}
  append(value: NestedValue): void {
    const i = this.length++;
    this.validity.mark(i, value !== null);
    if (value === null) return;
    this.values = room(this.values, i + 1);
    this.values[i] = this.convert(value);
  }
  finish(): Data {
    const n = this.length;
    return makeData({ type: this.type as Int32, length: n, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(n), data: room(this.values, n).slice(0, n) as Int32Array });
  }
}

class BoolBuilder implements Builder {
  length = 0;
  readonly validity = new Validity();
  private values = new Uint8Array(8);
  constructor(readonly type: Bool) {}
  append(value: NestedValue): void {
    const i = this.length++;
    this.validity.mark(i, value !== null);
    if (value === null) return;
    if (typeof value !== 'boolean') throw shapeError('boolean', 'a boolean', value);
    this.values = room(this.values, (i >> 3) + 1);
    if (value) this.values[i >> 3]! |= 1 << (i & 7);
  }
  finish(): Data {
    const n = this.length;
    const bytes = (n + 7) >> 3;
    return makeData({ type: this.type, length: n, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(n), data: room(this.values, bytes).slice(0, bytes) });
  }
}

const encoder = new TextEncoder();
/** Texts up to this many code units are tried as ASCII first. */
const SHORT = 64;

class Utf8Builder implements Builder {
  length = 0;
  readonly validity = new Validity();
  private offsets = new Int32Array(65);
  private bytes = new Uint8Array(1024);
  private pos = 0;
  constructor(readonly type: Utf8) {}
  append(value: NestedValue): void {
    const i = this.length++;
    this.validity.mark(i, value !== null);
    if (value !== null) {
      if (typeof value !== 'string') throw shapeError('string', 'a string', value);
      const bytes = (this.bytes = room(this.bytes, this.pos + value.length * 3));
      const n = value.length;
      let at = this.pos;
      // Nested values are mostly short ASCII (names, ids, ARNs), for which a
      // loop is several times faster than encodeInto on a fresh subarray.
      if (n <= SHORT) {
        for (let c = 0; c < n; c++) {
          const code = value.charCodeAt(c);
          if (code >= 0x80) {
            at = -1;
            break;
          }
          bytes[at++] = code;
        }
      } else at = -1;
      if (at < 0) {
        const written = encoder.encodeInto(value, bytes.subarray(this.pos)).written;
        // As flat columns: only a text with more bytes than code units can hold a lone surrogate.
        if (written !== n && !wellFormed(value)) throw new LoneSurrogate(value);
        at = this.pos + written;
      }
      this.pos = at;
    }
    this.offsets = room(this.offsets, i + 2);
    this.offsets[i + 1] = this.pos;
  }
  finish(): Data {
    const n = this.length;
    return makeData({
      type: this.type,
      length: n,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.bitmap(n),
      valueOffsets: room(this.offsets, n + 1).slice(0, n + 1),
      data: this.bytes.slice(0, this.pos),
    });
  }
}

class StructBuilder implements Builder {
  length = 0;
  readonly validity = new Validity();
  constructor(
    readonly type: Struct,
    private readonly children: readonly Builder[],
  ) {}
  append(value: NestedValue): void {
    this.validity.mark(this.length++, value !== null);
    // A null struct still has a slot in each child (Arrow keeps children as long as the struct): a null one.
    if (value === null) {
      for (const child of this.children) child.append(null);
      return;
    }
    if (!Array.isArray(value) || value.length !== this.children.length) throw shapeError('struct', `an array of its ${this.children.length} field values`, value);
    for (let f = 0; f < this.children.length; f++) this.children[f]!.append(value[f] as NestedValue);
  }
  finish(): Data {
    const n = this.length;
    return makeData({ type: this.type, length: n, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(n), children: this.children.map((c) => c.finish()) });
  }
}

class ListBuilder implements Builder {
  length = 0;
  readonly validity = new Validity();
  private offsets = new Int32Array(65);
  private count = 0;
  constructor(
    readonly type: List,
    private readonly element: Builder,
  ) {}
  append(value: NestedValue): void {
    const i = this.length++;
    this.validity.mark(i, value !== null);
    if (value !== null) {
      if (!Array.isArray(value)) throw shapeError('array', 'an array', value);
      for (const element of value) this.element.append(element as NestedValue);
      this.count += value.length;
    }
    this.offsets = room(this.offsets, i + 2);
    this.offsets[i + 1] = this.count;
  }
  finish(): Data {
    const n = this.length;
    return makeData({ type: this.type, length: n, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(n), valueOffsets: room(this.offsets, n + 1).slice(0, n + 1), child: this.element.finish() });
  }
}

class MapBuilder implements Builder {
  length = 0;
  readonly validity = new Validity();
  private offsets = new Int32Array(65);
  private count = 0;
  constructor(
    readonly type: Map_,
    private readonly entries: Struct,
    private readonly keys: Utf8Builder,
    private readonly values: Builder,
  ) {}
  append(value: NestedValue): void {
    const i = this.length++;
    this.validity.mark(i, value !== null);
    if (value !== null) {
      if (!Array.isArray(value)) throw shapeError('map', 'an array of [key, value] pairs', value);
      for (const pair of value) {
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') throw shapeError('map entry', 'a [string key, value] pair', pair as NestedValue);
        this.keys.append(pair[0]);
        this.values.append(pair[1] as NestedValue);
      }
      this.count += value.length;
    }
    this.offsets = room(this.offsets, i + 2);
    this.offsets[i + 1] = this.count;
  }
  finish(): Data {
    const n = this.length;
    const entries = makeData({ type: this.entries, length: this.count, nullCount: 0, children: [this.keys.finish(), this.values.finish()] });
    return makeData({ type: this.type, length: n, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(n), valueOffsets: room(this.offsets, n + 1).slice(0, n + 1), child: entries });
  }
}
