import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** An independent reader for every Parquet or NDJSON file the tests write. */
export async function duckdb(): Promise<DuckDBConnection> {
  return (await DuckDBInstance.create(':memory:')).connect();
}

export async function query(db: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** Column name to DuckDB type, as DuckDB reads the file. */
export async function parquetTypes(db: DuckDBConnection, file: string): Promise<Record<string, string>> {
  const rows = await query(db, `DESCRIBE SELECT * FROM read_parquet('${file}')`);
  return Object.fromEntries(rows.map((r) => [r.column_name as string, r.column_type as string]));
}
