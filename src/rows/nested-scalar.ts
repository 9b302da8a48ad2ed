/**
 * The bare scalars of Lake's Presto text, for readNested (nested-value.ts):
 * where one ends, and what it reads as for its primitive type.
 *
 * Presto prints a string inside a struct, map or array bare, so where it
 * ends is decided by what may follow it in its place (its context):
 * - in a struct or a map, the closing `}` or a separator `, KEY=`;
 * - in an array, the closing `]` or any `, `.
 * A scalar's `{}` and `[]` must balance, and no separator may fall inside
 * them: the text could then be cut there as well (a string `x[` followed by
 * a field, or a string holding `[a, b=c]`), so it is refused rather than
 * read one of the two ways. Parentheses are plain text: Presto prints no
 * structure with them, and a string holding one `(` (`:(`) is ordinary.
 *
 * What counts as `KEY` in `, KEY=`:
 * - in a struct, one or more characters that are not `=`, `,`, a bracket or
 *   white space (the reader then refuses a key that is not a field of the
 *   struct: a field the published type lacks, or text of the value; it
 *   cannot tell which);
 * - in a map, the same; and a would-be key holding white space (`, b FROM
 *   t WHERE x=`) or an empty one (`, =`) is ambiguous, since a map key may
 *   be any string: such a text is refused, not read either way.
 *
 * JSON inside a string. A string value that starts with `{"` or `[` is also
 * tried as JSON text, which extends to its matching bracket outside JSON
 * string literals; that reading counts only when the text is canonical JSON
 * (JSON.stringify of its own parse: compact, no duplicate keys) and is
 * followed by what its context allows. It is what lets
 * `{credentials={"accessKeyId":"ASIA...","expiration":"..."}}` and
 * `{"k":"v, x=y"}` read as one string each. When both readings fit and end
 * in different places, the text is ambiguous and refused.
 *
 * Cost: every scan is bounded by a budget proportional to the text
 * (`ScalarScanner.budget`), so no text, however built, costs more than a
 * few passes; a text that would is refused. Pure: no state outlives a scanner.
 */
import type { LakePrimitiveKind } from './lake-type.js';
import { isWhiteSpace, jsonExtent, mayStartJson, MAX_DEPTH } from './presto-json.js';
import { parseTimestamp, ValueError } from './parse-value.js';

/** What may follow a value: the end of the text, or the separators and closer of a struct, a map or an array. */
export type ScalarContext = typeof TOP | typeof STRUCT | typeof MAP | typeof ARRAY;
export const TOP = 0;
export const STRUCT = 1;
export const MAP = 2;
export const ARRAY = 3;

/** A primitive's value: string and binary as text, integers as bigint, float, double, timestamp and date as numbers. */
export type Primitive = null | string | bigint | number | boolean;

const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const EQUALS = 0x3d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** 1 for the characters a bare scalar's scan stops at: brackets and `,`. */
const MARKS = new Uint8Array(CLOSE_BRACE + 1);
for (const c of [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, COMMA]) MARKS[c] = 1;

/** For each ASCII character, what it is in a key (keyEnd): a character of it, its `=`, or one no key holds. */
const KEY_CHAR = 0;
const KEY_END = 1;
const NOT_IN_KEY = 2;
const KEY_MARKS = new Uint8Array(0x80);
KEY_MARKS[EQUALS] = KEY_END;
for (let c = 0; c < 0x80; c++) if (c === COMMA || c === OPEN_BRACE || c === CLOSE_BRACE || c === OPEN_BRACKET || c === CLOSE_BRACKET || isWhiteSpace(c)) KEY_MARKS[c] = NOT_IN_KEY;

/** What a `, ` at some index is in a context. */
const NOT_SEPARATOR = 0;
const SEPARATOR = 1;
const AMBIGUOUS = 2;

/**
 * Scans one text. Each method returns an index (the end of what it read) or
 * -1, and on -1 leaves the reason in `reason`.
 */
export class ScalarScanner {
  reason = '';
  /** Characters the scans may still visit; when spent, the text is refused as too costly. */
  protected budget: number;
  protected readonly text: string;
  private lastKeyStart = -1;
  private lastKeyEnd = -1;

  constructor(text: string) {
    this.text = text;
    this.budget = 8 * text.length + 65_536;
  }

  protected fail(reason: string): -1 {
    this.reason = reason;
    return -1;
  }

  /**
   * The end of a bare scalar starting at `pos` in `context` (not TOP): the
   * index of the separator or closer that ends it. `depth` is the nesting
   * of the scalar's place, which its own brackets add to.
   */
  scalarEnd(pos: number, context: ScalarContext, depth: number): number {
    const end = this.scanScalar(pos, context, depth);
    return this.spend(Math.abs(end) - pos) ? (end >= 0 ? end : -1) : -1;
  }

  /** scalarEnd's scan: the end, or -1 minus the index where it stopped (with the reason). */
  private scanScalar(pos: number, context: ScalarContext, depth: number): number {
    const text = this.text;
    const closer = context === ARRAY ? CLOSE_BRACKET : CLOSE_BRACE;
    let open: number[] | undefined; // closers expected, allocated on the first bracket
    let i = pos;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > CLOSE_BRACE || MARKS[c] === 0) continue; // most characters: one test and one load
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        (open ??= []).push(c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET);
        if (depth + open.length > MAX_DEPTH) return this.stoppedAt(i, `brackets nest deeper than ${MAX_DEPTH}`);
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (open === undefined || open.length === 0) {
          return c === closer ? i : this.stoppedAt(i, `an unmatched ${String.fromCharCode(c)}`);
        }
        if (open.pop() !== c) return this.stoppedAt(i, `brackets that do not match (${String.fromCharCode(c)})`);
      } else if (c === COMMA && text.charCodeAt(i + 1) === SPACE) {
        const kind = this.separatorAt(i, context);
        if (kind === NOT_SEPARATOR) continue;
        if (open !== undefined && open.length > 0) return this.stoppedAt(i, 'a separator inside brackets, where the text could be cut as well');
        if (kind === AMBIGUOUS) return this.stoppedAt(i, 'a ", " then "=" that could start a map key holding white space, or be text');
        return i;
      }
    }
    return this.stoppedAt(i, open !== undefined && open.length > 0 ? 'an unclosed bracket' : 'no closing bracket');
  }

  /**
   * The end of the canonical JSON text of an object or array at `pos`,
   * followed by what `context` allows; -1 (with no reason) when there is
   * none. Only a string's value is read so.
   */
  jsonEnd(pos: number, context: ScalarContext, depth: number): number {
    const text = this.text;
    if (!mayStartJson(text, pos)) return -1;
    const end = jsonExtent(text, pos, MAX_DEPTH - depth);
    if (!this.spend(3 * (Math.abs(end) - pos))) return -1;
    if (end < 0 || !this.atEnd(end, context)) return -1;
    const source = text.slice(pos, end);
    try {
      return JSON.stringify(JSON.parse(source)) === source ? end : -1;
    } catch {
      return -1;
    }
  }

  /** Whether a value ending at `end` is followed by its context's closer or a separator. */
  atEnd(end: number, context: ScalarContext): boolean {
    const text = this.text;
    if (context === TOP) return end === text.length;
    const c = text.charCodeAt(end);
    if (c === (context === ARRAY ? CLOSE_BRACKET : CLOSE_BRACE)) return true;
    return c === COMMA && text.charCodeAt(end + 1) === SPACE && this.separatorAt(end, context) === SEPARATOR;
  }

  /**
   * The index of the `=` that ends a key at `pos` (one or more characters,
   * none of them `=`, `,`, a bracket or white space), or -1.
   */
  keyEnd(pos: number): number {
    // A separator's key is looked at twice, when the value before it ends and when the key is read.
    if (pos === this.lastKeyStart) return this.lastKeyEnd;
    const text = this.text;
    let end = -1;
    for (let i = pos; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        const mark = KEY_MARKS[c]!;
        if (mark === KEY_CHAR) continue;
        if (mark === KEY_END && i > pos) end = i;
        break;
      }
      if (isWhiteSpace(c)) break;
    }
    this.lastKeyStart = pos;
    this.lastKeyEnd = end;
    return end;
  }

  /**
   * The index of the `=` that ends a map's first key, which may hold white
   * space or be empty (nothing before it could have been cut), or -1.
   */
  firstMapKeyEnd(pos: number): number {
    const text = this.text;
    for (let i = pos; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === EQUALS) return i;
      if (c === COMMA || c === OPEN_BRACE || c === CLOSE_BRACE || c === OPEN_BRACKET || c === CLOSE_BRACKET) return -1;
    }
    return -1;
  }

  private stoppedAt(i: number, reason: string): number {
    this.reason = reason;
    return -i - 1;
  }

  /** What the `, ` at `i` is in `context`; see the module comment. */
  private separatorAt(i: number, context: ScalarContext): number {
    if (context === ARRAY) return SEPARATOR;
    if (context === STRUCT) return this.keyEnd(i + 2) >= 0 ? SEPARATOR : NOT_SEPARATOR;
    if (context !== MAP) return NOT_SEPARATOR;
    const text = this.text;
    let space = false;
    for (let j = i + 2; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === EQUALS) return j === i + 2 || space ? AMBIGUOUS : SEPARATOR;
      if (c === COMMA || c === OPEN_BRACE || c === CLOSE_BRACE || c === OPEN_BRACKET || c === CLOSE_BRACKET) return NOT_SEPARATOR;
      if (isWhiteSpace(c)) space = true;
    }
    return NOT_SEPARATOR;
  }

  /** Takes `n` characters from the budget; false (with the reason) when it is spent. */
  protected spend(n: number): boolean {
    this.budget -= n;
    if (this.budget >= 0) return true;
    this.reason = 'the text would take too long to read';
    return false;
  }
}

const INTEGER = /^[+-]?\d{1,19}$/;
const DOUBLE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^(?:NaN|[+-]?Infinity)$/;
const DATE = /^\d{4}-\d\d-\d\d$/;
const INTEGER_RANGE: Readonly<Partial<Record<LakePrimitiveKind, readonly [bigint, bigint]>>> = Object.freeze({
  tinyint: [-(2n ** 7n), 2n ** 7n - 1n],
  smallint: [-(2n ** 15n), 2n ** 15n - 1n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  bigint: [-(2n ** 63n), 2n ** 63n - 1n],
});

/**
 * A scalar's text as its primitive type, losslessly or not at all: throws
 * ValueError (a short phrase, with no value in it) when it does not fit.
 * `null` is null for every type, a string's included: Presto prints a null
 * so, and a string that is the four letters `null` prints the same, an
 * ambiguity of the text itself that no reader can undo.
 */
export function readPrimitive(text: string, kind: LakePrimitiveKind): Primitive {
  if (text === 'null') return null;
  switch (kind) {
    case 'string':
    case 'binary':
      return text;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw new ValueError('not true or false');
    }
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint': {
      if (!INTEGER.test(text)) throw new ValueError(`not a whole number (${kind})`);
      const value = BigInt(text);
      const [min, max] = INTEGER_RANGE[kind]!;
      if (value < min || value > max) throw new ValueError(`outside the ${kind} range`);
      return value;
    }
    case 'float':
    case 'double':
      if (!DOUBLE.test(text)) throw new ValueError(`not a number (${kind})`);
      return Number(text);
    case 'timestamp':
      return parseTimestamp(text);
    case 'date':
      if (!DATE.test(text)) throw new ValueError('not a date such as 2023-01-22');
      return parseTimestamp(text);
  }
}

