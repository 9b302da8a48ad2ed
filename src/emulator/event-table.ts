import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The emulator's event data store as one DuckDB table, and the fast path that
 * fills it from raw CloudTrail events (the JSON records of trail log files).
 */

/** A raw CloudTrail event, as in a trail log file's `Records` array. */
type CloudTrailEvent = Record<string, unknown>;

/** The table that queries naming the event data store are pointed at. */
export const EVENT_TABLE = 'event_data_store';

export interface EventColumn {
  /** The column as Lake names it (what `SELECT *` shows). */
  name: string;
  /** The event's JSON key; it differs from `name` only for requestID and eventID. */
  jsonKey: string;
  /** A DuckDB type; struct field names are the event's JSON keys, exactly. */
  type: string;
}

const TEXT = 'VARCHAR';
/**
 * Lake types requestParameters, responseElements and the like as
 * map<string, string>: top-level keys stay keys, nested objects and arrays
 * become their JSON text, so `element_at(requestParameters, 'bucketName')`
 * works and `{key=value}` is what a plain SELECT shows.
 */
const TEXT_MAP = 'MAP(VARCHAR, VARCHAR)';

/** A STRUCT type. Names are quoted because json_transform matches keys case-sensitively. */
function struct(fields: Record<string, string>): string {
  return `STRUCT(${Object.entries(fields).map(([name, type]) => `"${name}" ${type}`).join(', ')})`;
}

const sessionContext = struct({
  attributes: struct({ creationDate: 'TIMESTAMP', mfaAuthenticated: TEXT }),
  sessionIssuer: struct({ type: TEXT, principalId: TEXT, arn: TEXT, accountId: TEXT, userName: TEXT }),
  webIdFederationData: struct({ federatedProvider: TEXT, attributes: TEXT_MAP }),
  sourceIdentity: TEXT,
  ec2RoleDelivery: TEXT,
  ec2IssuedInVpc: TEXT,
});

const userIdentity = struct({
  type: TEXT,
  principalId: TEXT,
  arn: TEXT,
  accountId: TEXT,
  accessKeyId: TEXT,
  userName: TEXT,
  sessionContext,
  invokedBy: TEXT,
  identityProvider: TEXT,
  credentialId: TEXT,
  onBehalfOf: struct({ userId: TEXT, identityStoreArn: TEXT }),
});

/**
 * CloudTrail Lake's columns for CloudTrail events, in Lake's order, with
 * their nesting. Column and field names resolve case-insensitively in DuckDB,
 * as in Lake, so `eventTime`, `eventtime` and `userIdentity.sessionContext`
 * all work; the renderer lowercases field names as Lake prints them.
 */
export const EVENT_COLUMNS: readonly EventColumn[] = [
  ['eventVersion', TEXT],
  ['userIdentity', userIdentity],
  ['eventTime', 'TIMESTAMP'],
  ['eventSource', TEXT],
  ['eventName', TEXT],
  ['awsRegion', TEXT],
  ['sourceIPAddress', TEXT],
  ['userAgent', TEXT],
  ['errorCode', TEXT],
  ['errorMessage', TEXT],
  ['requestParameters', TEXT_MAP],
  ['responseElements', TEXT_MAP],
  ['additionalEventData', TEXT_MAP],
  ['requestId', TEXT, 'requestID'],
  ['eventId', TEXT, 'eventID'],
  ['readOnly', 'BOOLEAN'],
  ['resources', `${struct({ accountId: TEXT, type: TEXT, ARN: TEXT, ARNPrefix: TEXT })}[]`],
  ['eventType', TEXT],
  ['apiVersion', TEXT],
  ['managementEvent', 'BOOLEAN'],
  ['recipientAccountId', TEXT],
  ['sharedEventId', TEXT, 'sharedEventID'],
  ['annotation', TEXT],
  ['vpcEndpointId', TEXT],
  ['vpcEndpointAccountId', TEXT],
  ['serviceEventDetails', TEXT_MAP],
  ['addendum', struct({ reason: TEXT, updatedFields: TEXT, originalRequestID: TEXT, originalEventID: TEXT })],
  ['edgeDeviceDetails', TEXT],
  ['eventCategory', TEXT],
  ['tlsDetails', struct({ tlsVersion: TEXT, cipherSuite: TEXT, clientProvidedHostHeader: TEXT })],
  ['sessionCredentialFromConsole', TEXT],
].map(([name, type, jsonKey]) => ({ name: name!, type: type!, jsonKey: jsonKey ?? name! }));

/** `CREATE TABLE` for the event data store. */
export function createEventTableSql(table = EVENT_TABLE): string {
  return `CREATE TABLE "${table}" (${EVENT_COLUMNS.map((c) => `"${c.name}" ${c.type}`).join(', ')})`;
}

/**
 * The json_transform structure that turns one event's JSON into one row. Keys
 * follow EVENT_COLUMNS, so unnesting the result lines up with the table's
 * columns by position. json_transform is lenient: a missing key or a value of
 * the wrong shape becomes NULL rather than failing the load, and eventTime
 * strings such as `2024-05-01T12:34:56Z` parse as UTC.
 */
function rowStructure(): string {
  return JSON.stringify(Object.fromEntries(EVENT_COLUMNS.map((c) => [c.jsonKey, c.type])));
}

export interface LoadOptions {
  /** The table to fill. @default EVENT_TABLE */
  table?: string | undefined;
  /**
   * Events per batch. Memory is bounded by one batch of JSON text inside
   * DuckDB's staging table (about batchSize × 1.5 kB for typical events);
   * nothing is kept on the JavaScript side. @default 20000
   */
  batchSize?: number | undefined;
  /** Called after each batch is in the table, with that batch's events and JSON bytes. */
  onBatch?: ((events: number, bytes: number) => void) | undefined;
}

export interface LoadTotals {
  events: number;
  /** UTF-8 bytes of the events' JSON text: what a scan of them reads, near enough. */
  bytes: number;
}

/**
 * Appends events to the table in batches: each event's JSON goes through
 * DuckDB's appender into a temporary staging table, and every `batchSize`
 * events one INSERT ... SELECT parses the batch with json_transform (vectorised
 * and parallel in DuckDB) into typed rows. A batch is visible to queries once
 * `onBatch` is called; a failure leaves earlier batches in place.
 *
 * Throws a TypeError if an event is not a JSON object.
 */
export async function loadEvents(
  connection: DuckDBConnection,
  events: Iterable<CloudTrailEvent> | AsyncIterable<CloudTrailEvent>,
  options: LoadOptions = {},
): Promise<LoadTotals> {
  const table = options.table ?? EVENT_TABLE;
  const batchSize = options.batchSize ?? 20_000;
  const staging = 'event_staging';
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${staging} (line VARCHAR)`);
  const insert = `INSERT INTO "${table}" SELECT unnest(json_transform(line, '${rowStructure().replaceAll("'", "''")}')) FROM ${staging}`;
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
    const line = JSON.stringify(event);
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
