import type * as DuckDB from '@duckdb/node-api';
import type { DuckDBValue } from '@duckdb/node-api';

/**
 * DuckDB values as CloudTrail Lake prints them in GetQueryResults.
 *
 * Lake runs on Presto/Trino and hands every cell back as a string, in the
 * text form Presto's CLI uses:
 *
 * - timestamps `YYYY-MM-DD HH:MM:SS.fff` (UTC, always three decimals, no
 *   zone; a TIMESTAMP WITH TIME ZONE adds ` UTC`), times `HH:MM:SS.fff`;
 * - booleans `true`/`false`, numbers as plain decimal text (no `n` suffix);
 * - rows (structs) `{name=value, ...}` with field names lowercased, because
 *   Lake's catalog stores nested field names in lower case;
 * - maps `{key=value, ...}`, lists `[a, b, c]`, joined by `, `;
 * - strings bare, unquoted even inside structs and lists; a nested NULL as
 *   `null`. A top-level NULL is no cell at all, which is the caller's part.
 *
 * This module only needs DuckDB's value classes to tell them apart (a
 * TIMESTAMP and a TIME both carry `micros`), so they are passed in rather
 * than imported: the emulator loads the optional @duckdb/node-api lazily, and
 * importing this file must not load it.
 */

/** The value classes of @duckdb/node-api that rendering has to tell apart. */
export type DuckDBValueClasses = Pick<
  typeof DuckDB,
  | 'DuckDBArrayValue'
  | 'DuckDBListValue'
  | 'DuckDBMapValue'
  | 'DuckDBStructValue'
  | 'DuckDBUnionValue'
  | 'DuckDBVariantValue'
  | 'DuckDBTimestampValue'
  | 'DuckDBTimestampTZValue'
  | 'DuckDBTimestampSecondsValue'
  | 'DuckDBTimestampMillisecondsValue'
  | 'DuckDBTimestampNanosecondsValue'
  | 'DuckDBTimeValue'
  | 'DuckDBTimeNSValue'
>;

/** Renders one DuckDB value as Lake text; NULL (at any depth) is `null`. */
export type PrestoRenderer = (value: DuckDBValue) => string;

export function prestoRenderer(api: DuckDBValueClasses): PrestoRenderer {
  const render = (value: DuckDBValue): string => {
    if (value === null) return 'null';
    switch (typeof value) {
      case 'string':
        return value;
      case 'boolean':
        return value ? 'true' : 'false';
      case 'number':
        return formatNumber(value);
      case 'bigint':
        return value.toString();
    }
    if (value instanceof api.DuckDBStructValue) {
      const fields = Object.entries(value.entries).map(([name, field]) => `${name.toLowerCase()}=${render(field)}`);
      return `{${fields.join(', ')}}`;
    }
    if (value instanceof api.DuckDBMapValue) {
      return `{${value.entries.map(({ key, value: entry }) => `${render(key)}=${render(entry)}`).join(', ')}}`;
    }
    if (value instanceof api.DuckDBListValue || value instanceof api.DuckDBArrayValue) {
      return `[${value.items.map(render).join(', ')}]`;
    }
    if (value instanceof api.DuckDBUnionValue || value instanceof api.DuckDBVariantValue) return render(value.value);
    if (value instanceof api.DuckDBTimestampValue) return formatTimestamp(value.micros, value.isFinite, value);
    if (value instanceof api.DuckDBTimestampTZValue) return `${formatTimestamp(value.micros, value.isFinite, value)} UTC`;
    if (value instanceof api.DuckDBTimestampSecondsValue) return formatTimestamp(value.seconds * 1_000_000n, value.isFinite, value);
    if (value instanceof api.DuckDBTimestampMillisecondsValue) return formatTimestamp(value.millis * 1_000n, value.isFinite, value);
    if (value instanceof api.DuckDBTimestampNanosecondsValue) return formatTimestamp(floorDiv(value.nanos, 1_000n), value.isFinite, value);
    if (value instanceof api.DuckDBTimeValue) return formatTimeOfDay(value.micros);
    if (value instanceof api.DuckDBTimeNSValue) return formatTimeOfDay(value.nanos / 1_000n);
    // DATE, DECIMAL, UUID, INTERVAL, BLOB, BIT, TIME WITH TIME ZONE: DuckDB's
    // own text is already what Presto prints, or as near as it gets.
    return value.toString();
  };
  return render;
}

/**
 * A JavaScript number as Lake prints it: integers without a fraction, doubles
 * in JavaScript's shortest round-trip form, `NaN` and `Infinity` as words.
 */
export function formatNumber(value: number): string {
  return Object.is(value, -0) ? '0' : String(value);
}

/**
 * Microseconds since the epoch (UTC) as `YYYY-MM-DD HH:MM:SS.fff`. Lake's
 * timestamps have millisecond precision, so the rest is cut off, not rounded.
 * Undefined for years outside 0000-9999, which have no such form.
 */
export function formatTimestampMicros(micros: bigint): string | undefined {
  const date = new Date(Number(floorDiv(micros, 1_000n)));
  const year = date.getUTCFullYear(); // NaN when out of Date's range
  if (!(year >= 0 && year <= 9999)) return undefined;
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ for years 0000-9999
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** Microseconds since midnight as `HH:MM:SS.fff`. */
export function formatTimeOfDay(micros: bigint): string {
  const millis = Number(micros / 1_000n);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const hours = Math.floor(millis / 3_600_000);
  const minutes = Math.floor(millis / 60_000) % 60;
  const seconds = Math.floor(millis / 1_000) % 60;
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)}.${pad(millis % 1_000, 3)}`;
}

/** Infinite and out-of-range timestamps keep DuckDB's own text (`infinity`, ...). */
function formatTimestamp(micros: bigint, finite: boolean, value: { toString(): string }): string {
  return (finite ? formatTimestampMicros(micros) : undefined) ?? value.toString();
}

/** Division that rounds toward minus infinity, so instants before 1970 format correctly. */
function floorDiv(dividend: bigint, divisor: bigint): bigint {
  const quotient = dividend / divisor;
  return dividend % divisor < 0n ? quotient - 1n : quotient;
}
