import { CtlakeError, quoted } from '../errors.js';
import type { ColumnType } from './column-types.js';
import { prestoToJson } from './presto-json.js';

/** A cell parsed to its column's type. int64 is a bigint, timestamp epoch milliseconds (UTC). */
export type TypedValue = string | bigint | number | boolean | null;

/** Why a cell does not parse as its column's type; the caller adds the column, row and fix. */
export class ValueError extends Error {}

const INT64 = /^[+-]?\d{1,19}$/;
const DOUBLE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^(?:NaN|[+-]?Infinity)$/;
/** Lake's `2023-01-22 16:53:53.000` (UTC, no zone) and ISO-8601 with `T`, a zone or neither; a date alone (with no zone). */
const TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:?\d\d)?)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses one cell for a column of `type`, losslessly or not at all: a value
 * that does not fit throws ValueError, never a guess. An absent cell (null)
 * stays null; so does the text `null` in a column that is not a string,
 * which is how Lake writes a null inside expressions. A string column keeps
 * every text exactly, `null` included. A json column holds JSON text: the
 * cell itself when it is JSON, its Presto text turned into JSON when that is
 * unambiguous, else the original text (see presto-json.ts).
 */
export function parseValue(text: string | null, type: ColumnType): TypedValue {
  if (text === null) return null;
  if (type === 'string') return text;
  if (text === 'null') return null;
  switch (type) {
    case 'int64': {
      if (!INT64.test(text)) throw new ValueError('not a whole number');
      const value = BigInt(text);
      if (value < INT64_MIN || value > INT64_MAX) throw new ValueError('outside the int64 range');
      return value;
    }
    case 'double':
      if (!DOUBLE.test(text)) throw new ValueError('not a number');
      return Number(text);
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw new ValueError('not true or false');
    }
    case 'timestamp':
      return parseTimestamp(text);
    case 'json':
      return jsonCell(text).text;
    case 'nested':
      throw new Error('internal: a nested cell is read with readNested');
  }
}

/** Epoch milliseconds of a Lake or ISO-8601 timestamp; a time with no zone is UTC. */
export function parseTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new ValueError('not a timestamp such as 2023-01-22 16:53:53.000 or 2023-01-22T16:53:53Z');
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = m;
  if (fraction.length > 3 && /[1-9]/.test(fraction.slice(3))) throw new ValueError('finer than milliseconds, which a timestamp column keeps');
  const ms = Number((fraction + '00').slice(0, 3));
  const year = Number(y);
  let epoch = Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  // Date.UTC reads years 0 to 99 as 1900 to 1999 (0099-01-01 would become 1999): set the year as written.
  if (year < 100) epoch = new Date(epoch).setUTCFullYear(year, Number(mo) - 1, Number(d));
  const check = new Date(epoch);
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    throw new ValueError('not a valid date and time');
  }
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    epoch -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return epoch;
}

/**
 * A json column's cell: `json` true when `text` is JSON (the cell itself, or
 * its Presto text turned into JSON), false when it is the original text
 * kept because it is neither.
 */
export function jsonCell(cell: string): { json: boolean; text: string } {
  const first = cell.trimStart()[0];
  if (first === '{' || first === '[' || first === '"') {
    try {
      JSON.parse(cell);
      return { json: true, text: cell };
    } catch {
      // not JSON: maybe Presto text
    }
  }
  const converted = prestoToJson(cell);
  return converted === undefined ? { json: false, text: cell } : { json: true, text: converted };
}

/**
 * A column's name as a message shows it: as it is when it is a plain
 * identifier (`eventTime`, `_col0`, `arn_2`), else JSON-quoted and cut by
 * `quoted`, so that a name holding a newline, a NUL or 10,000 characters
 * still makes one short line.
 */
export function columnLabel(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.$-]{0,79}$/.test(name) ? name : quoted(name);
}

/** The error for a cell that does not fit: names the column, the 1-based row and the value, and the fix. */
export function invalidValue(column: string, row: number, text: string | null, error: ValueError): CtlakeError {
  const label = columnLabel(column);
  return new CtlakeError('VALUE_INVALID', `column ${label}, row ${row}: ${text === null ? 'null' : quoted(text)} is ${error.message}; export it as text with --column ${label}:string`, { column });
}

// ES2024, in Node 20; the project's lib is ES2023.
const isWellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean }).isWellFormed;

/**
 * Whether `text` is well-formed UTF-16, so that UTF-8 holds it exactly: no
 * lone surrogate (`"\ud800"`, which Lake's JSON wire can carry), which any
 * UTF-8 encoder turns into U+FFFD.
 */
export function wellFormed(text: string): boolean {
  return isWellFormed.call(text);
}

/** The error for a text that `format` (UTF-8) cannot hold exactly: a lone surrogate would become U+FFFD. */
export function unencodableValue(column: string, row: number, text: string, format: string): CtlakeError {
  return new CtlakeError(
    'VALUE_INVALID',
    `column ${columnLabel(column)}, row ${row}: ${quoted(text)} holds a lone UTF-16 surrogate, which ${format} (UTF-8) cannot hold; export as NDJSON, which keeps it`,
    { column },
  );
}

/**
 * JSON text with every lone surrogate written as a `\uXXXX` escape: the same
 * JSON value, in text that UTF-8 holds exactly. A lone surrogate in text
 * that JSON.parse accepts is inside a string, where the escape means it.
 */
export function escapeLoneSurrogates(json: string): string {
  return json.replace(/[\ud800-\udfff]/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
