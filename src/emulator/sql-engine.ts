import type * as DuckDB from '@duckdb/node-api';
import type { LakeStoreType } from '../rows/lake-schema.js';
import { DEFAULT_STORE_TYPE, EVENT_TABLE, createEventTableSql, loadEvents } from './event-table.js';
import { quoteIdentifier } from './store-columns.js';
import {
  lakeErrorMessage,
  outputColumnNames,
  resolveEventDataStore,
  serializeSqlQuery,
  statementProblem,
  type SerializedSql,
} from './lake-statement.js';
import { prestoRenderer, type PrestoRenderer } from './presto-text.js';
import { deserializeSqlQuery, isAggregateQuery, scanCountTree } from './scan-range.js';
import { peerVersion } from '../version.js';

/**
 * The emulator's SQL engine: CloudTrail Lake's query language approximated on
 * an in-memory DuckDB, with results rendered the way Lake renders them.
 *
 * DuckDB's SQL is not Presto's. Common Lake queries run unchanged (the store
 * referenced by id or ARN, nested field access, GROUP BY ordinals, timestamp
 * comparisons with string literals, element_at on maps), and a few Presto
 * functions are defined as macros (PRESTO_MACROS); others fail with DuckDB's
 * message, as a run-time error.
 */

/** A raw event: a trail log record (`Records` array), or a Lake record of another store type. */
type RawEvent = Record<string, unknown>;

export interface SqlEngineOptions {
  eventDataStoreId: string;
  eventDataStoreArn: string;
  /** The store type whose published schema the table has. @default 'cloudtrail-events' */
  storeType?: LakeStoreType | undefined;
}

export interface SqlResult {
  /** Lake's row shape: one single-key object per non-null cell, in select-list order. */
  rows: Array<Array<Record<string, string>>>;
  /** Every output column's name, nulls or not; names may repeat. */
  columns: string[];
  /**
   * The events in the eventTime range the query's WHERE bounds (see
   * scan-range.ts), or the whole store for a query that does not read the
   * store's table directly.
   */
  eventsScanned: number;
  /** eventsScanned × the mean JSON size of an event. */
  bytesScanned: number;
  /** Whether the query aggregates (GROUP BY, or only aggregate calls in its select list). */
  aggregate: boolean;
  /** With `run(sql, { table: true })`: every row as one text or null per column, for delivery's CSV. */
  table?: Array<Array<string | null>> | undefined;
}

export interface SqlEngine {
  /** Events in the store. */
  readonly eventCount: number;
  /** UTF-8 bytes of the loaded events' JSON: the BytesScanned of a full scan. */
  readonly totalBytes: number;
  /** totalBytes / eventCount, 0 while empty. */
  readonly bytesPerEvent: number;
  /** Adds events; resolves to how many were added. See loadEvents for the memory bound. */
  load(events: Iterable<RawEvent> | AsyncIterable<RawEvent>): Promise<number>;
  /** Undefined if `sql` would be accepted by StartQuery, else the reason (a parse error, not a single SELECT, unknown store). */
  check(sql: string): Promise<string | undefined>;
  /** Runs a query; rejects with an Error carrying DuckDB's message if it is not accepted or fails. `table`: also give SqlResult.table. */
  run(sql: string, options?: { table?: boolean }): Promise<SqlResult>;
  /**
   * Deletes the events whose eventTime is before `cutoff`, as Lake deletes
   * events past the store's retention; resolves to how many went. Events
   * without an eventTime stay.
   */
  expireBefore(cutoff: Date): Promise<number>;
  /** The oldest eventTime in the store; undefined while it has none. */
  oldestEventTime(): Promise<Date | undefined>;
  close(): void;
}

/**
 * Presto functions common in Lake queries, defined over DuckDB's. element_at
 * overrides DuckDB's, which answers a list for a map key where Presto answers
 * the value; `[]` does the Presto thing for maps and (1-based) lists alike.
 */
const PRESTO_MACROS = [
  'CREATE MACRO element_at(container, key) AS container[key]',
  'CREATE MACRO json_extract_scalar(json, path) AS json_extract_string(json, path)',
  'CREATE MACRO regexp_like(text, pattern) AS regexp_matches(text, pattern)',
  'CREATE MACRO array_join(list, separator) AS array_to_string(list, separator)',
  'CREATE MACRO approx_distinct(x) AS count(DISTINCT x)',
  'CREATE MACRO from_iso8601_timestamp(text) AS CAST(text AS TIMESTAMPTZ)',
];

/** What to run when DuckDB is not installed: ctlake leaves it out of a default install (it is 70 MB, and only the emulator needs it). */
function missingDuckDB(): string {
  const at = `@duckdb/node-api@${peerVersion('@duckdb/node-api') ?? 'latest'}`;
  return `the emulator needs DuckDB, which ctlake does not install by default: run npm install --global ${at} for a global ctlake, or npm install ${at} in the project that has ctlake`;
}

/** Loads @duckdb/node-api on first use, so the rest of ctlake runs without it. */
async function importDuckDB(): Promise<typeof DuckDB> {
  try {
    return await import('@duckdb/node-api');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error(missingDuckDB(), { cause: error });
    throw error;
  }
}

/**
 * Starts an engine on a fresh in-memory database holding one empty event data
 * store. The database cannot touch files or the network (enable_external_access
 * is off), so a query can read nothing but the store.
 */
export async function createSqlEngine(options: SqlEngineOptions): Promise<SqlEngine> {
  const duckdb = await importDuckDB();
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const setup = await instance.connect();
  try {
    await setup.run(createEventTableSql(options.storeType ?? DEFAULT_STORE_TYPE));
    for (const macro of PRESTO_MACROS) await setup.run(macro);
    // Lake's clock is UTC. Without the ICU extension DuckDB is UTC already
    // and refuses the setting, which is fine.
    await setup.run("SET TimeZone = 'UTC'").catch(() => undefined);
    await setup.run('SET enable_external_access = false');
    await setup.run('SET lock_configuration = true');
  } finally {
    setup.closeSync();
  }
  return new DuckDBSqlEngine(instance, prestoRenderer(duckdb), options);
}

class DuckDBSqlEngine implements SqlEngine {
  readonly #instance: DuckDB.DuckDBInstance;
  readonly #render: PrestoRenderer;
  readonly #store: { id: string; arn: string };
  readonly #storeType: LakeStoreType;
  #events = 0;
  #bytes = 0;
  #countTemplate: SerializedSql | undefined;

  constructor(instance: DuckDB.DuckDBInstance, render: PrestoRenderer, options: SqlEngineOptions) {
    this.#instance = instance;
    this.#render = render;
    this.#store = { id: options.eventDataStoreId, arn: options.eventDataStoreArn };
    this.#storeType = options.storeType ?? DEFAULT_STORE_TYPE;
  }

  get eventCount(): number {
    return this.#events;
  }

  get totalBytes(): number {
    return this.#bytes;
  }

  get bytesPerEvent(): number {
    return this.#events === 0 ? 0 : this.#bytes / this.#events;
  }

  async load(events: Iterable<RawEvent> | AsyncIterable<RawEvent>): Promise<number> {
    return this.#withConnection(async (connection) => {
      const totals = await loadEvents(connection, events, {
        storeType: this.#storeType,
        onBatch: (count, bytes) => {
          this.#events += count;
          this.#bytes += bytes;
        },
      });
      return totals.events;
    });
  }

  async check(sql: string): Promise<string | undefined> {
    return this.#withConnection(async (connection) => {
      const prepared = await this.#prepare(connection, sql);
      return prepared.problem;
    });
  }

  async run(sql: string, options: { table?: boolean } = {}): Promise<SqlResult> {
    return this.#withConnection(async (connection) => {
      const { problem, sql: resolved, parsed } = await this.#prepare(connection, sql);
      if (problem !== undefined) throw new Error(problem);
      // The scan is counted before the query runs: loads may go on meanwhile.
      const eventsScanned = await this.#scanned(connection, parsed);
      const bytesScanned = Math.round(eventsScanned * this.bytesPerEvent);
      let result: DuckDB.DuckDBResult;
      try {
        result = await connection.stream(resolved);
      } catch (error) {
        throw new Error(lakeErrorMessage(error, EVENT_TABLE, this.#store.id), { cause: error });
      }
      const columns = outputColumnNames(parsed, result.columnNames());
      const rows: SqlResult['rows'] = [];
      const table: Array<Array<string | null>> | undefined = options.table ? [] : undefined;
      try {
        for await (const chunk of result) {
          for (const values of chunk.getRows()) {
            rows.push(this.#row(columns, values));
            table?.push(values.map((value) => (value === null ? null : this.#render(value))));
          }
        }
      } catch (error) {
        throw new Error(lakeErrorMessage(error, EVENT_TABLE, this.#store.id), { cause: error });
      }
      return { rows, columns, eventsScanned, bytesScanned, aggregate: isAggregateQuery(parsed), table };
    });
  }

  async expireBefore(cutoff: Date): Promise<number> {
    if (this.#events === 0) return 0;
    return this.#withConnection(async (connection) => {
      const at = `TIMESTAMP '${cutoff.toISOString().slice(0, 23).replace('T', ' ')}'`;
      const result = await connection.run(`DELETE FROM ${quoteIdentifier(EVENT_TABLE)} WHERE eventtime < ${at}`);
      const gone = result.rowsChanged;
      if (gone > 0) {
        this.#bytes -= Math.round(gone * this.bytesPerEvent);
        this.#events -= gone;
      }
      return gone;
    });
  }

  async oldestEventTime(): Promise<Date | undefined> {
    return this.#withConnection(async (connection) => {
      const reader = await connection.runAndReadAll(`SELECT epoch_ms(min(eventtime)) FROM ${quoteIdentifier(EVENT_TABLE)}`);
      const ms = reader.getRows()[0]?.[0];
      return ms === null || ms === undefined ? undefined : new Date(Number(ms));
    });
  }

  /**
   * The events a parsed query scans: a COUNT(*) over its table with only the
   * eventTime conditions of its WHERE (scan-range.ts). The whole store when
   * the query does not read the table directly, or the count cannot be built.
   */
  async #scanned(connection: DuckDB.DuckDBConnection, parsed: SerializedSql): Promise<number> {
    try {
      this.#countTemplate ??= await this.#serialize(connection, `SELECT count(*) FROM ${quoteIdentifier(EVENT_TABLE)}`);
      const tree = scanCountTree(parsed, this.#countTemplate, EVENT_TABLE);
      if (tree === undefined) return this.#events;
      const text = (await connection.runAndReadAll(deserializeSqlQuery(tree))).getRows()[0]?.[0];
      const count = (await connection.runAndReadAll(String(text))).getRows()[0]?.[0];
      return Number(count ?? this.#events);
    } catch {
      return this.#events;
    }
  }

  async #serialize(connection: DuckDB.DuckDBConnection, sql: string): Promise<SerializedSql> {
    const reader = await connection.runAndReadAll(serializeSqlQuery(sql));
    return JSON.parse(String(reader.getRows()[0]?.[0] ?? '{}')) as SerializedSql;
  }

  close(): void {
    this.#instance.closeSync();
  }

  /** A Lake row: `{name: text}` per cell in order, top-level NULLs left out as Lake does. */
  #row(columns: readonly string[], values: readonly DuckDB.DuckDBValue[]): Array<Record<string, string>> {
    const row: Array<Record<string, string>> = [];
    values.forEach((value, index) => {
      if (value !== null) row.push({ [columns[index] ?? `_col${index}`]: this.#render(value) });
    });
    return row;
  }

  /**
   * Resolves the store reference and parses the statement. `problem` is set
   * when StartQuery would refuse it; otherwise `sql` is runnable on DuckDB and
   * `parsed` is its parse tree.
   */
  async #prepare(
    connection: DuckDB.DuckDBConnection,
    sql: string,
  ): Promise<{ problem?: string | undefined; sql: string; parsed: SerializedSql }> {
    const resolved = resolveEventDataStore(sql, this.#store, EVENT_TABLE);
    if (resolved.error !== undefined) return { problem: resolved.error, sql, parsed: {} };
    const parsed = await this.#serialize(connection, resolved.sql);
    const problem = statementProblem(parsed);
    return { problem: problem && lakeErrorMessage(problem, EVENT_TABLE, this.#store.id), sql: resolved.sql, parsed };
  }

  /**
   * Each call gets its own connection: Lake runs up to ten queries at once,
   * and a DuckDB connection runs one statement at a time.
   */
  async #withConnection<T>(work: (connection: DuckDB.DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.#instance.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  }
}
