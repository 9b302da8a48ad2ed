import { quoted } from '../errors.js';
import { parseTimestamp } from '../rows/parse-value.js';
import { COLUMN_TYPES, parseColumnSpec, type ColumnType } from '../rows/column-types.js';
import { inRange } from '../jobs/time-windows.js';
import { duration, fraction, integer, oneOf, size, usage } from './args.js';

/**
 * The checks that flag tables declare (FlagSpec.read): each turns the text
 * of a flag into its value, or throws a usage error (exit 2) that names the
 * flag and quotes the text. A module of its own, apart from args.ts, so that
 * main.ts, which needs args.ts, loads none of the parsers these use.
 */
export type Reader<T> = (text: string, flag: string) => T;

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number): Reader<number> {
  return (text, flag) => integer(text, flag, min, max);
}

/** A number from 0 to 1 (a share of requests). */
export const share: Reader<number> = (text, flag) => fraction(text, flag);

/** `1500ms`, `90s`, `15m`, `24h`, `7d` (and plain milliseconds) to milliseconds. */
export const milliseconds: Reader<number> = (text, flag) => duration(text, flag);

/** A duration from `min` to `max` milliseconds; `range` says them as the user writes them (`1m to 366d`). */
export function durationWithin(min: number, max: number, range: string, why = ''): Reader<number> {
  return (text, flag) => {
    const ms = duration(text, flag);
    if (ms < min || ms > max) throw usage(`${flag} must be from ${range}${why}, not ${quoted(text)}`);
    return ms;
  };
}

/** `128MB`, `1GiB`, `5000000` to bytes, at least `min`. */
export function bytes(min = 1): Reader<number> {
  return (text, flag) => size(text, flag, min);
}

/** One of a few words. */
export function word<T extends string>(allowed: readonly T[]): Reader<T> {
  return (text, flag) => oneOf(text, flag, allowed)!;
}

/** A number of dollars, 0 or more. */
export const dollars: Reader<number> = (text, flag) => {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw usage(`${flag} must be a number of dollars, not '${text}'`);
  return value;
};

/** A UTC time (`2026-01-01T00:00:00Z`, `'2026-01-01 00:00:00'`) from 1970 to 9999, to epoch milliseconds. */
export const utcTime: Reader<number> = (text, flag) => {
  let ms: number;
  try {
    ms = parseTimestamp(text.trim());
  } catch {
    throw usage(`${flag} must be a UTC time such as 2026-01-01T00:00:00Z or '2026-01-01 00:00:00', not ${quoted(text)}`);
  }
  // Date.UTC reads years 0 to 99 as 1900 to 1999, so the year is checked as written too.
  if (!inRange(ms) || Number(text.trim().slice(0, 4)) < 1970) throw usage(`${flag} must be a UTC time from 1970-01-01 to 9999-12-31, not ${quoted(text)}: check its year`);
  return ms;
};

/** `NAME:TYPE`, a column and the type it is declared (`--column`). */
export const columnType: Reader<{ name: string; type: ColumnType }> = (text, flag) => {
  try {
    return parseColumnSpec(text);
  } catch {
    throw usage(`${flag} must be NAME:TYPE with TYPE one of ${COLUMN_TYPES.join(', ')}, not ${quoted(text)}`);
  }
};

/** Requests a second: a number above 0, at most 1000. */
export const perSecond: Reader<number> = (text, flag) => {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 1000) throw usage(`${flag} must be a number of requests a second, above 0 and at most 1000, not '${text}'`);
  return value;
};
