import { quoted } from '../errors.js';
import { columnLabel, parseTimestamp, wellFormed } from '../rows/parse-value.js';
import { cellOf, type FlatRecord } from '../rows/flatten-row.js';

/** How a timestamp column is cut into partitions. */
export type TimeGrain = 'hour' | 'day' | 'month';

/**
 * One level of a Hive-style layout. `key` is the folder's name (`eventdate`
 * in `eventdate=2024-05-01/`), `column` the source column its value comes
 * from; a time grain derives the value from a timestamp, else the column's
 * text is the value.
 */
export interface PartitionLevel {
  key: string;
  column: string;
  grain: TimeGrain | undefined;
}

const GRAINS: readonly TimeGrain[] = ['hour', 'day', 'month'];

/**
 * Parses `--partition-by` specs into levels, in the order given.
 *
 * - `awsRegion` gives `awsregion_part=us-east-1/`: a partition key must not
 *   have the name of a data column (Athena and Glue refuse the table, and
 *   DuckDB's and polars' Hive readers let the folder's value shadow the
 *   file's column, so the text `null` read back as NULL), and the column
 *   stays in the files, where its values are exact.
 * - `eventTime:day` gives `eventdate=2024-05-01/`, `eventTime:month` gives
 *   `eventmonth=2024-05/`, `eventTime:hour` gives two levels,
 *   `eventdate=2024-05-01/eventhour=13/`, so that day-level queries still
 *   prune on `eventdate`. A column name ending in `time` loses it
 *   (`eventTime` → `event`); another keeps it with `_` (`ts` → `ts_date`).
 * - `KEY=SPEC` names the folder key yourself: `dt=eventTime:day`.
 *
 * Keys are lower case, as Glue and Athena store them, and must be unique.
 * Throws a plain Error whose message says what is wrong; callers wrap it.
 */
export function parsePartitionSpecs(specs: readonly string[]): PartitionLevel[] {
  const levels: PartitionLevel[] = [];
  for (const spec of specs) {
    const match = /^(?:([A-Za-z_][A-Za-z0-9_]*)=)?([^:=]+)(?::([a-z]+))?$/.exec(spec.trim());
    if (!match) throw new Error(`'${spec}' is not COLUMN, COLUMN:GRAIN or KEY=COLUMN:GRAIN`);
    const [, named, column, grainText] = match as unknown as [string, string | undefined, string, string | undefined];
    if (grainText !== undefined && !GRAINS.includes(grainText as TimeGrain)) {
      throw new Error(`'${spec}': the grain must be ${GRAINS.join(', ')}, not '${grainText}'`);
    }
    const grain = grainText as TimeGrain | undefined;
    const stem = column.replace(/time$/i, '') || column;
    const derived = (suffix: string) => (stem === column ? `${column}_${suffix}` : `${stem}${suffix}`);
    if (grain === 'hour' && named === undefined) {
      levels.push({ key: hiveKey(derived('date')), column, grain: 'day' });
      levels.push({ key: hiveKey(derived('hour')), column, grain: 'hour' });
    } else {
      const key = named ?? (grain === undefined ? `${column}_part` : derived(grain === 'day' ? 'date' : grain));
      levels.push({ key: hiveKey(key), column, grain });
    }
  }
  const keys = levels.map((l) => l.key);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice) throw new Error(`the partition key '${twice}' is given twice`);
  return levels;
}

function hiveKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** The type a Hive reader should give a partition key: a DATE for days, an integer for hours, text otherwise (a month `2024-05`, a column's value). */
export type PartitionKeyType = 'date' | 'int' | 'string';

export function partitionKeyType(level: PartitionLevel): PartitionKeyType {
  return level.grain === 'day' ? 'date' : level.grain === 'hour' ? 'int' : 'string';
}

/**
 * The levels with their columns matched to the export's settled columns:
 * a name as given, else the one column it spells without regard to case
 * (`--partition-by eventTime` for the published `eventtime`), as Lake's SQL
 * matches names. Throws a plain Error, naming the key and the fix, for a
 * key that equals a column's file name without regard to case (Hive
 * readers would let the folder shadow the column).
 */
export function settlePartitionLevels(levels: readonly PartitionLevel[], columns: ReadonlyArray<{ source: string; name: string }>): PartitionLevel[] {
  const names = new Set(columns.map((c) => c.name.toLowerCase()));
  return levels.map((level) => {
    if (names.has(level.key)) {
      throw new Error(`the partition key '${level.key}' is also the name of a column; name the key yourself, e.g. ${level.key}_part=${level.column}${level.grain ? `:${level.grain}` : ''}`);
    }
    if (columns.some((c) => c.source === level.column)) return level;
    const lower = level.column.toLowerCase();
    const matches = columns.filter((c) => c.source.toLowerCase() === lower);
    return matches.length === 1 ? { ...level, column: matches[0]!.source } : level;
  });
}

/** Hive's default partition, for a null or empty value (what Hive, Spark and Athena write and read). */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** The longest folder name (`key=value`, in UTF-8 bytes) most file systems allow; S3 allows it too. */
export const MAX_FOLDER_BYTES = 255;

/**
 * The relative folder of a record (`eventdate=2024-05-01/awsregion=us-east-1`),
 * or '' with no levels. A missing or empty value goes to NULL_PARTITION.
 * Values are escaped as Hive escapes path names, so any text round-trips
 * through Athena, Spark and DuckDB, and every folder is one level below the
 * last (`/` is escaped, and `..` or `.` is a value inside `key=..`, never a
 * folder of its own): a path built here never leaves the dataset's root.
 * Hive leaves two kinds of text that readers take for null, so these have
 * their first character escaped too, which every reader unescapes: the text
 * `__HIVE_DEFAULT_PARTITION__` (`%5F_HIVE_DEFAULT_PARTITION__`) and the text
 * `null` in any case (`%6Eull`; DuckDB reads `null` and `NULL` as null).
 *
 * Throws a plain Error naming the column and the value for what a folder
 * cannot hold exactly: a timestamp that does not parse, a text with a lone
 * surrogate (UTF-8 would change it), or a folder name longer than
 * MAX_FOLDER_BYTES.
 */
export function partitionPath(levels: readonly PartitionLevel[], record: FlatRecord): string {
  let path = '';
  for (const level of levels) {
    const text = cellOf(record, level.column);
    const value = level.grain === undefined ? text : timeValue(text, level);
    path += `${path ? '/' : ''}${value === null || value === '' ? `${level.key}=${NULL_PARTITION}` : folder(level, value)}`;
  }
  return path;
}

function folder(level: PartitionLevel, value: string): string {
  if (!wellFormed(value)) {
    throw new Error(`column ${columnLabel(level.column)}: ${quoted(value)} holds a lone UTF-16 surrogate, which a folder name (UTF-8) cannot hold`);
  }
  let escaped = escapeHiveValue(value);
  if (value === NULL_PARTITION || (value.length === 4 && value.toLowerCase() === 'null')) escaped = `%${value.charCodeAt(0).toString(16).toUpperCase()}${escaped.slice(1)}`;
  const name = `${level.key}=${escaped}`;
  // UTF-8 takes at most 3 bytes a UTF-16 unit: a short name needs no count.
  if (name.length > MAX_FOLDER_BYTES / 3) {
    const bytes = Buffer.byteLength(name);
    if (bytes > MAX_FOLDER_BYTES) {
      throw new Error(`column ${columnLabel(level.column)}: ${quoted(value)} makes a folder name of ${bytes} bytes, more than the ${MAX_FOLDER_BYTES} a file system allows`);
    }
  }
  return name;
}

function timeValue(text: string | null, level: PartitionLevel): string | null {
  if (text === null || text === '' || text === 'null') return null;
  let ms: number;
  try {
    ms = parseTimestamp(text);
  } catch {
    throw new Error(`column ${columnLabel(level.column)}: ${quoted(text)} is not a timestamp, so it cannot give ${level.key}`);
  }
  const iso = new Date(ms).toISOString();
  switch (level.grain) {
    case 'month':
      return iso.slice(0, 7);
    case 'hour':
      // No leading zero: DuckDB's Hive reader takes `05` for text, so the key would not come back as the integer it is.
      return String(new Date(ms).getUTCHours());
    default:
      return iso.slice(0, 10);
  }
}

/** Hive's FileUtils.escapePathName: these characters become %XX (upper-case hex). */
const HIVE_ESCAPED = /[\x00-\x1f"#%'*/:=?\\\x7f{}[\]^]/g;

export function escapeHiveValue(value: string): string {
  return value.replace(HIVE_ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
