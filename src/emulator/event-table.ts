import type { DuckDBConnection } from '@duckdb/node-api';
import type { LakeStoreType } from '../rows/lake-schema.js';
import { quoteIdentifier, storeColumns, type RawEvent } from './store-columns.js';

/**
 * The emulator's event data store as one DuckDB table, and the fast path that
 * fills it from raw events (the JSON records of trail log files, or Lake
 * records of another store type). The table's columns are the store type's
 * published schema (src/emulator/store-columns.ts).
 */

/** The table that queries naming the event data store are pointed at. */
export const EVENT_TABLE = 'event_data_store';

/** The store type the emulator holds unless told otherwise. */
export const DEFAULT_STORE_TYPE: LakeStoreType = 'cloudtrail-events';

/**
 * `CREATE TABLE` for an event data store of a type: its published columns in
 * the published order, named as published. DuckDB resolves names without
 * regard to case, as Lake does, so `eventTime`, `eventtime` and
 * `userIdentity.sessionContext` all name the same thing; a query keeps the
 * names as it writes them (lake-statement.ts), `SELECT *` gives the published ones.
 */
export function createEventTableSql(storeType: LakeStoreType = DEFAULT_STORE_TYPE, table = EVENT_TABLE): string {
  const columns = storeColumns(storeType).columns.map((c) => `${quoteIdentifier(c.name)} ${c.duckdbType}`);
  return `CREATE TABLE ${quoteIdentifier(table)} (${columns.join(', ')})`;
}

/**
 * The json_transform structure that turns one shaped event's JSON into one
 * row. Its keys are the columns in table order, so unnesting the result lines
 * up with the table by position. json_transform is lenient: a missing key or a
 * value of the wrong shape becomes NULL rather than failing the load, and
 * eventtime strings such as `2024-05-01T12:34:56Z` parse as UTC.
 */
function rowStructure(storeType: LakeStoreType): string {
  return JSON.stringify(Object.fromEntries(storeColumns(storeType).columns.map((c) => [c.name, c.duckdbType])));
}

export interface LoadOptions {
  /** The store type whose table is filled: it says how keys line up with columns. @default DEFAULT_STORE_TYPE */
  storeType?: LakeStoreType | undefined;
  /** The table to fill. @default EVENT_TABLE */
  table?: string | undefined;
  /**
   * Events per batch. Memory is bounded by one batch of JSON text inside
   * DuckDB's staging table (about batchSize × 1.5 kB for typical events);
   * nothing is kept on the JavaScript side: an event's shaped copy lives only
   * until its JSON is appended. @default 20000
   */
  batchSize?: number | undefined;
  /** Called after each batch is in the table, with that batch's events and JSON bytes. */
  onBatch?: ((events: number, bytes: number) => void) | undefined;
}

export interface LoadTotals {
  events: number;
  /**
   * UTF-8 bytes of the JSON text of what the table holds of the events (keys
   * the schema lacks are not counted): what a scan of them reads, near enough.
   */
  bytes: number;
}

/**
 * Appends events to the table in batches: each event is shaped to the store's
 * published columns (StoreColumns.shape: keys matched without regard to case,
 * unknown keys dropped), its JSON goes through DuckDB's appender into a
 * temporary staging table, and every `batchSize` events one INSERT ... SELECT
 * parses the batch with json_transform (vectorised and parallel in DuckDB)
 * into typed rows. A batch is visible to queries once
 * `onBatch` is called; a failure leaves earlier batches in place.
 *
 * Throws a TypeError if an event is not a JSON object.
 */
export async function loadEvents(
  connection: DuckDBConnection,
  events: Iterable<RawEvent> | AsyncIterable<RawEvent>,
  options: LoadOptions = {},
): Promise<LoadTotals> {
  const storeType = options.storeType ?? DEFAULT_STORE_TYPE;
  const { shape } = storeColumns(storeType);
  const table = options.table ?? EVENT_TABLE;
  const batchSize = options.batchSize ?? 20_000;
  const staging = 'event_staging';
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${staging} (line VARCHAR)`);
  const insert = `INSERT INTO ${quoteIdentifier(table)} SELECT unnest(json_transform(line, '${rowStructure(storeType).replaceAll("'", "''")}')) FROM ${staging}`;
  const appender = await connection.createAppender(staging);
  const totals: LoadTotals = { events: 0, bytes: 0 };
  let batch = { events: 0, bytes: 0 };

  const flush = async () => {
    if (batch.events === 0) return;
    appender.flushSync();
    await connection.run(insert);
    await connection.run(`DELETE FROM ${staging}`);
    totals.events += batch.events;
    totals.bytes += batch.bytes;
    options.onBatch?.(batch.events, batch.bytes);
    batch = { events: 0, bytes: 0 };
  };
  /** Stages one event; true when the batch is full and must be flushed. */
  const add = (event: unknown): boolean => {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new TypeError(`event ${totals.events + batch.events} is not a JSON object: ${String(JSON.stringify(event)).slice(0, 80)}`);
    }
    const line = JSON.stringify(shape(event as RawEvent));
    appender.appendVarchar(line);
    appender.endRow();
    batch.events += 1;
    batch.bytes += Buffer.byteLength(line);
    return batch.events >= batchSize;
  };

  try {
    // A plain loop for arrays and generators: awaiting each item of a large
    // synchronous source would cost a microtask per event.
    if (Symbol.iterator in events) {
      for (const event of events) if (add(event)) await flush();
    } else {
      for await (const event of events) if (add(event)) await flush();
    }
    await flush();
  } finally {
    appender.closeSync();
    await connection.run(`DROP TABLE IF EXISTS ${staging}`);
  }
  return totals;
}
