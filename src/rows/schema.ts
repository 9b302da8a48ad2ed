import { CtlakeError, quoted } from '../errors.js';
import { columnLabel } from './parse-value.js';
import { typeForColumn, type ColumnType, type TypingOptions } from './column-types.js';
import type { LakeType } from './lake-type.js';
import { formatLakeType } from './lake-type.js';

/** One output column: where it comes from, what it is called in the file, its type. */
export interface ColumnSchema {
  /** The column as flattened from Lake's rows (`eventTime`, `arn_2`, `_col0`). */
  source: string;
  /** The name written to files: unique without regard to case, and safe for Hive, Glue and Athena. */
  name: string;
  type: ColumnType;
  /**
   * For type 'nested': the Lake type (a struct, map or array) that the cell's
   * Presto text is read as, and that the Parquet column has.
   */
  lakeType?: LakeType | undefined;
  /**
   * Set when the type came from Lake's published schema rather than from the
   * user: a cell that cannot be read for it keeps its original text in the
   * unparsed column (see unparsed-column.ts) instead of failing the export.
   */
  fallback?: boolean | undefined;
}

/**
 * The schema for source columns in their order. Types come from
 * `typeForColumn`; names from `safeColumnNames`. Pure and deterministic:
 * the same columns and options give the same schema.
 */
export function buildSchema(sources: readonly string[], options: TypingOptions = {}): ColumnSchema[] {
  const names = safeColumnNames(sources);
  return sources.map((source, i) => ({ source, name: names[i]!, type: typeForColumn(source, options) }));
}

/** The longest name written to a file: Glue's limit for a column name (ASCII, so also bytes). */
export const MAX_COLUMN_NAME = 255;

/**
 * Names that engines will not confuse. Athena and Glue ignore case and
 * accept only letters, digits and underscores, so: every other character
 * (a NUL, `/`, `=`, a lone surrogate, each UTF-16 unit) becomes `_`; a name
 * that would start with a digit, or is empty, gets a leading `_`; a name
 * longer than MAX_COLUMN_NAME is cut to it; and a name equal, without
 * regard to case, to an earlier one gets the first free suffix `_2`, `_3`,
 * ... (`eventName`, `eventname` → `eventName`, `eventname_2`), cut so that
 * the suffix still fits. Case is kept, so DuckDB and Spark show
 * `eventTime`, not `eventtime`. The source names stay in the file's
 * metadata (`ctlake.columns`). Names are data: `constructor` and
 * `__proto__` are names like any other.
 */
export function safeColumnNames(sources: readonly string[]): string[] {
  const taken = new Set<string>();
  return sources.map((source) => {
    let base = source.replace(/[^A-Za-z0-9_]/g, '_');
    if (base === '' || /^[0-9]/.test(base)) base = `_${base}`;
    base = base.slice(0, MAX_COLUMN_NAME);
    let name = base;
    for (let n = 2; taken.has(name.toLowerCase()); n++) {
      const suffix = `_${n}`;
      name = `${base.slice(0, MAX_COLUMN_NAME - suffix.length)}${suffix}`;
    }
    taken.add(name.toLowerCase());
    return name;
  });
}

/**
 * The error for columns that a row brings but the file schema, fixed before
 * the first row (from the SQL, or from the first page), lacks: SCHEMA_CHANGED,
 * naming up to five of them, the row, and the fix.
 */
export function lateColumnsError(added: readonly string[], row: number, settled: 'sql' | 'first-page'): CtlakeError {
  const shown = added.slice(0, 5).map(columnLabel);
  const more = added.length > shown.length ? ` and ${added.length - shown.length} more` : '';
  const declare = shown.map((label) => `--column ${label}:string`).join(' ');
  const fixedBy = settled === 'sql' ? "the query's select list and the store's published schema" : 'the first page';
  return new CtlakeError(
    'SCHEMA_CHANGED',
    `column ${shown.join(', ')}${more} first appears at row ${row}, but the schema was fixed by ${fixedBy}; declare it up front with ${declare} (or its type), or export raw NDJSON`,
    { column: added[0] },
  );
}

/** A column as the manifest and the Parquet footer (`ctlake.columns`) record it: JSON, with a nested type as its Lake type text. */
export interface ColumnRecord {
  source: string;
  name: string;
  type: ColumnType;
  lakeType?: string;
  fallback?: true;
}

export function columnRecords(columns: readonly ColumnSchema[]): ColumnRecord[] {
  return columns.map((c) => ({
    source: c.source,
    name: c.name,
    type: c.type,
    ...(c.lakeType ? { lakeType: formatLakeType(c.lakeType) } : {}),
    ...(c.fallback ? { fallback: true as const } : {}),
  }));
}

/**
 * The first way two recorded schemas differ, as a short phrase naming the
 * column (`column eventtime is timestamp here and string in export K`), or
 * undefined when they are the same: the same columns, in the same order,
 * with the same names, sources and types.
 */
export function schemaDifference(ours: readonly ColumnRecord[], theirs: readonly ColumnRecord[]): string | undefined {
  const typeOf = (c: ColumnRecord) => c.lakeType ?? c.type;
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    const a = ours[i];
    const b = theirs[i];
    if (a === undefined) return `it lacks column ${columnLabel(b!.name)} (${typeOf(b!)})`;
    if (b === undefined) return `it has no column ${columnLabel(a.name)}, which this export has`;
    if (a.name !== b.name) return `column ${i + 1} is ${columnLabel(a.name)} here and ${columnLabel(b.name)} there`;
    if (typeOf(a) !== typeOf(b)) return `column ${columnLabel(a.name)} is ${quoted(typeOf(a))} here and ${quoted(typeOf(b))} there`;
    if (a.source !== b.source) return `column ${columnLabel(a.name)} comes from ${columnLabel(a.source)} here and from ${columnLabel(b.source)} there`;
  }
  return undefined;
}
