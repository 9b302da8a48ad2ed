import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueryResultsCommand, type CloudTrailClient, type DescribeQueryCommandOutput, type GetQueryResultsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, quoted } from '../errors.js';
import type { QueryResultRow } from '../lake-model.js';
import { checkedStatus, isPending, queryEndedError, unexpected, waitForQuery, type QueryStatus } from './query-status.js';
import { watchNextToken, type NextTokenHook } from './fast-pages.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

/** One GetQueryResults page, as the service returned it. */
export interface QueryPage {
  /** Zero-based position of the page in the query's chain of NextTokens. */
  index: number;
  rows: QueryResultRow[];
  /** QueryStatistics.TotalResultsCount: the rows the whole query returns. */
  totalResultsCount: number | undefined;
  /** QueryStatistics.BytesScanned on this page. */
  bytesScanned: number | undefined;
  /** The token of the page after this one; undefined on the last page. A checkpoint resumes from it. */
  nextToken: string | undefined;
}

/** Where a chain of pages read before goes on: the NextToken of the next page to read, and what the pages before it held. */
export interface PageResume {
  nextToken: string;
  /** Pages read before: the next page's index. */
  pages: number;
  /** Rows those pages held. */
  rows: number;
}

export interface QueryPagesOptions {
  queryId: string;
  /** The event data store's ARN or id. GetQueryResults no longer needs it; DescribeQuery may. */
  eventDataStore?: string | undefined;
  /** MaxQueryResults, 1 to 1000 (checked by normalizeExportOptions). */
  pageSize: number;
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Passed to waitForQuery; also the first delay before a page is asked for again after a status disagreement. */
  pollMinMs?: number | undefined;
  /** Passed to waitForQuery; also the cap on the delays of status disagreements. */
  pollMaxMs?: number | undefined;
  /** Passed to waitForQuery. @default MAX_QUERY_WAIT_MS */
  maxWaitMs?: number | undefined;
  /**
   * Pages a chain may have when no page ever reports TotalResultsCount: the
   * only bound such a chain has. @default ceil(UNCOUNTED_ROW_LIMIT / pageSize)
   */
  uncountedPageLimit?: number | undefined;
  /**
   * Go on from a page read before (by this process or an earlier one: Lake
   * keeps a query's results, and its tokens stay valid, for 7 days) instead
   * of the first page. The query must be the one the token was given for,
   * paged by the same pageSize; the service answers InvalidNextTokenException
   * (INVALID_NEXT_TOKEN) otherwise.
   */
  resume?: PageResume | undefined;
  /** Called after every DescribeQuery while the query is waited for. */
  onStatus?: ((description: DescribeQueryCommandOutput) => void) | undefined;
  /** Called once with the DescribeQuery of the FINISHED query, before the first page. */
  onDescribe?: ((description: DescribeQueryCommandOutput) => void) | undefined;
}

/**
 * How often one page may be answered QUEUED or RUNNING by GetQueryResults
 * while DescribeQuery answers FINISHED, before the export fails: each time
 * the page is asked for again after a delay from pollMinMs, doubling, capped
 * at pollMaxMs (at the defaults 0.5 + 1 + 2 + 4 + 5 + 5 = 17.5 s in all).
 * The service's two views of a query may disagree for a moment after it
 * finished; one that keeps disagreeing is not going to agree.
 */
export const STATUS_DISAGREEMENT_LIMIT = 6;

/**
 * Empty pages in a row, each with a new NextToken, that a chain may hand out.
 * Lake fills each page up to MaxQueryResults but the last; a few empty pages
 * are tolerated, a run of them is a chain that does not converge.
 */
export const EMPTY_PAGE_LIMIT = 10;

/**
 * Rows a chain may hand out when no page reports TotalResultsCount (the
 * service always sends it; an endpoint that does not is bounded by this
 * instead): 100 million, 100,000 pages at the default page size.
 */
export const UNCOUNTED_ROW_LIMIT = 100_000_000;

/**
 * Yields every page of a query's results, in order, each exactly once.
 *
 * First DescribeQuery is polled until the query leaves QUEUED and RUNNING, so a
 * query is never read as if complete (the SDK's paginateGetQueryResults does not
 * check QueryStatus, and ignores its pageSize). Then GetQueryResults is called
 * with MaxQueryResults and the previous NextToken until there is none. A failed
 * call is retried with the same NextToken, so a retried page is yielded once.
 * On a client with useFastPages (./fast-pages.ts, as createCloudTrailClient
 * builds), the next page is asked for as soon as this page's NextToken is
 * read from its bytes, before this page is parsed, checked and yielded, so
 * that only the wire is on the chain of NextTokens: at most one such request
 * ahead, made only when the chain's bounds below are not near
 * (ChainGuard.mayFollow), and discarded, never yielded, when the parsed
 * NextToken is another, the page is pending, or the generator ends. So a
 * suspended generator holds at most one page beyond the one it yielded
 * (that request, in flight or parsed). Otherwise nothing is fetched ahead:
 * wrap the generator in `readAhead` for that.
 *
 * Every chain ends; one that does not converge fails with UNEXPECTED_RESPONSE
 * before its first page too many is yielded, so that nothing is committed:
 * - a NextToken that any earlier page gave (a cycle, not only a page that
 *   hands out its own token); the tokens seen are kept in a Set, which the
 *   bounds below bound;
 * - a NextToken after the rows read already exceed TotalResultsCount, or a
 *   TotalResultsCount that falls below the rows read before its page;
 * - more than EMPTY_PAGE_LIMIT empty pages in a row, each with a NextToken;
 * - when no page ever reported TotalResultsCount, more than
 *   `uncountedPageLimit` pages.
 *
 * TotalResultsCount is the last one a page reported: a page without one
 * keeps the one before (QueryPage.totalResultsCount is then undefined, as the
 * service sent it), and one that changes replaces it as long as it is not
 * below the rows already read. The rows read are compared with that last
 * count once the chain ends (COUNT_MISMATCH in queryRecordBatches).
 *
 * A page that GetQueryResults answers QUEUED or RUNNING after DescribeQuery
 * said FINISHED is asked for again, after DescribeQuery and a delay that
 * backs off, at most STATUS_DISAGREEMENT_LIMIT times in a row.
 */
export async function* queryPages(client: CloudTrailClient, options: QueryPagesOptions): AsyncGenerator<QueryPage> {
  const { queryId, signal } = options;
  const description = await waitForQuery(client, options);
  options.onDescribe?.(description);

  const guard = new ChainGuard(queryId, options.pageSize, options.uncountedPageLimit, options.resume);
  let nextToken = options.resume?.nextToken;
  let disagreements = 0;
  // The request for the page after the one being read, made with the
  // NextToken read from that page's bytes before its parse (PageRequest).
  // (A holder: the listener below sets it while the generator awaits.)
  const held: { ahead: PageRequest | undefined } = { ahead: undefined };
  const drop = () => {
    held.ahead?.discard();
    held.ahead = undefined;
  };
  try {
    for (let index = options.resume?.pages ?? 0; ; index++) {
      const token = nextToken;
      let request: PageRequest;
      if (held.ahead !== undefined && held.ahead.token === token && held.ahead.index === index) request = held.ahead;
      else {
        drop();
        request = new PageRequest(client, options, token, index);
      }
      held.ahead = undefined;
      // Once this page's NextToken is read from its bytes, ask for the next page at once, if the chain's bounds let it.
      request.onGuess((guess) => {
        if (held.ahead !== undefined && held.ahead.token === guess) return;
        drop();
        held.ahead = guess !== undefined && guess !== token && guard.mayFollow(guess) ? new PageRequest(client, options, guess, index + 1) : undefined;
      });
      const answer = await request.answer;
      if ('pending' in answer) {
        drop();
        // Described as FINISHED but paged as pending: wait again and ask for the same page.
        disagreements++;
        if (disagreements > STATUS_DISAGREEMENT_LIMIT) {
          throw new CtlakeError(
            'UNEXPECTED_RESPONSE',
            `GetQueryResults: page ${index} was answered ${answer.pending} ${disagreements} times in a row while DescribeQuery answered FINISHED; the service disagrees with itself, try again later`,
            { queryId, page: index },
          );
        }
        await pause(disagreementDelay(options, disagreements), signal, queryId);
        await waitForQuery(client, options);
        index--;
        continue;
      }
      disagreements = 0;
      guard.check(answer.page, answer.nextToken);
      yield answer.page;
      if (!answer.nextToken) return;
      nextToken = answer.nextToken;
    }
  } finally {
    // A wrong guess, a failure, an abort or a consumer that stopped: the request ahead is never yielded.
    drop();
  }
}

/** The delay before the nth re-ask of a page (n from 1): pollMinMs doubling, capped at pollMaxMs. */
function disagreementDelay(options: QueryPagesOptions, n: number): number {
  const min = options.pollMinMs ?? 500;
  return Math.min(Math.max(min, options.pollMaxMs ?? 5000), min * 2 ** (n - 1));
}

async function pause(ms: number, signal: AbortSignal | undefined, queryId: string): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    throw new CtlakeError('INTERRUPTED', 'Export interrupted', { queryId, cause: error });
  }
}

/**
 * The bounds of one chain of pages (see queryPages): checked on each page
 * before it is yielded. Holds the tokens seen, at most as many as the bounds
 * let pages through.
 */
class ChainGuard {
  readonly #queryId: string;
  readonly #uncountedPageLimit: number;
  readonly #pageSize: number;
  /**
   * Each NextToken seen (by its SHA-256 when long: a token is the service's
   * and may be kilobytes, so memory stays 44 bytes a page), with the index
   * of the page that gave it.
   */
  readonly #tokens = new Map<string, number>();
  #rows = 0;
  #pages = 0;
  #emptyRun = 0;
  #total: number | undefined;

  constructor(queryId: string, pageSize: number, uncountedPageLimit: number | undefined, resume: PageResume | undefined) {
    this.#queryId = queryId;
    this.#uncountedPageLimit = uncountedPageLimit ?? Math.ceil(UNCOUNTED_ROW_LIMIT / pageSize);
    this.#pageSize = pageSize;
    // A resumed chain counts the pages and rows read before it.
    this.#rows = resume?.rows ?? 0;
    this.#pages = resume?.pages ?? 0;
  }

  /**
   * Whether the page after the one being read (not yet checked) may be asked
   * for with `token` before that page is parsed: only when the token is new
   * and check() could not fail on a page of up to pageSize rows under the
   * TotalResultsCount known so far. A page near a bound is followed after
   * its check, as always, so a chain that does not converge is asked for a
   * page more than before only when it breaks a bound the bytes did not
   * show: more rows than pageSize, a TotalResultsCount that falls, or a
   * first page's count. That request is discarded, never yielded.
   */
  mayFollow(token: string): boolean {
    if (this.#tokens.has(this.#key(token))) return false;
    if (this.#total !== undefined && this.#rows + this.#pageSize > this.#total) return false;
    if (this.#emptyRun + 1 > EMPTY_PAGE_LIMIT) return false;
    return this.#total !== undefined || this.#pages + 1 < this.#uncountedPageLimit;
  }

  #key(token: string): string {
    return token.length > 64 ? createHash('sha256').update(token).digest('base64') : token;
  }

  check(page: QueryPage, nextToken: string | undefined): void {
    const index = page.index;
    const fail = (what: string, why = "the service's chain of pages does not converge"): never => {
      throw new CtlakeError('UNEXPECTED_RESPONSE', `GetQueryResults: page ${index} ${what}; ${why}`, {
        queryId: this.#queryId,
        page: index,
      });
    };
    const before = this.#rows;
    this.#rows += page.rows.length;
    this.#pages++;
    const reported = page.totalResultsCount;
    if (reported !== undefined) {
      if (reported < before) fail(`reports TotalResultsCount ${reported}, below the ${before} rows earlier pages returned`, "the service's counts do not add up");
      this.#total = reported;
    }
    if (nextToken === undefined) return;
    const key = this.#key(nextToken);
    const earlier = this.#tokens.get(key);
    if (earlier !== undefined) {
      fail(earlier === index - 1 ? 'returned its own NextToken again' : `returned the NextToken page ${earlier} gave, so the pages would come round again`);
    }
    if (this.#total !== undefined && this.#rows > this.#total) fail(`has a NextToken though the ${this.#rows} rows read already exceed TotalResultsCount ${this.#total}`);
    this.#emptyRun = page.rows.length === 0 ? this.#emptyRun + 1 : 0;
    if (this.#emptyRun > EMPTY_PAGE_LIMIT) fail(`is the ${this.#emptyRun}th empty page in a row with a NextToken`);
    if (this.#total === undefined && this.#pages >= this.#uncountedPageLimit) {
      fail(`has a NextToken after ${this.#pages} pages (${this.#rows} rows) with no TotalResultsCount, the most ctlake reads without one`);
    }
    this.#tokens.set(key, index);
  }
}

type PageAnswer = { pending: QueryStatus } | { page: QueryPage; nextToken: string | undefined };

/**
 * One page's GetQueryResults call (fetchPage), started at once, with an
 * AbortController of its own that follows the export's signal, so that a
 * request made ahead can be discarded (aborted, its failure swallowed)
 * without touching the export. The NextToken read from the answer's bytes
 * before its parse (fast-pages.ts, on a client with useFastPages) is kept
 * and handed to the listener of onGuess, also when it came before the
 * listener.
 */
class PageRequest {
  readonly token: string | undefined;
  readonly index: number;
  readonly answer: Promise<PageAnswer>;
  readonly #controller = new AbortController();
  #guessed = false;
  #guess: string | undefined;
  #listener: ((guess: string | undefined) => void) | undefined;

  constructor(client: CloudTrailClient, options: QueryPagesOptions, token: string | undefined, index: number) {
    this.token = token;
    this.index = index;
    const outer = options.signal;
    const follow = () => this.#controller.abort(outer?.reason);
    if (outer?.aborted) follow();
    else outer?.addEventListener('abort', follow, { once: true });
    const onGuess = (guess: string | undefined) => {
      this.#guessed = true;
      this.#guess = guess;
      this.#listener?.(guess);
    };
    this.answer = fetchPage(client, { ...options, signal: this.#controller.signal }, token, index, onGuess).finally(() => outer?.removeEventListener('abort', follow));
    // Observed when the request is adopted; a discarded one's failure is nobody's.
    this.answer.catch(() => undefined);
  }

  onGuess(listener: (guess: string | undefined) => void): void {
    this.#listener = listener;
    if (this.#guessed) listener(this.#guess);
  }

  discard(): void {
    this.#listener = undefined;
    this.#controller.abort(new Error('a page requested ahead was not needed'));
  }
}

/**
 * One GetQueryResults call, retried, and its page checked. A function of its
 * own so that the SDK's answer is not held in the generator's frame while the
 * next page is fetched: once the consumer lets a page go, its rows can be
 * collected young instead of being copied by every garbage collection of the
 * next page (measured: GC time of a 1M-row NDJSON export 5.8 to 4.7 s).
 */
async function fetchPage(
  client: CloudTrailClient,
  options: QueryPagesOptions,
  token: string | undefined,
  index: number,
  onGuess: NextTokenHook,
): Promise<PageAnswer> {
  const { queryId, signal } = options;
  const response = await withRetry(
    () => {
      const command = new GetQueryResultsCommand({ QueryId: queryId, MaxQueryResults: options.pageSize, ...(token ? { NextToken: token } : {}) });
      watchNextToken(command, onGuess);
      return client.send(command, { abortSignal: signal });
    },
    { operation: 'GetQueryResults', queryId, page: index, signal, retry: options.retry, onRetry: options.onRetry },
  );
  const status = checkedStatus(response.QueryStatus, 'GetQueryResults', queryId, index);
  if (isPending(status)) return { pending: status };
  if (status !== 'FINISHED') throw queryEndedError(queryId, status, response.ErrorMessage);
  return { page: checkedPage(response, queryId, index), nextToken: response.NextToken };
}

/**
 * The page in a FINISHED answer, checked against the service model before any
 * of its rows is handed on: QueryResultRows a list of rows, each a list of
 * maps from column name to string; TotalResultsCount and BytesScanned whole
 * numbers; NextToken a string. An endpoint that answers JSON of another shape
 * thus fails with UNEXPECTED_RESPONSE before a byte is written, not halfway
 * through a file or as a wrong row count. The cost is one pass over the
 * page's cells, small beside parsing the page's JSON.
 */
function checkedPage(response: GetQueryResultsCommandOutput, queryId: string, index: number): QueryPage {
  const fail = (what: string): never => unexpected((n) => `GetQueryResults: page ${index} ${what}, which CloudTrail never sends; check ${n('endpointUrl')}`, queryId, index);
  const rows: unknown = response.QueryResultRows ?? [];
  if (!Array.isArray(rows)) return fail('has QueryResultRows that is not a list');
  // Plain loops, no array per cell (Object.values): this runs for every cell of an export.
  for (let r = 0; r < rows.length; r++) {
    const row: unknown = rows[r];
    if (!Array.isArray(row)) fail(`has row ${r} that is not a list of columns`);
    for (const cell of row as unknown[]) {
      if (typeof cell !== 'object' || cell === null || Array.isArray(cell)) fail(`has row ${r} with a column that is not a {name: value} map`);
      for (const key in cell as Record<string, unknown>) {
        const value = (cell as Record<string, unknown>)[key];
        if (typeof value !== 'string') fail(`has row ${r} with a value that is not a string (${quoted(value)})`);
      }
    }
  }
  if (response.NextToken !== undefined && typeof response.NextToken !== 'string') fail(`has a NextToken that is not a string (${quoted(response.NextToken)})`);
  const stats = response.QueryStatistics;
  for (const [name, value] of [['TotalResultsCount', stats?.TotalResultsCount], ['BytesScanned', stats?.BytesScanned]] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) fail(`has ${name} ${quoted(value)}, not a whole number`);
  }
  return { index, rows: rows as QueryResultRow[], totalResultsCount: stats?.TotalResultsCount, bytesScanned: stats?.BytesScanned, nextToken: response.NextToken };
}
