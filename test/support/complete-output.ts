import { readdir, readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { QueryResultRow } from '../../src/rows/flatten-row.js';
import { query } from './duckdb.js';
import { parseNdjson } from './lake.js';

/**
 * The two endings a fault may leave, checked independently of ctlake's own
 * code: either the whole result, every row once and in order, or nothing at
 * all in the output's directory (neither the file nor a temporary file).
 */

/**
 * The records an export of `rows` must write, named by hand from the wire rows
 * (a repeated key becomes `key_2`), not by ctlake's ColumnSet. Every row of the
 * fault suite has the same keys, so no null padding comes into play.
 */
export function expectedRecords(rows: readonly QueryResultRow[]): Array<Record<string, string>> {
  return rows.map((row) => {
    const record: Record<string, string> = {};
    for (const cell of row) {
      for (const [key, value] of Object.entries(cell)) record[key in record ? `${key}_2` : key] = value;
    }
    return record;
  });
}

/** NDJSON text holds exactly `rows`: same count, same `seq` order, same values. */
export function expectNdjsonRows(text: string, rows: readonly QueryResultRow[]): void {
  const records = parseNdjson(text);
  // The seq column first: a lost, repeated or reordered row shows up here as a short diff.
  expect(records.map((r) => r.seq)).toEqual(rows.map((_, i) => String(i)));
  expect(records).toEqual(expectedRecords(rows));
}

export async function expectNdjsonFile(file: string, rows: readonly QueryResultRow[]): Promise<void> {
  expectNdjsonRows(await readFile(file, 'utf8'), rows);
}

/**
 * A Parquet file read back by DuckDB, in file order (file_row_number), holds
 * exactly `rows`, value by value: eventTime as the instant the service's text
 * names, every other column as the service's string.
 */
export async function expectParquetFile(db: DuckDBConnection, file: string, rows: readonly QueryResultRow[]): Promise<void> {
  const read = await query(
    db,
    `SELECT epoch_ms(eventTime) AS eventTime, * EXCLUDE (eventTime, file_row_number)
     FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`,
  );
  const expected = expectedRecords(rows);
  expect(read.map((r) => r.seq)).toEqual(expected.map((r) => r.seq));
  expect(
    read.map((r) => ({ ...r, eventTime: Number(r.eventTime) })),
  ).toEqual(expected.map((r) => ({ ...r, eventTime: Date.parse(`${(r.eventTime ?? '').replace(' ', 'T')}Z`) })));
}

/** Nothing in `dir` whose name contains `name`: no output file and no `.NAME.ctlake-*.tmp`. */
export async function expectNothingLeft(dir: string, name: string): Promise<void> {
  expect((await readdir(dir)).filter((entry) => entry.includes(name))).toEqual([]);
}

/** The temporary files of an export to `name` in `dir` right now. */
export async function tempFiles(dir: string, name: string): Promise<string[]> {
  return (await readdir(dir)).filter((entry) => entry.startsWith(`.${name}.ctlake-`) && entry.endsWith('.tmp'));
}
