/**
 * Presto text of a nested cell to JSON, for `--nested json`.
 *
 * CloudTrail Lake hands every cell back as a string, and rows, maps and lists
 * in the text form of Presto's CLI (see src/emulator/presto-text.ts):
 * `{name=value, ...}`, `[a, b]`, strings bare and unquoted, a nested NULL as
 * `null`. That text has no quoting, so it is only a partial code: a string
 * that contains `, x=` prints exactly like a field boundary. This module reads
 * the text back where exactly one reading fits, and gives up otherwise, so
 * that the caller keeps the original string. It never guesses.
 *
 * The grammar read:
 *
 *   value  = object | list | scalar            (`null` is the scalar for null)
 *   object = "{}" | "{" key "=" value *(", " key "=" value) "}"
 *   list   = "[]" | "[" value *(", " value) "]"
 *   key    = 1*(any character but `=`, `,`, `{`, `}`, `[`, `]` or white space)
 *
 * Scalars become JSON strings exactly as printed, never numbers or booleans:
 * `accountid=123456789012` and `mfaauthenticated=true` stay strings, because
 * the text does not say whether the column was a string.
 *
 * The ambiguity rule. A scalar in an object ends at the closing `}` or at the
 * first `, ` followed by `key=`; a scalar in a list ends at the closing `]` or
 * at the first `, `. The reading is rejected (undefined) whenever a scalar
 * could have been cut somewhere else:
 * - its `{}` `[]` or `()` do not balance, or a separator (`, key=` in an
 *   object, any `, ` in a list) falls inside its brackets or parentheses,
 *   because then a boundary may sit inside what was one string, or the
 *   string may hold a boundary (`{ua=Mozilla (X11, Linux)}` reads, but
 *   `{ua=x (a, b=c)}` and `[Mozilla (X11, Linux)]` do not);
 * - it starts with `{` or `[` (a value that starts so must read as a nested
 *   object or list, or as embedded JSON, below).
 * A `, ` not followed by `key=` cannot be an object boundary, so
 * `{useragent=Mozilla/5.0 (X11, Linux)}` reads as one string. What no rule can
 * see is a string that itself holds `, key=` at the top (`{a=x, b=y}` is two
 * fields, always), or a list element holding `, ` (`[a, b]` is two elements,
 * always): Presto prints those exactly like structure, and the structural
 * reading is the one taken. Callers must know that a string column whose
 * value merely looks like a list (the S3 console's user agent
 * `[S3Console/0.4, aws-internal/3 ...]`) reads as one.
 *
 * Embedded JSON. Map values of requestParameters and responseElements often
 * hold JSON text (`{credentials={"accessKeyId":"ASIA..."}}`). A value that
 * starts with `{"` or `[` is also tried as JSON, and that reading counts only
 * when the text is canonical JSON, that is JSON.stringify of its own parse,
 * so that nothing is lost (no big numbers rounded, no duplicate keys dropped,
 * no escapes or spacing rewritten). When both the Presto and the JSON reading
 * fit, they must agree on the structure and on the text of every scalar (`[]`,
 * `[null]`, `[1]`, `[{"a":1}]`), and the Presto reading is kept; when they
 * disagree (`[1,2]` is the one string `1,2` in Presto, two numbers in JSON;
 * `["a"]`), the cell is ambiguous.
 *
 * Objects must also survive as JSON objects: a repeated key, or small
 * integer keys out of ascending order (which JavaScript would reorder), make
 * the cell unreadable rather than silently reshaped.
 *
 * Cost: one left-to-right pass with look-ahead only over the next key, so
 * linear in the text, except that a `[` or `{"` is also scanned as JSON; with
 * nesting capped at MAX_DEPTH that is at most MAX_DEPTH passes. Strings are
 * slices of the input. Pure: no state survives a call.
 */

/** A JSON value as JSON.parse returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Nesting deeper than this is not read. CloudTrail's deepest record
 * (userIdentity.sessionContext.webIdFederationData...) nests about five
 * levels; the cap bounds both recursion and the JSON re-scans.
 */
export const MAX_DEPTH = 32;

/**
 * The JSON text (compact, as JSON.stringify writes it) of a Presto object or
 * list, or undefined when `text` is not one or does not read unambiguously;
 * the caller then keeps `text` as a string. See the module comment for the rule.
 */
export function prestoToJson(text: string): string | undefined {
  const value = prestoValueToJson(text);
  return value === undefined ? undefined : JSON.stringify(value);
}

/**
 * The value of a Presto object or list, or undefined as for prestoToJson.
 * The result is always an object or an array whose scalars are strings or
 * null, except inside embedded JSON, which keeps its own types.
 */
export function prestoValueToJson(text: string): JsonValue | undefined {
  const first = text.charCodeAt(0);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) return undefined;
  const reader = new PrestoReader(text);
  return reader.readValue(0, TOP, 0) >= 0 ? reader.value : undefined;
}

// Where a value sits, which decides what may follow it.
type Context = typeof TOP | typeof OBJECT | typeof LIST;
const TOP = 0;
const OBJECT = 1;
const LIST = 2;

const SPACE = 0x20;
const QUOTE = 0x22;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const COMMA = 0x2c;
const MINUS = 0x2d;
const EQUALS = 0x3d;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * A recursive-descent reader over one text. Each read method takes a start
 * index and returns the index just past what it read, or -1 when it cannot
 * read there; the value read is left in `value`.
 */
class PrestoReader {
  value: JsonValue = null;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** A value, which must be followed by what `context` allows (see atEnd). */
  readValue(pos: number, context: Context, depth: number): number {
    const c = this.text.charCodeAt(pos);
    if (c !== OPEN_BRACE && c !== OPEN_BRACKET) return this.readScalar(pos, context);
    if (depth >= MAX_DEPTH) return -1;
    let end = c === OPEN_BRACE ? this.readObject(pos, depth + 1) : this.readList(pos, depth + 1);
    if (end >= 0 && !this.atEnd(end, context)) end = -1;
    if (!mayStartJson(this.text, pos)) return end;
    const presto = this.value;
    const jsonEnd = this.readJson(pos, context, depth);
    if (jsonEnd < 0) {
      this.value = presto;
      return end;
    }
    if (end < 0) return jsonEnd;
    if (end !== jsonEnd || !sameText(presto, this.value)) return -1;
    this.value = presto;
    return end;
  }

  private readObject(pos: number, depth: number): number {
    const text = this.text;
    const object: { [key: string]: JsonValue } = {};
    let i = pos + 1;
    if (text.charCodeAt(i) === CLOSE_BRACE) {
      this.value = object;
      return i + 1;
    }
    // JavaScript lists integer keys first and ascending; refuse any other
    // order rather than let JSON.stringify reorder the fields.
    let lastIndex = -1;
    let named = false;
    for (;;) {
      const equals = this.keyEnd(i);
      if (equals < 0) return -1;
      const key = text.slice(i, equals);
      if (Object.hasOwn(object, key)) return -1;
      const index = arrayIndex(key);
      if (index < 0) named = true;
      else if (named || index <= lastIndex) return -1;
      else lastIndex = index;
      const end = this.readValue(equals + 1, OBJECT, depth);
      if (end < 0) return -1;
      if (key === '__proto__') {
        Object.defineProperty(object, key, { value: this.value, enumerable: true, writable: true, configurable: true });
      } else {
        object[key] = this.value;
      }
      if (text.charCodeAt(end) === CLOSE_BRACE) {
        this.value = object;
        return end + 1;
      }
      i = end + 2; // past ", "; readValue checked that a key follows
    }
  }

  private readList(pos: number, depth: number): number {
    const text = this.text;
    const list: JsonValue[] = [];
    let i = pos + 1;
    if (text.charCodeAt(i) === CLOSE_BRACKET) {
      this.value = list;
      return i + 1;
    }
    for (;;) {
      const end = this.readValue(i, LIST, depth);
      if (end < 0) return -1;
      list.push(this.value);
      if (text.charCodeAt(end) === CLOSE_BRACKET) {
        this.value = list;
        return end + 1;
      }
      i = end + 2;
    }
  }

  /**
   * A bare string up to the separator or closer of its context. Brackets and
   * parentheses inside it must balance and hold no separator; see the module
   * comment for why.
   */
  private readScalar(pos: number, context: Context): number {
    const text = this.text;
    const closer = context === LIST ? CLOSE_BRACKET : CLOSE_BRACE;
    let open: number[] | undefined; // brackets open inside the scalar, allocated on first use
    let parens = 0;
    for (let i = pos; i < text.length; i++) {
      const c = text.charCodeAt(i);
      switch (c) {
        case OPEN_BRACE:
        case OPEN_BRACKET:
          (open ??= []).push(c);
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          if (open === undefined || open.length === 0) {
            return c === closer ? this.endScalar(pos, i, parens) : -1;
          }
          if (open.pop() !== (c === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET)) return -1;
          break;
        case OPEN_PAREN:
          parens++;
          break;
        case CLOSE_PAREN:
          if (parens === 0) return -1;
          parens--;
          break;
        case COMMA:
          if (text.charCodeAt(i + 1) !== SPACE) break;
          if (context === OBJECT && this.keyEnd(i + 2) < 0) break;
          if (open !== undefined && open.length > 0) return -1;
          return this.endScalar(pos, i, parens);
      }
    }
    return -1; // ran off the end: unclosed container
  }

  private endScalar(pos: number, end: number, parens: number): number {
    if (parens !== 0) return -1;
    const scalar = this.text.slice(pos, end);
    this.value = scalar === 'null' ? null : scalar;
    return end;
  }

  /**
   * Canonical JSON text of an object or list at `pos`, followed by what
   * `context` allows. Leaves the parsed value in `value`.
   */
  private readJson(pos: number, context: Context, depth: number): number {
    const end = jsonExtent(this.text, pos, MAX_DEPTH - depth);
    if (end < 0 || !this.atEnd(end, context)) return -1;
    const source = this.text.slice(pos, end);
    try {
      const parsed = JSON.parse(source) as JsonValue;
      if (JSON.stringify(parsed) !== source) return -1;
      this.value = parsed;
      return end;
    } catch {
      return -1;
    }
  }

  /** Whether a value ending at `end` is followed by its context's separator or closer. */
  private atEnd(end: number, context: Context): boolean {
    const text = this.text;
    if (context === TOP) return end === text.length;
    const c = text.charCodeAt(end);
    if (context === LIST) return c === CLOSE_BRACKET || (c === COMMA && text.charCodeAt(end + 1) === SPACE);
    return c === CLOSE_BRACE || (c === COMMA && text.charCodeAt(end + 1) === SPACE && this.keyEnd(end + 2) >= 0);
  }

  /** The index of the `=` after a non-empty key starting at `pos`, or -1. */
  private keyEnd(pos: number): number {
    const text = this.text;
    for (let i = pos; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === EQUALS) return i > pos ? i : -1;
      if (c === COMMA || c === OPEN_BRACE || c === CLOSE_BRACE || c === OPEN_BRACKET || c === CLOSE_BRACKET) return -1;
      if (isWhiteSpace(c)) return -1;
    }
    return -1;
  }
}

/**
 * Whether the object or array at `pos` could start JSON as well as Presto
 * text: `{"` opens a JSON object, and `[` followed by what a JSON value
 * starts with (a quote, a bracket, a digit, `-`, t(rue), f(alse), n(ull))
 * opens a JSON array. Anything else is Presto text only.
 */
export function mayStartJson(text: string, pos: number): boolean {
  const c = text.charCodeAt(pos);
  const next = text.charCodeAt(pos + 1);
  if (c === OPEN_BRACE) return next === QUOTE;
  return (
    c === OPEN_BRACKET &&
    (next === QUOTE ||
      next === OPEN_BRACE ||
      next === OPEN_BRACKET ||
      next === CLOSE_BRACKET ||
      next === MINUS ||
      (next >= 0x30 && next <= 0x39) ||
      next === 0x74 || // t(rue)
      next === 0x66 || // f(alse)
      next === 0x6e) // n(ull)
  );
}

/**
 * The end of the JSON object or list at `pos`, found by matching brackets
 * outside strings; when there is none, a negative number, `-(i + 1)` for the
 * index `i` where the scan stopped (so a caller can count what it scanned).
 * Canonical JSON has no white space outside strings, so any stops the scan
 * early; JSON.parse validates the rest. Shared with nested-scalar.ts.
 */
export function jsonExtent(text: string, pos: number, maxDepth: number): number {
  let depth = 0;
  let i = pos;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; ; i++) {
        if (i >= text.length) return -i - 1;
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return -i - 1;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) return i + 1;
    } else if (isWhiteSpace(c)) {
      return -i - 1;
    }
  }
  return -i - 1;
}

/**
 * Whether a Presto reading and a JSON reading of the same text say the same
 * thing: same structure, same keys in the same order, and every Presto string
 * equal to the JSON text of the JSON scalar in its place (`"1"` and 1 agree).
 */
function sameText(presto: JsonValue, json: JsonValue): boolean {
  if (json === null || typeof json !== 'object') {
    if (typeof presto === 'string' && typeof json !== 'string') return presto === JSON.stringify(json);
    return presto === json;
  }
  if (presto === null || typeof presto !== 'object') return false;
  if (Array.isArray(json)) {
    if (!Array.isArray(presto) || presto.length !== json.length) return false;
    for (let i = 0; i < json.length; i++) {
      if (!sameText(presto[i] as JsonValue, json[i] as JsonValue)) return false;
    }
    return true;
  }
  if (Array.isArray(presto)) return false;
  const keys = Object.keys(json);
  const prestoKeys = Object.keys(presto);
  if (keys.length !== prestoKeys.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (prestoKeys[i] !== key || !sameText(presto[key] as JsonValue, json[key] as JsonValue)) return false;
  }
  return true;
}

/** The array index a key names (JavaScript orders those keys first), or -1. */
function arrayIndex(key: string): number {
  const first = key.charCodeAt(0);
  if (first < 0x30 || first > 0x39 || key.length > 10 || (first === 0x30 && key.length > 1)) return -1;
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  const index = Number(key);
  return index < 4294967295 ? index : -1;
}

/** JavaScript's `\s`: the white space a key may not contain. */
export function isWhiteSpace(c: number): boolean {
  if (c < 0x80) return c === SPACE || (c >= 0x09 && c <= 0x0d);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}
