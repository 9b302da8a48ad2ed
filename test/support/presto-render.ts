/**
 * Typed values as DuckDB reads them back from ctlake's files, printed again
 * as CloudTrail Lake's Presto text (the emulator's rendering: struct fields
 * in the type's order, lower-cased, every field printed, `null` for a null
 * at any depth; maps `{k=v, ...}`; arrays `[a, b]`; timestamps
 * `YYYY-MM-DD HH:MM:SS.fff`). Printing is the inverse of reading, written
 * independently of src/rows/nested-value.ts, so that comparing a typed cell
 * printed back with Lake's text checks the reading value by value.
 */
import type { LakeColumn } from '../../src/rows/lake-schema.js';
import type { LakeType } from '../../src/rows/lake-type.js';

/** A DuckDB JS value (getRowObjectsJS) of `type` as Lake's text. */
export function prestoText(value: unknown, type: LakeType): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value; // a string, or a nested cell kept as text (--nested text)
  switch (type.kind) {
    case 'struct': {
      const fields = value as Record<string, unknown>;
      return `{${type.fields.map((f) => `${f.name.toLowerCase()}=${prestoText(fields[f.name], f.type)}`).join(', ')}}`;
    }
    case 'map':
      return `{${(value as Array<{ key: unknown; value: unknown }>).map((e) => `${prestoText(e.key, type.key)}=${prestoText(e.value, type.value)}`).join(', ')}}`;
    case 'array':
      return `[${(value as unknown[]).map((e) => prestoText(e, type.element)).join(', ')}]`;
    case 'timestamp': {
      const iso = (value as Date).toISOString();
      return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
    }
    case 'date':
      return (value as Date).toISOString().slice(0, 10);
    default:
      return String(value);
  }
}

/** One of Lake's rows, as raw NDJSON writes it: each cell Lake's text, an absent cell null. */
export type LakeRow = Record<string, string | null>;

/**
 * Every way the rows DuckDB read from a typed export differ from Lake's
 * rows of the same query, matched by `key` (eventid): a column is lossless
 * when its cell printed back is Lake's text, or when it is NULL and
 * `ctlake_unparsed` holds Lake's exact text; an absent cell is NULL. Empty
 * when nothing was changed or dropped.
 */
export function differences(rows: Record<string, unknown>[], lake: ReadonlyMap<string, LakeRow>, columns: readonly LakeColumn[], key = 'eventid'): string[] {
  const found: string[] = [];
  const names = new Set(columns.map((c) => c.name));
  for (const row of rows) {
    const id = String(row[key]);
    const source = lake.get(id);
    if (source === undefined) {
      found.push(`${id}: not in Lake's rows`);
      continue;
    }
    const unparsed = new Map(((row.ctlake_unparsed ?? []) as Array<{ key: string; value: string }>).map((e) => [e.key, e.value]));
    for (const name of Object.keys(source)) if (!names.has(name)) found.push(`${id}: Lake's key ${name} is no column`);
    for (const name of unparsed.keys()) if (!names.has(name)) found.push(`${id}: ctlake_unparsed names ${name}, no column`);
    for (const column of columns) {
      const text = source[column.name] ?? undefined;
      const cell = row[column.name];
      if (unparsed.has(column.name)) {
        if (cell !== null) found.push(`${id} ${column.name}: both a value and ctlake_unparsed`);
        if (unparsed.get(column.name) !== text) found.push(`${id} ${column.name}: ctlake_unparsed ${JSON.stringify(unparsed.get(column.name))}, Lake said ${JSON.stringify(text)}`);
      } else if (cell === null || cell === undefined) {
        if (text !== undefined) found.push(`${id} ${column.name}: NULL, Lake said ${JSON.stringify(text)}`);
      } else if (prestoText(cell, column.type) !== text) {
        found.push(`${id} ${column.name}: ${JSON.stringify(prestoText(cell, column.type))}, Lake said ${JSON.stringify(text)}`);
      }
    }
  }
  return found;
}
