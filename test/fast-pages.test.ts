import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { Emulator } from '../src/emulator/server.js';
import type { QueryResultRow } from '../src/lake-model.js';
import { guessNextToken, useFastPages } from '../src/source/fast-pages.js';
import { queryPages, type QueryPage, type QueryPagesOptions } from '../src/source/query-pages.js';
import { readAhead } from '../src/source/read-ahead.js';
import { UNICODE } from './support/awkward-events.js';
import { FAST_RETRY, QUERY_ID, emulatorClient, sampleRows, withEmulator } from './support/lake.js';

/**
 * The GetQueryResults fast path (src/source/fast-pages.ts) and the request
 * for the next page made before a page is parsed (queryPages). Every answer
 * crosses the wire: the real SDK against the emulator, or against a small
 * server on 127.0.0.1 for bodies the emulator never sends; the SDK path is
 * the same client without useFastPages.
 */

const JSON_11 = 'application/x-amz-json-1.1';

/** Serves DescribeQuery as FINISHED and GetQueryResults from `pages`, by the NextToken asked for ('' for the first page). */
async function chainServer(pages: Map<string, { status?: number; body: string }>) {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { NextToken?: string };
      let answer = { status: 200, body: JSON.stringify({ QueryId: QUERY_ID, QueryStatus: 'FINISHED' }) };
      if (target.endsWith('.GetQueryResults')) {
        const token = input.NextToken ?? '';
        asked.push(token);
        const page = pages.get(token);
        answer = page ? { status: page.status ?? 200, body: page.body } : { status: 400, body: JSON.stringify({ __type: 'InvalidNextTokenException', message: 'no such token' }) };
      }
      res.writeHead(answer.status, { 'Content-Type': JSON_11, 'Content-Length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    asked,
    client: (fast: boolean) => {
      const client = new CloudTrailClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }, maxAttempts: 1 });
      return fast ? useFastPages(client) : client;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const options = (extra: Partial<QueryPagesOptions> = {}): QueryPagesOptions => ({ queryId: QUERY_ID, pageSize: 1000, retry: FAST_RETRY, pollMinMs: 1, pollMaxMs: 2, ...extra });

async function collect(client: CloudTrailClient, extra: Partial<QueryPagesOptions> = {}): Promise<QueryPage[]> {
  const pages: QueryPage[] = [];
  for await (const page of readAhead(queryPages(client, options(extra)))) pages.push(page);
  return pages;
}

async function failure(client: CloudTrailClient): Promise<{ code: unknown; message: string }> {
  const error = (await collect(client).then(
    () => new Error('no failure'),
    (e: unknown) => e,
  )) as Error & { code?: unknown };
  return { code: error.code, message: error.message };
}

/** Rows that are awkward on the wire: a column named NextToken, values that quote it, keys from the prototype, unicode and escapes. */
function awkwardRows(count: number, offset = 0): QueryResultRow[] {
  return Array.from({ length: count }, (_, i): QueryResultRow => [
    { seq: String(offset + i) },
    { NextToken: `"NextToken":"fake-${i}"}` },
    { ['__proto__']: '{"polluted":true}' },
    { constructor: UNICODE },
    { text: '\\"},"NextToken":"trap"}]]' },
    { empty: '' },
  ]);
}

describe('the fast path returns what the SDK returns', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await withEmulator();
  });
  afterAll(() => emulator.close());

  it('value for value on awkward rows, page for page, each page once and in order', async () => {
    const rows = [...awkwardRows(25), ...sampleRows(12)];
    const queryId = emulator.addQuery({ rows });
    const before = emulator.requests.length;
    const fast = await collect(useFastPages(emulatorClient(emulator)), { queryId, pageSize: 4 });
    const fastRequests = emulator.requests.slice(before).filter((r) => r.operation === 'GetQueryResults').length;
    const sdk = await collect(emulatorClient(emulator), { queryId, pageSize: 4 });
    expect(fast.map((page) => page.index)).toEqual([...Array(10).keys()]);
    expect(fast).toEqual(sdk);
    // Own properties, as parsed: `__proto__` is a column, not a prototype.
    expect(Object.keys(fast[0]!.rows[0]![2]!)).toEqual(['__proto__']);
    expect(fast.flatMap((page) => page.rows)).toHaveLength(37);
    // One request per page: the token in a value never started a request.
    expect(fastRequests).toBe(10);
  });

  it('a column named NextToken on the last page starts no request', async () => {
    const queryId = emulator.addQuery({ rows: awkwardRows(3) });
    const before = emulator.requests.length;
    const pages = await collect(useFastPages(emulatorClient(emulator)), { queryId, pageSize: 1000 });
    expect(pages).toHaveLength(1);
    expect(emulator.requests.slice(before).filter((r) => r.operation === 'GetQueryResults')).toHaveLength(1);
  });

  it('a consumer that stops early with a request ahead in flight ends cleanly (no unhandled failure)', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(50) });
    const seen: number[] = [];
    for await (const page of readAhead(queryPages(useFastPages(emulatorClient(emulator)), options({ queryId, pageSize: 5 })))) {
      seen.push(page.index);
      if (page.index === 2) break;
    }
    expect(seen).toEqual([0, 1, 2]);
  });
});

describe('answers the emulator never sends', () => {
  const page = (rows: QueryResultRow[], extra: Record<string, unknown> = {}) => JSON.stringify({ QueryStatus: 'FINISHED', QueryStatistics: { TotalResultsCount: 3 }, QueryResultRows: rows, ...extra });

  it('nulls and members the SDK leaves out come out as the SDK gives them', async () => {
    const body = JSON.stringify({ QueryStatus: 'FINISHED', QueryStatistics: { TotalResultsCount: 1, BytesScanned: 7, Extra: 1 }, QueryResultRows: [[{ a: '1' }]], NextToken: null, ErrorMessage: null, Surplus: { x: 1 } });
    const server = await chainServer(new Map([['', { body }]]));
    try {
      const fast = await collect(server.client(true));
      const sdk = await collect(server.client(false));
      expect(fast).toEqual(sdk);
    } finally {
      await server.close();
    }
  });

  it('a duplicate NextToken key: the request made with the first is discarded, the parsed one is followed, every page once', async () => {
    // JSON.parse keeps the last of duplicate keys; the bytes are read for the first.
    const first = `{"NextToken":"wrong",${page([[{ seq: '0' }]]).slice(1, -1)},"NextToken":"right"}`;
    const server = await chainServer(
      new Map([
        ['', { body: first }],
        ['wrong', { body: page([[{ seq: 'never' }]]) }],
        ['right', { body: page([[{ seq: '1' }], [{ seq: '2' }]]) }],
      ]),
    );
    try {
      const pages = await collect(server.client(true));
      expect(pages.map((p) => [p.index, p.rows.map((row) => row[0]!['seq'])])).toEqual([
        [0, ['0']],
        [1, ['1', '2']],
      ]);
      expect(server.asked.filter((token) => token === 'right')).toHaveLength(1);
      expect(await collect(server.client(false))).toEqual(pages);
    } finally {
      await server.close();
    }
  });

  it('the next page is asked for while the generator waits at this one, and an abort then ends the export', async () => {
    const chain = new Map([
      ['', { body: page([[{ seq: '0' }]], { NextToken: 't1' }) }],
      ['t1', { body: page([[{ seq: '1' }]], { NextToken: 't2' }) }],
      ['t2', { body: page([[{ seq: '2' }]]) }],
    ]);
    const server = await chainServer(chain);
    const controller = new AbortController();
    try {
      const pages = queryPages(server.client(true), options({ signal: controller.signal }));
      const first = await pages.next();
      expect(first.value).toMatchObject({ index: 0, nextToken: 't1' });
      // Nothing pulls the generator now; only the request made ahead can ask for t1.
      await expect.poll(() => server.asked, { timeout: 5000 }).toEqual(['', 't1']);
      const second = await pages.next();
      expect(second.value).toMatchObject({ index: 1, nextToken: 't2' });
      controller.abort();
      await expect(pages.next()).rejects.toMatchObject({ code: 'INTERRUPTED' });
      // The SDK path asks for t1 only once pulled.
      const sdk = queryPages(server.client(false), options());
      await sdk.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(server.asked).toEqual(['', 't1', '']);
      await sdk.return(undefined);
    } finally {
      await server.close();
    }
  });

  it.each([
    ['a 2xx body that is not JSON, its NextToken readable', { body: '<html>"NextToken":"abc"}' }],
    ['an empty 2xx body', { body: '' }],
    ['a 2xx JSON list', { body: '[1,2]' }],
    ['a 2xx JSON null', { body: 'null' }],
    ['a row that is not a list', { body: page(['x' as never]) }],
    ['a value that is not a string', { body: page([[{ n: 1 as never }]]) }],
    ['a NextToken that is a number', { body: page([[{ n: '1' }]], { NextToken: 5 }) }],
    ['ThrottlingException every time', { status: 400, body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }) }],
    ['an HTML 503', { status: 503, body: '<!doctype html><title>Service Unavailable</title>' }],
    ['a 404 without __type', { status: 404, body: JSON.stringify({ message: 'Not Found' }) }],
  ])('%s fails with the same code and message on both paths', async (_, answer) => {
    const server = await chainServer(new Map([['', answer]]));
    try {
      const fast = await failure(server.client(true));
      const sdk = await failure(server.client(false));
      expect(fast).toEqual(sdk);
      expect(fast.code).not.toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe('guessNextToken', () => {
  const guess = (text: string) => guessNextToken(Buffer.from(text));

  it('reads the token when it is the first or the last key', () => {
    expect(guess('{"NextToken":"abc","QueryResultRows":[]}')).toBe('abc');
    expect(guess('{"QueryResultRows":[],"NextToken":"a\\u0062c"}')).toBe('abc');
    expect(guess(' { "QueryResultRows":[],"NextToken":"x/y+z=" } \n')).toBe('x/y+z=');
  });

  it('does not take a column named NextToken or a quoted one for the token', () => {
    expect(guess('{"QueryResultRows":[[{"NextToken":"cell"}]]}')).toBeUndefined();
    expect(guess('{"QueryResultRows":[[{"v":"\\"NextToken\\":\\"x\\"}"}]]}')).toBeUndefined();
    expect(guess('{"QueryResultRows":[[{"NextToken":"cell"}]],"QueryStatus":"FINISHED"}')).toBeUndefined();
    expect(guess('{"NextToken":""}')).toBeUndefined();
    expect(guess('not json')).toBeUndefined();
  });
});
