import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { QueryResultRow } from '../rows/flatten-row.js';
import type { QueryStatus } from '../source/query-status.js';
import { ServiceError } from './service-error.js';

/** A result set the emulator serves as if a query had produced it. */
export interface CannedQuery {
  /** @default a random UUID */
  queryId?: string | undefined;
  rows: QueryResultRow[];
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
  /** BytesScanned. @default the JSON size of the rows × 10 */
  bytesScanned?: number | undefined;
  /** Reported TotalResultsCount, to play a service that miscounts. @default rows.length */
  totalResultsCount?: number | undefined;
  creationTime?: Date | undefined;
}

export interface StoredQuery {
  queryId: string;
  sql: string;
  rows: QueryResultRow[];
  pending: QueryStatus[];
  status: QueryStatus;
  final: QueryStatus;
  errorMessage: string | undefined;
  eventsScanned: number;
  bytesScanned: number;
  totalResultsCount: number;
  creationTime: Date;
  executionTimeInMillis: number;
}

/**
 * The emulator's queries: their lifecycle and their pages. Page tokens are
 * opaque and bound to their query and page size by an HMAC with a per-server
 * key; any other token is InvalidNextTokenException, as on the service.
 */
export class QueryStore {
  readonly #queries = new Map<string, StoredQuery>();
  readonly #tokenKey = randomBytes(16);

  add(canned: CannedQuery): StoredQuery {
    const rows = canned.rows;
    const queryId = canned.queryId ?? randomUUID();
    const pending = [...(canned.statuses ?? [])];
    const stored: StoredQuery = {
      queryId,
      sql: canned.sql ?? `SELECT * FROM canned WHERE queryId = '${queryId}'`,
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
    };
    this.#queries.set(queryId, stored);
    return stored;
  }

  list(): StoredQuery[] {
    return [...this.#queries.values()];
  }

  get(queryId: unknown): StoredQuery {
    const query = typeof queryId === 'string' ? this.#queries.get(queryId) : undefined;
    if (!query) throw new ServiceError('QueryIdNotFoundException', `The query ID ${String(queryId)} does not exist or is not associated with the specified event data store.`);
    return query;
  }

  /** The status one status-bearing call sees; each call moves a canned lifecycle on by one step. */
  observe(query: StoredQuery): QueryStatus {
    const next = query.pending.shift();
    query.status = next ?? query.final;
    return query.status;
  }

  page(query: StoredQuery, offset: number, size: number): { rows: QueryResultRow[]; nextToken: string | undefined } {
    const end = Math.min(offset + size, query.rows.length);
    return {
      rows: query.rows.slice(offset, end),
      nextToken: end < query.rows.length ? this.#token(query.queryId, end, size) : undefined,
    };
  }

  /** The offset a token stands for; throws InvalidNextTokenException unless it was minted for this query and size. */
  offsetOf(query: StoredQuery, token: string, size: number): number {
    const [offsetText, mac] = Buffer.from(token, 'base64url').toString('utf8').split('.');
    const offset = Number(offsetText);
    if (!mac || !Number.isInteger(offset) || mac !== this.#mac(query.queryId, offset, size)) {
      throw new ServiceError('InvalidNextTokenException', 'A token that is not valid, or a token that was previously used in a request with different parameters.');
    }
    return offset;
  }

  #token(queryId: string, offset: number, size: number): string {
    return Buffer.from(`${offset}.${this.#mac(queryId, offset, size)}`).toString('base64url');
  }

  #mac(queryId: string, offset: number, size: number): string {
    return createHmac('sha256', this.#tokenKey).update(`${queryId}/${offset}/${size}`).digest('base64url').slice(0, 22);
  }
}

function approximateBytes(rows: QueryResultRow[]): number {
  let bytes = 0;
  for (const row of rows) for (const cell of row) for (const key in cell) bytes += key.length + (cell[key]?.length ?? 0);
  return bytes;
}
