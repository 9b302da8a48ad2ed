/**
 * Lake's Presto text of a struct, map or array cell, read with its published
 * type as the guide, into a typed value: the contract between the reader
 * (readNested), the Arrow builder (formats/arrow-nested.ts) and typed NDJSON.
 *
 * The shape of a value follows its LakeType, which the caller always has:
 * - struct: an array with one entry per field, in the type's field order;
 * - map: an array of [key, value] pairs, in the text's order;
 * - array: an array of element values;
 * - primitive: string (string, binary), bigint (tinyint, smallint, int,
 *   bigint), number (float, double; timestamp and date as epoch
 *   milliseconds, UTC), boolean;
 * - null at any depth for Presto's `null`.
 *
 * The reading rule is lossless, never a guess: a text is read only when it
 * reads one way for its type, and is `{ ok: false }` otherwise, so that the
 * caller keeps the original text. The text has no quoting, so the type is
 * what makes it readable:
 *
 * - Structs. A field's value ends at the closing `}` or at `, NAME=` where
 *   NAME is a field of that struct (compared lower-cased, as Lake prints
 *   names). Fields are accepted in any order, each once, and a field the
 *   text does not name is null: Presto prints every field of the real type
 *   in its order, but the published type may order them otherwise or list
 *   fields the real type lacks. A `, NAME=` whose NAME is not a field is
 *   refused, since it may be a field the published type lacks (never drop
 *   data). When a name appears twice at one struct's level, some string
 *   value holds `, NAME=`. Every piece must then read as the type of the
 *   field it names, and the text is read only if exactly one choice of one
 *   occurrence per name fits: the other pieces, `, NAME=` and value, belong
 *   to the string value of the kept piece before them, which must be a
 *   string field, and all of it plain text (not JSON text only). So
 *   `{accountid=1, accountid=2, ...}` reads (the first piece is always a
 *   field), `{creationdate=<time>, mfaauthenticated=a, mfaauthenticated=b}`
 *   reads (a timestamp holds no `, `), and `{type=x, arn=y, arn=z}` does
 *   not. `{}` is refused: Presto prints no struct without fields.
 * - Maps. A value ends at the closing `}` or at the first `, KEY=` (see
 *   nested-scalar.ts for what a KEY is), as in presto-json.ts: `{a=x, b=y}`
 *   is two entries. A value that itself holds `, b=` at its top prints
 *   exactly like two entries (the text's own limit), so a map whose value
 *   holds `=` and is followed by another entry is refused: such a value
 *   looks like `KEY=VALUE` pairs of its own (`{q=a=b, c=d}` may be
 *   `q: "a=b, c=d"`), JSON text excepted. What no rule can see is a value
 *   with no `=` before its `, b=` (`{greeting=Hello, name=Bob}` may be one
 *   value): that reads as two entries. A key repeated, or a `, KEY=` inside
 *   a value's brackets, is refused. Keys are data (`__proto__` is a key like any
 *   other) and are kept as their text, checked against the key type. `{}`
 *   is the empty map.
 * - Arrays. Elements of a nested type end where their own text ends (a
 *   struct at its `}`); scalar elements at the first `, ` or the closing
 *   `]`, so `[a, b]` is two strings, always. `[]` is the empty array, so an
 *   array holding one empty string prints and reads as `[]` too.
 * - Scalars. See nested-scalar.ts for where a bare scalar ends (its `{}` and
 *   `[]` must balance with no separator inside; JSON text inside a string
 *   value reads as one string when it is canonical JSON) and what each
 *   primitive type accepts. The text `null` is null at any depth, a string
 *   field's included: Presto prints a null and the string `null` alike.
 * - Limits: text longer than MAX_NESTED_TEXT_LENGTH, nesting deeper than
 *   MAX_DEPTH, and texts that would cost more than a few passes are refused.
 */
import { quoted } from '../errors.js';
import { isPrimitive, type LakeArrayType, type LakeMapType, type LakePrimitiveKind, type LakeStructType, type LakeType } from './lake-type.js';
import { ARRAY, MAP, readPrimitive, ScalarScanner, STRUCT, TOP, type ScalarContext } from './nested-scalar.js';
import { ValueError } from './parse-value.js';
import { MAX_DEPTH } from './presto-json.js';

export type NestedValue = null | string | bigint | number | boolean | NestedValue[] | Array<[string, NestedValue]>;

/** The reading of one cell: its value, or the reason it cannot be read one way only for its type. */
export type NestedReading = { ok: true; value: NestedValue } | { ok: false; reason: string };

/**
 * The longest text read, in UTF-16 code units. A CloudTrail event is at
 * most 256 KB; the bound keeps a hostile cell from holding a reader long.
 */
export const MAX_NESTED_TEXT_LENGTH = 4 * 1024 * 1024;

/** How many readings of one struct with repeated field names are tried before the text is refused. */
const MAX_READINGS = 64;

/**
 * Reads one cell's Presto text as `type`. Never guesses: a text that has
 * two readings for the type (a map value holding `, key=`), does not balance,
 * names a struct field the type lacks, or holds a scalar that does not fit
 * its field's type is `{ ok: false }`, and the caller keeps the original text.
 */
export function readNested(text: string, type: LakeType): NestedReading {
  if (typeof text !== 'string') throw new TypeError(`readNested: the text must be a string, not ${typeof text}`);
  if (text.length === 0) return { ok: false, reason: 'the text is empty' };
  if (text.length > MAX_NESTED_TEXT_LENGTH) {
    return { ok: false, reason: `the text is ${text.length} characters long; the limit is ${MAX_NESTED_TEXT_LENGTH}` };
  }
  if (isPrimitive(type)) {
    try {
      return { ok: true, value: readPrimitive(text, type.kind) };
    } catch (error) {
      if (error instanceof ValueError) return { ok: false, reason: `${quoted(text, 40)} is ${error.message}` };
      throw error;
    }
  }
  const reader = new NestedReader(text);
  return reader.readValue(0, type, TOP, 0) >= 0 ? { ok: true, value: reader.value } : { ok: false, reason: reader.failure() };
}

/** One `name=value` of a struct, kept when a name repeats and the readings must be weighed. */
interface Piece {
  readonly index: number;
  readonly valueStart: number;
  readonly valueEnd: number;
  readonly value: NestedValue;
  /** Whether the value's text is also valid as part of a string (see plainText); undefined until asked. */
  plain: boolean | undefined;
}

/** A step of the path to a failure, innermost first: a field name, an array index, or a map key. */
type Step = string | number | { readonly key: string };

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A recursive-descent reader over one text, led by the type. Each read
 * method takes a start index and returns the index just past what it read,
 * or -1 with the reason; the value read is left in `value`. The path to a
 * failure is gathered only on the way out of one, so reading costs nothing
 * for it.
 */
class NestedReader extends ScalarScanner {
  value: NestedValue = null;
  /** Whether the last string read is valid as plain text, not only as JSON. */
  private plain = true;
  private readonly steps: Step[] = [];

  /** The reason, with the path to where it arose. */
  failure(): string {
    if (this.steps.length === 0) return this.reason;
    let path = '';
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const step = this.steps[i]!;
      if (typeof step === 'number') path += `[${step}]`;
      else if (typeof step === 'string') path += `${path === '' ? '' : '.'}${IDENTIFIER.test(step) ? step : quoted(step, 40)}`;
      else path += `[${quoted(step.key, 40)}]`;
    }
    if (path.length > 240) path = `${path.slice(0, 240)}...`;
    return `at ${path}: ${this.reason}`;
  }

  readValue(pos: number, type: LakeType, context: ScalarContext, depth: number): number {
    if (isPrimitive(type)) return this.readScalar(pos, type.kind, context, depth);
    if (depth >= MAX_DEPTH) return this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const text = this.text;
    if (text.startsWith('null', pos) && this.atEnd(pos + 4, context)) {
      this.value = null;
      return pos + 4;
    }
    const c = text.charCodeAt(pos);
    let end: number;
    if (type.kind === 'struct') end = c === OPEN_BRACE ? this.readStruct(pos, type, depth + 1, undefined) : this.expected('a struct {...}', pos);
    else if (type.kind === 'map') end = c === OPEN_BRACE ? this.readMap(pos, type, depth + 1) : this.expected('a map {...}', pos);
    else end = c === OPEN_BRACKET ? this.readArray(pos, type, depth + 1) : this.expected('an array [...]', pos);
    if (end >= 0 && !this.atEnd(end, context)) {
      return this.fail(`after the ${type.kind}, ${quoted(text.slice(end, end + 20))} where ${after(context)} must follow`);
    }
    return end;
  }

  private readScalar(pos: number, kind: LakePrimitiveKind, context: ScalarContext, depth: number): number {
    const string = kind === 'string' || kind === 'binary';
    const end = string ? this.stringEnd(pos, context, depth) : this.scalarEnd(pos, context, depth);
    if (end < 0) return -1;
    if (!string) this.plain = true;
    const raw = this.text.slice(pos, end);
    try {
      this.value = readPrimitive(raw, kind);
    } catch (error) {
      if (error instanceof ValueError) return this.fail(`${quoted(raw, 40)} is ${error.message}`);
      throw error;
    }
    return end;
  }

  /**
   * The end of a string value: its plain reading, or its reading as
   * canonical JSON text when it starts like JSON; both when they agree.
   * Sets `plain` to whether the plain reading fits.
   */
  private stringEnd(pos: number, context: ScalarContext, depth: number): number {
    const c = this.text.charCodeAt(pos);
    const lexical = this.scalarEnd(pos, context, depth);
    this.plain = lexical >= 0;
    if (c !== OPEN_BRACE && c !== OPEN_BRACKET) return lexical;
    const why = this.reason;
    const json = this.jsonEnd(pos, context, depth);
    if (json < 0) {
      this.reason = why;
      return lexical;
    }
    if (lexical >= 0 && lexical !== json) return this.fail('it reads both as JSON text and as plain text, which end in different places');
    return json;
  }

  /** A struct at `pos` (its `{`); `pieces` is set when reading again to weigh repeated names. */
  private readStruct(pos: number, type: LakeStructType, depth: number, pieces: Piece[] | undefined): number {
    const text = this.text;
    if (text.charCodeAt(pos + 1) === CLOSE_BRACE) return this.fail('"{}" names no field, and Presto prints every field of a struct');
    const fields = type.fields;
    const lowered = loweredNames(type);
    const values = new Array<NestedValue | undefined>(fields.length).fill(undefined); // packed, not holey
    let i = pos + 1;
    let next = 0; // the field Presto prints next when the published order is the real one
    for (;;) {
      const equals = this.keyEnd(i);
      if (equals < 0) return this.expected('a field name and "="', i);
      let index = next;
      const guess = lowered[next];
      // The name as printed, compared in place: no slice, no lookup, for a struct printed in the published order.
      if (guess === undefined || !sameText(text, i, equals, guess)) {
        const name = text.slice(i, equals);
        const field = type.byName.get(name) ?? type.byName.get(name.toLowerCase()); // Lake prints names lower-cased
        if (field === undefined) {
          return this.fail(
            `${quoted(name, 40)} is not a field of the type: a field the published type lacks, or text of the value before it; it cannot be told which`,
          );
        }
        index = fields.indexOf(field);
      }
      next = index + 1;
      const field = fields[index]!;
      const end = this.readValue(equals + 1, field.type, STRUCT, depth);
      if (end < 0) return this.failedAt(field.name);
      if (pieces !== undefined) {
        pieces.push({ index, valueStart: equals + 1, valueEnd: end, value: this.value, plain: isPrimitive(field.type) ? this.plain : undefined });
      } else if (values[index] !== undefined) {
        return this.readStruct(pos, type, depth, []); // a name repeats: read again, keeping every piece
      } else {
        values[index] = this.value;
      }
      if (text.charCodeAt(end) === CLOSE_BRACE) {
        if (pieces !== undefined && !this.weigh(pieces, type, depth, values)) return -1;
        for (let f = 0; f < values.length; f++) if (values[f] === undefined) values[f] = null;
        this.value = values as NestedValue[];
        return end + 1;
      }
      i = end + 2;
    }
  }

  /**
   * The one reading of a struct whose field names repeat, into `values`; false
   * (with the reason) when none or several fit. A reading keeps one
   * occurrence of each name; every other piece, with its `, name=`, belongs to
   * the string value of the kept piece before it, so that value must be a
   * string field, and every piece it takes in must be valid plain text.
   */
  private weigh(pieces: Piece[], type: LakeStructType, depth: number, values: Array<NestedValue | undefined>): boolean {
    const fields = type.fields;
    const occurrences = fields.map((): number[] => []);
    pieces.forEach((piece, p) => occurrences[piece.index]!.push(p));
    const repeated = occurrences.filter((list) => list.length > 1);
    const names = `(${repeated.map((list) => fields[pieces[list[0]!]!.index]!.name).join(', ')})`;
    let readings = 1;
    for (const list of repeated) {
      readings *= list.length;
      if (readings > MAX_READINGS) return this.refuse(`field names repeat ${names} too often to weigh the readings`);
    }
    const isString = (p: number) => {
      const kind = fields[pieces[p]!.index]!.type.kind;
      return kind === 'string' || kind === 'binary';
    };
    const kept = new Array<boolean>(pieces.length);
    let found = -1;
    for (let reading = 0; reading < readings; reading++) {
      kept.fill(true);
      let rest = reading;
      for (const list of repeated) {
        const choice = rest % list.length;
        rest = Math.floor(rest / list.length);
        list.forEach((p, n) => (kept[p] = n === choice));
      }
      if (!kept[0]) continue;
      let owner = 0;
      let fits = true;
      for (let p = 1; p < pieces.length && fits; p++) {
        if (kept[p]) owner = p;
        else fits = isString(owner) && this.plainText(pieces[owner]!, depth) && this.plainText(pieces[p]!, depth);
      }
      if (!fits) continue;
      if (found >= 0) {
        return this.refuse(`field names repeat ${names}, and a string value before one may hold ", name=": the text reads more than one way`);
      }
      found = reading;
    }
    if (found < 0) return this.refuse(`field names repeat ${names}, and no choice of one occurrence each reads`);
    let rest = found;
    kept.fill(true);
    for (const list of repeated) {
      const choice = rest % list.length;
      rest = Math.floor(rest / list.length);
      list.forEach((p, n) => (kept[p] = n === choice));
    }
    for (let p = 0; p < pieces.length; p++) {
      if (!kept[p]) continue;
      let last = p;
      while (last + 1 < pieces.length && !kept[last + 1]) last++;
      const piece = pieces[p]!;
      values[piece.index] = last === p ? piece.value : this.text.slice(piece.valueStart, pieces[last]!.valueEnd);
    }
    return true;
  }

  /** Whether a piece's value text is valid as plain text inside a string of its struct. */
  private plainText(piece: Piece, depth: number): boolean {
    if (piece.plain === undefined) {
      const why = this.reason;
      const text = this.text.slice(piece.valueStart, piece.valueEnd);
      piece.plain = text === 'null' || this.scalarEnd(piece.valueStart, STRUCT, depth) === piece.valueEnd;
      this.reason = why;
    }
    return piece.plain;
  }

  private readMap(pos: number, type: LakeMapType, depth: number): number {
    const text = this.text;
    if (text.charCodeAt(pos + 1) === CLOSE_BRACE) {
      this.value = [];
      return pos + 2;
    }
    const keyKind = type.key.kind;
    const entries: Array<[string, NestedValue]> = [];
    const seen = new Set<string>();
    let i = pos + 1;
    let equals = this.firstMapKeyEnd(i);
    for (;;) {
      if (equals < 0) return this.expected('a map key and "="', i);
      const key = text.slice(i, equals);
      let identity = key;
      if (keyKind !== 'string' && keyKind !== 'binary') {
        if (key === 'null') return this.fail('a map key that is null, which Presto does not allow');
        try {
          identity = String(readPrimitive(key, keyKind));
        } catch (error) {
          if (error instanceof ValueError) return this.fail(`the map key ${quoted(key, 40)} is ${error.message}`);
          throw error;
        }
      }
      if (seen.has(identity)) {
        return this.fail(`the map key ${quoted(key, 40)} appears twice: a value before it holds ", " and the key, or the text is no map`);
      }
      seen.add(identity);
      const end = this.readValue(equals + 1, type.value, MAP, depth);
      if (end < 0) return this.failedAt({ key });
      entries.push([key, this.value]);
      if (text.charCodeAt(end) === CLOSE_BRACE) {
        this.value = entries;
        return end + 1;
      }
      // Another entry follows. A value that holds `=` itself (`{q=a=b, c=d}`)
      // may be one value holding `, c=`: Presto prints `{q: "a=b, c=d"}` and
      // `{q: "a=b", c: "d"}` alike. Such a value looks like pairs of its own,
      // so the cell falls back rather than be split. JSON text is read whole.
      const value = this.value;
      if (typeof value === 'string' && value.includes('=') && !looksLikeJson(value)) {
        return this.fail(`the value of map key ${quoted(key, 40)} holds "=" and is followed by ", KEY=": it may be one value holding ", KEY=", which Presto prints as two entries`);
      }
      i = end + 2;
      equals = this.keyEnd(i);
    }
  }

  private readArray(pos: number, type: LakeArrayType, depth: number): number {
    const text = this.text;
    if (text.charCodeAt(pos + 1) === CLOSE_BRACKET) {
      this.value = [];
      return pos + 2;
    }
    const items: NestedValue[] = [];
    let i = pos + 1;
    for (let index = 0; ; index++) {
      const end = this.readValue(i, type.element, ARRAY, depth);
      if (end < 0) return this.failedAt(index);
      items.push(this.value);
      if (text.charCodeAt(end) === CLOSE_BRACKET) {
        this.value = items;
        return end + 1;
      }
      i = end + 2;
    }
  }

  private expected(what: string, pos: number): -1 {
    const found = pos >= this.text.length ? 'the end of the text' : quoted(this.text.slice(pos, pos + 20));
    return this.fail(`expected ${what}, found ${found}`);
  }

  private refuse(reason: string): false {
    this.reason = reason;
    return false;
  }

  private failedAt(step: Step): -1 {
    this.steps.push(step);
    return -1;
  }
}

const loweredCache = new WeakMap<LakeStructType, readonly string[]>();

/** A struct's field names lower-cased (the keys of its byName), in field order; computed once per type. */
function loweredNames(type: LakeStructType): readonly string[] {
  let names = loweredCache.get(type);
  if (names === undefined) {
    names = type.fields.map((field) => field.name.toLowerCase());
    loweredCache.set(type, names);
  }
  return names;
}

/** Whether text[start, end) is `name`. */
function sameText(text: string, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (text.charCodeAt(start + k) !== name.charCodeAt(k)) return false;
  return true;
}

/** What may follow a value, in words. */
function after(context: ScalarContext): string {
  if (context === TOP) return 'the end of the text';
  if (context === ARRAY) return '", " or "]"';
  return '", name=" or "}"';
}

/** Text that starts as JSON does (`{"`, `[`): read whole by its own rule (nested-scalar.ts), never split at a `, KEY=` inside it. */
function looksLikeJson(text: string): boolean {
  return text.startsWith('{"') || text.startsWith('[');
}
