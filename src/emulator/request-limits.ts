/**
 * CloudTrail's request rate limits, as the emulator plays them, and the
 * counts of requests that tests read back (Emulator.stats()).
 *
 * The service limits each API to a few transactions per second and answers
 * a request over the limit with HTTP 400 ThrottlingException. The emulator
 * keeps two limits: one for the get/describe/list APIs (READ_OPERATIONS) and
 * one for every other operation (StartQuery, CancelQuery, and any unknown
 * name), each a token bucket.
 */

/** The operations the read limit (`tpsRead`) counts; every other operation counts against `tpsWrite`. */
export const READ_OPERATIONS: ReadonlySet<string> = new Set(['GetQueryResults', 'DescribeQuery', 'ListQueries', 'GetEventDataStore', 'ListEventDataStores', 'ListPublicKeys']);

export interface RateLimitOptions {
  /**
   * Requests per second to the get/describe/list APIs (GetQueryResults,
   * DescribeQuery, ListQueries, GetEventDataStore, ListEventDataStores,
   * ListPublicKeys)
   * before they are answered ThrottlingException. A token bucket of capacity
   * N, full at the start and refilled at N per second: a burst of N passes,
   * then one request every 1/N s. @default unlimited
   */
  tpsRead?: number | undefined;
  /** The same for StartQuery, CancelQuery and every other operation. @default unlimited */
  tpsWrite?: number | undefined;
}

/**
 * A token bucket: `capacity` tokens, refilled continuously at `perSecond`;
 * each admitted request takes one. Time is read from `now` so that a test of
 * the bucket itself needs no clock.
 */
export class TokenBucket {
  readonly #capacity: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, now = Date.now()) {
    this.#capacity = perSecond;
    this.#perMs = perSecond / 1000;
    this.#tokens = perSecond;
    this.#at = now;
  }

  /** Takes a token if there is one: true when the request is admitted. */
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.#capacity, this.#tokens + Math.max(0, now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Checks a limit option: undefined (unlimited) or a positive finite number. */
function checkRate(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`startEmulator: ${name} must be a positive number of requests per second, not ${JSON.stringify(value)?.slice(0, 40) ?? String(value)}`);
  }
  return value;
}

/** The two buckets, by operation. */
export class RequestLimits {
  readonly #read: TokenBucket | undefined;
  readonly #write: TokenBucket | undefined;

  /** Throws a TypeError for a rate that is not a positive number. */
  constructor(options: RateLimitOptions = {}) {
    const read = checkRate('tpsRead', options.tpsRead);
    const write = checkRate('tpsWrite', options.tpsWrite);
    this.#read = read === undefined ? undefined : new TokenBucket(read);
    this.#write = write === undefined ? undefined : new TokenBucket(write);
  }

  /** Whether a request of `operation` is within its limit now; false means ThrottlingException. */
  admit(operation: string): boolean {
    const bucket = READ_OPERATIONS.has(operation) ? this.#read : this.#write;
    return bucket === undefined || bucket.take();
  }
}

/** Counts by operation name: a null-prototype record, as the names come from a request header. */
export type OperationCounts = Record<string, number>;

/** What Emulator.stats() returns: a copy, so a test can keep it and compare. */
export interface EmulatorStats {
  /** Every request answered, by X-Amz-Target operation, throttled ones included. */
  requests: OperationCounts;
  /** The requests answered ThrottlingException, by operation: by `tpsRead`/`tpsWrite`, or by a throttle fault. */
  throttled: OperationCounts;
  /** The most queries that were QUEUED or RUNNING at one time (started with StartQuery or canned). */
  maxActiveQueries: number;
}

/** The per-operation counts behind EmulatorStats. */
export class RequestStats {
  readonly #requests: OperationCounts = Object.create(null) as OperationCounts;
  readonly #throttled: OperationCounts = Object.create(null) as OperationCounts;

  count(operation: string, throttled: boolean): void {
    this.#requests[operation] = (this.#requests[operation] ?? 0) + 1;
    if (throttled) this.#throttled[operation] = (this.#throttled[operation] ?? 0) + 1;
  }

  snapshot(maxActiveQueries: number): EmulatorStats {
    const copy = (counts: OperationCounts) => Object.assign(Object.create(null) as OperationCounts, counts);
    return { requests: copy(this.#requests), throttled: copy(this.#throttled), maxActiveQueries };
  }
}
