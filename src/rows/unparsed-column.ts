/**
 * The fallback column: where a cell that cannot be read for its column's
 * type goes, as Lake's text, instead of failing the export. Its type is
 * `map<string,string>`: per row, the output column name of every cell of
 * the row that fell back, to that cell's original text; null when none did,
 * so that `WHERE ctlake_unparsed IS NOT NULL` finds the rows that need a
 * look. The column that fell back is null in that row.
 *
 * Which cells fall back: a 'nested' cell that readNested cannot read one
 * way only, always; a scalar cell that does not parse as its type, only when
 * its column is marked `fallback: true` (else VALUE_INVALID, as without this
 * column). A schema holds at most one such column; without one, every cell
 * that does not fit fails the export with VALUE_INVALID.
 */
import { parseLakeType } from './lake-type.js';
import { safeColumnNames, type ColumnSchema } from './schema.js';

/**
 * The `source` of the fallback column. Names from data are data: a Lake key
 * could spell this too, but buildSchema never types a column 'nested', so
 * such a column is an ordinary one (see isUnparsedColumn). The caller that
 * adds the fallback column picks a `name` no other column has.
 */
export const UNPARSED_COLUMN_SOURCE = '\u0000ctlake_unparsed';

const UNPARSED_TYPE = parseLakeType('map<string,string>');

/** The fallback column's name in files, unless a data column has it (then `_2`, ...). */
export const UNPARSED_NAME = 'ctlake_unparsed';

/** The fallback column, written as `name`. */
export function unparsedColumn(name = UNPARSED_NAME): ColumnSchema {
  return { source: UNPARSED_COLUMN_SOURCE, name, type: 'nested', lakeType: UNPARSED_TYPE };
}

/** Whether `column` is the fallback column: its source, and the type only unparsedColumn gives it. */
export function isUnparsedColumn(column: ColumnSchema): boolean {
  return column.source === UNPARSED_COLUMN_SOURCE && column.type === 'nested';
}

/** Whether a scalar cell of `column` that does not parse falls back instead of failing: its type came from Lake's schema. */
export function fallsBack(column: ColumnSchema): boolean {
  return column.fallback === true;
}

/** A column before it has its file name: what the select list, the store schema and `--column` settle. */
export type SchemaColumn = Omit<ColumnSchema, 'name'>;

/**
 * The file schema of settled columns: names by safeColumnNames, in order;
 * then, when any column may fall back (a type from Lake's schema), the
 * unparsed column, named `ctlake_unparsed` unless a data column already is.
 */
export function schemaOf(columns: readonly SchemaColumn[]): ColumnSchema[] {
  const names = safeColumnNames(columns.map((c) => c.source));
  const schema: ColumnSchema[] = columns.map((column, i) => ({ ...column, name: names[i]! }));
  if (columns.some((c) => c.fallback === true)) {
    const taken = new Set(names.map((n) => n.toLowerCase()));
    let name = UNPARSED_NAME;
    for (let n = 2; taken.has(name); n++) name = `${UNPARSED_NAME}_${n}`;
    schema.push(unparsedColumn(name));
  }
  return schema;
}

