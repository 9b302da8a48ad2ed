import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { QueryResultRow } from '../lake-model.js';
import type { QueryStatus } from '../source/query-status.js';
import type { QueryDelivery } from './delivery.js';
import { ServiceError } from './service-error.js';

/** A result set the emulator serves as if a query had produced it. */
export interface CannedQuery {
  /** @default a random UUID */
  queryId?: string | undefined;
  rows: QueryResultRow[];
  /** The statement DescribeQuery shows as QueryString. @default none: the rows belong to no store's schema, and the exporter takes their columns as they come */
  sql?: string | undefined;
  /**
   * Statuses reported, one per status-bearing call (DescribeQuery or
   * GetQueryResults) on this query, before `final`. `['QUEUED', 'RUNNING']`
   * answers QUEUED, then RUNNING, then `final` from then on.
   * @default []
   */
  statuses?: QueryStatus[] | undefined;
  /** @default 'FINISHED' */
  final?: 'FINISHED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT' | undefined;
  /** The ErrorMessage of a query that did not finish. */
  errorMessage?: string | undefined;
  /** DescribeQuery's EventsScanned. @default 10 × rows */
  eventsScanned?: number | undefined;
  /** BytesScanned. @default the text size of the rows × 10 */
  bytesScanned?: number | undefined;
  /** Reported TotalResultsCount, to play a service that miscounts. @default rows.length */
  totalResultsCount?: number | undefined;
  creationTime?: Date | undefined;
}

export interface StoredQuery {
  queryId: string;
  /** The statement; undefined for a canned result given without one (DescribeQuery then has no QueryString). */
  sql: string | undefined;
  rows: QueryResultRow[];
  /** Canned lifecycle steps still to report. */
  pending: QueryStatus[];
  status: QueryStatus;
  /** The status once `pending` is used up; undefined while a SQL query runs. */
  final: QueryStatus | undefined;
  errorMessage: string | undefined;
  eventsScanned: number;
  bytesScanned: number;
  totalResultsCount: number;
  creationTime: Date;
  executionTimeInMillis: number;
  /** Where a query started with DeliveryS3Uri delivers its results, and how that goes. */
  delivery: QueryDelivery | undefined;
}

/**
 * The key of the page tokens' HMAC: a string of hex digits (an even number
 * of them) is read as bytes in hex, any other string as its UTF-8 bytes.
 */
export type TokenKey = string | Uint8Array;

/** The bytes of a TokenKey; a TypeError for an empty one. */
export function tokenKeyBytes(key: TokenKey): Buffer {
  const bytes = typeof key !== 'string' ? Buffer.from(key) : /^(?:[0-9a-fA-F]{2})+$/.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'utf8');
  if (bytes.length === 0) throw new TypeError('startEmulator: tokenKey must not be empty');
  return bytes;
}

export interface ListFilter {
  startTime?: Date | undefined;
  endTime?: Date | undefined;
  status?: QueryStatus | undefined;
}

/**
 * The emulator's queries: their lifecycle, retention and pages. Page tokens
 * are opaque and bound to what they page (the query and page size, or a
 * ListQueries filter) by an HMAC with a per-server key; any other token is
 * InvalidNextTokenException, as on the service. A token holds no time and no
 * connection: it stays good for its query as long as the query is kept (the
 * retention), from any client. Two emulators given the same `tokenKey`
 * accept each other's tokens for queries of the same id. A query older than
 * the retention (7 days on the service) is QueryIdNotFoundException.
 */
export class QueryStore {
  readonly #queries = new Map<string, StoredQuery>();
  readonly #tokenKey: Buffer;
  readonly #retentionMs: number;

  constructor(retentionMs = 7 * 24 * 3600 * 1000, tokenKey?: TokenKey) {
    this.#retentionMs = retentionMs;
    this.#tokenKey = tokenKey === undefined ? randomBytes(16) : tokenKeyBytes(tokenKey);
  }

  add(canned: CannedQuery): StoredQuery {
    const rows = canned.rows;
    const queryId = canned.queryId ?? randomUUID();
    const pending = [...(canned.statuses ?? [])];
    const stored: StoredQuery = {
      queryId,
      // No statement unless the test gives one: rows given as they are
      // belong to no store's schema, so the exporter takes them as they come.
      sql: canned.sql,
      rows,
      pending,
      status: pending[0] ?? canned.final ?? 'FINISHED',
      final: canned.final ?? 'FINISHED',
      errorMessage: canned.errorMessage,
      eventsScanned: canned.eventsScanned ?? rows.length * 10,
      bytesScanned: canned.bytesScanned ?? approximateBytes(rows) * 10,
      totalResultsCount: canned.totalResultsCount ?? rows.length,
      creationTime: canned.creationTime ?? new Date(),
      executionTimeInMillis: 0,
      delivery: undefined,
    };
    this.#queries.set(queryId, stored);
    return stored;
  }

  /** A query started by StartQuery: QUEUED, with no final status until its run settles it. */
  addStarted(sql: string, delivery: QueryDelivery | undefined): StoredQuery {
    const stored = this.add({ rows: [], sql });
    Object.assign(stored, { status: 'QUEUED', final: undefined, eventsScanned: 0, bytesScanned: 0, totalResultsCount: 0, delivery });
    return stored;
  }

  /** Queries within the retention, newest first, filtered as ListQueries filters. */
  list(filter: ListFilter = {}): StoredQuery[] {
    return [...this.#queries.values()]
      .filter((q) => !this.#expired(q))
      .filter((q) => !filter.status || q.status === filter.status)
      .filter((q) => !filter.startTime || q.creationTime >= filter.startTime)
      .filter((q) => !filter.endTime || q.creationTime <= filter.endTime)
      .sort((a, b) => b.creationTime.getTime() - a.creationTime.getTime());
  }

  /** QueryStatus QUEUED or RUNNING: what counts against the limit of concurrent queries. */
  active(): number {
    let n = 0;
    for (const q of this.#queries.values()) if (q.status === 'QUEUED' || q.status === 'RUNNING') n++;
    return n;
  }

  get(queryId: unknown): StoredQuery {
    const query = typeof queryId === 'string' ? this.#queries.get(queryId) : undefined;
    if (!query || this.#expired(query)) {
      throw new ServiceError('QueryIdNotFoundException', `The query ID ${String(queryId)} does not exist or is not associated with the specified event data store.`);
    }
    return query;
  }

  /** The status one status-bearing call sees; each call moves a canned lifecycle on by one step. */
  observe(query: StoredQuery): QueryStatus {
    const next = query.pending.shift();
    if (next) query.status = next;
    else if (query.final) query.status = query.final;
    return query.status;
  }

  page(query: StoredQuery, offset: number, size: number): { rows: QueryResultRow[]; nextToken: string | undefined } {
    const end = Math.min(offset + size, query.rows.length);
    return {
      rows: query.rows.slice(offset, end),
      nextToken: end < query.rows.length ? this.pageToken(query, size, end) : undefined,
    };
  }

  /** The GetQueryResults token for `offset` of `query` paged by `size` (offsetOf reads it back). */
  pageToken(query: StoredQuery, size: number, offset: number): string {
    return this.token(`${query.queryId}/${size}`, offset);
  }

  /** The offset a page token stands for; throws InvalidNextTokenException unless it was minted for this query and size. */
  offsetOf(query: StoredQuery, token: string, size: number): number {
    return this.tokenOffset(`${query.queryId}/${size}`, token);
  }

  /** A token for `offset` within whatever `scope` names (a query and size, a ListQueries filter). */
  token(scope: string, offset: number): string {
    return Buffer.from(`${offset}.${this.#mac(scope, offset)}`).toString('base64url');
  }

  tokenOffset(scope: string, token: string): number {
    const [offsetText, mac] = Buffer.from(token, 'base64url').toString('utf8').split('.');
    const offset = Number(offsetText);
    if (!mac || !Number.isInteger(offset) || mac !== this.#mac(scope, offset)) {
      throw new ServiceError('InvalidNextTokenException', 'A token that is not valid, or a token that was previously used in a request with different parameters.');
    }
    return offset;
  }

  #mac(scope: string, offset: number): string {
    return createHmac('sha256', this.#tokenKey).update(`${scope}#${offset}`).digest('base64url').slice(0, 22);
  }

  #expired(query: StoredQuery): boolean {
    return Date.now() - query.creationTime.getTime() > this.#retentionMs;
  }
}

/** The text size of rows: the emulator's stand-in for bytes scanned by a canned query. */
export function approximateBytes(rows: QueryResultRow[]): number {
  let bytes = 0;
  for (const row of rows) for (const cell of row) for (const key in cell) bytes += key.length + (cell[key]?.length ?? 0);
  return bytes;
}
