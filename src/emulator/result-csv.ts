/**
 * The CSV text of delivered query results (`result_N.csv.gz`, before gzip).
 *
 * Lake does not document its CSV layout, so this one is an assumption, kept
 * to the layout ctlake's reader is built against:
 * - UTF-8, no BOM, `\n` line ends;
 * - a header row of the column names in select-list order (names may
 *   repeat, as two `arn` columns do);
 * - RFC 4180 quoting: a field with a comma, a double quote, CR or LF is
 *   double-quoted with its quotes doubled; other fields are bare;
 * - a SQL NULL is an empty bare field, an empty string is `""`, so the two
 *   stay apart;
 * - each value is the text GetQueryResults gives for it (timestamps as
 *   `2023-01-22 16:53:53.000`, structs and maps as Presto text).
 * Pure functions: no stream, no S3.
 */

/** A result row with its NULLs kept: one entry per output column, in order. */
export type ResultTableRow = ReadonlyArray<string | null>;

/** Rows per result file unless the emulator is told otherwise (EmulatorOptions.deliveryFileRows). */
export const DEFAULT_ROWS_PER_FILE = 100_000;

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field: NULL bare and empty, '' as `""`, quoted when RFC 4180 needs it. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || NEEDS_QUOTES.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** One CSV line, with its `\n`. */
export function csvLine(values: ReadonlyArray<string | null>): string {
  return `${values.map(csvField).join(',')}\n`;
}

/**
 * The row ranges [start, end) of the result files: `rowsPerFile` rows each,
 * the last one shorter. A result with no rows still has one file (its header
 * only), so that a delivery always has a file to sign.
 */
export function resultFileRanges(rowCount: number, rowsPerFile: number): Array<[number, number]> {
  if (!Number.isInteger(rowsPerFile) || rowsPerFile < 1) throw new RangeError(`rowsPerFile must be a positive whole number, not ${rowsPerFile}`);
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < rowCount; start += rowsPerFile) ranges.push([start, Math.min(rowCount, start + rowsPerFile)]);
  return ranges.length ? ranges : [[0, 0]];
}

/** The lines of one result file: the header, then rows [start, end) of `table`. */
export function* resultFileLines(columns: readonly string[], table: readonly ResultTableRow[], start: number, end: number): Generator<string> {
  yield csvLine(columns);
  for (let i = start; i < end; i++) yield csvLine(table[i] ?? []);
}

/** The name of result file `index` (0-based): `result_1.csv.gz`, `result_2.csv.gz`, ... */
export function resultFileName(index: number): string {
  return `result_${index + 1}.csv.gz`;
}
