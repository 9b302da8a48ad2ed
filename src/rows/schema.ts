import { typeForColumn, type ColumnType, type TypingOptions } from './column-types.js';
import type { LakeType } from './lake-type.js';

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
