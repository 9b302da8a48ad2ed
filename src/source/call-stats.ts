import { isThrottlingError } from '@smithy/core/retry';

/** The counts of one CloudTrail operation. */
export interface OperationStats {
  /** Requests sent (each retry is one more). */
  requests: number;
  /** Of those, the ones answered ThrottlingException (or another throttling error). */
  throttled: number;
}

export interface LatencySummary {
  /** Median, in ms, to within 1 % (the histogram's bucket width). */
  p50: number;
  /** 95th percentile, in ms, to within 1 %. */
  p95: number;
  /** Pages measured. */
  count: number;
}

export interface CallStatsSnapshot {
  /** Requests sent, of every operation. */
  requests: number;
  /** Per operation (`GetQueryResults`, `DescribeQuery`, ...); a null-prototype object. */
  byOperation: Record<string, OperationStats>;
  /** Throttled answers, of every operation. */
  throttled: number;
  /** The time of each GetQueryResults request that returned a page, from sending it to its parsed answer; undefined before the first. */
  pageLatencyMs: LatencySummary | undefined;
  /** Time calls spent waiting for the rate limiter, summed over calls, in ms. */
  waitedMs: number;
}

/**
 * A latency histogram in bounded memory: buckets whose bounds grow by 2 %
 * from 0.01 ms to over an hour (1,000 counters, 8 KB, however many values),
 * so that a percentile read from it is within 1 % of the true one (the
 * bucket's geometric middle is at most √1.02 from either bound). Values
 * beyond the range fall into its first or last bucket, which read as the
 * smallest and largest value seen (both kept exactly); no percentile lies
 * outside them.
 */
export class LatencyHistogram {
  static readonly MIN_MS = 0.01;
  static readonly GROWTH = 1.02;
  static readonly BUCKETS = 1000;
  readonly #counts = new Float64Array(LatencyHistogram.BUCKETS);
  #count = 0;
  #min = Infinity;
  #max = -Infinity;

  get count(): number {
    return this.#count;
  }

  add(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const value = Math.max(0, ms);
    this.#counts[bucketOf(value)]!++;
    this.#count++;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /** The value at quantile `q` (0 to 1), nearest rank; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.#count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen < rank) continue;
      // The edge buckets are open-ended: the extreme seen is their best value.
      if (i === 0) return this.#min;
      if (i === this.#counts.length - 1) return this.#max;
      return Math.min(this.#max, Math.max(this.#min, middleOf(i)));
    }
    return this.#max;
  }
}

/** Bucket 0 holds [0, MIN_MS); bucket i ≥ 1 holds [MIN_MS·GROWTH^(i-1), MIN_MS·GROWTH^i). */
function bucketOf(ms: number): number {
  if (ms < LatencyHistogram.MIN_MS) return 0;
  const i = 1 + Math.floor(Math.log(ms / LatencyHistogram.MIN_MS) / Math.log(LatencyHistogram.GROWTH));
  return Math.min(LatencyHistogram.BUCKETS - 1, i);
}

function middleOf(bucket: number): number {
  return LatencyHistogram.MIN_MS * LatencyHistogram.GROWTH ** (bucket - 0.5);
}

/**
 * What a CloudTrail client sent, recorded by its rate-limit middleware
 * (limitClient in ./limit-client.ts): requests and throttled answers per
 * operation, the latency of each page, and the time spent waiting for a
 * slot. One CallStats may serve several clients and exports; `snapshot()`
 * reads it at any time.
 *
 * Throttled is what ctlake's retry layer retries as throttling: the SDK's
 * own classification (isThrottlingError of @smithy/core/retry, as
 * src/source/retry.ts uses it), which names ThrottlingException, the
 * service's HTTP 400 answer, among others.
 *
 * Memory: one entry per operation name (CloudTrail has a few dozen) and one
 * fixed histogram.
 */
export class CallStats {
  readonly #operations = new Map<string, OperationStats>();
  readonly #pages = new LatencyHistogram();
  #requests = 0;
  #throttled = 0;
  #waitedMs = 0;

  /**
   * One request of `operation` (`GetQueryResults`), answered (`error`
   * undefined) or failed. `latencyMs` of a GetQueryResults that answered
   * goes into the page latencies; a failure's does not, as a throttled
   * answer says nothing about how long a page takes.
   */
  recordRequest(operation: string, outcome: { latencyMs?: number | undefined; error?: unknown }): void {
    let counts = this.#operations.get(operation);
    if (counts === undefined) this.#operations.set(operation, (counts = { requests: 0, throttled: 0 }));
    counts.requests++;
    this.#requests++;
    if (outcome.error !== undefined) {
      if (isThrottled(outcome.error)) {
        counts.throttled++;
        this.#throttled++;
      }
    } else if (operation === 'GetQueryResults' && outcome.latencyMs !== undefined) {
      this.#pages.add(outcome.latencyMs);
    }
  }

  /** Time one call waited for its slot. */
  recordWait(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.#waitedMs += ms;
  }

  snapshot(): CallStatsSnapshot {
    const byOperation = Object.create(null) as Record<string, OperationStats>;
    for (const [name, counts] of this.#operations) byOperation[name] = { ...counts };
    const p50 = this.#pages.quantile(0.5);
    const p95 = this.#pages.quantile(0.95);
    return {
      requests: this.#requests,
      byOperation,
      throttled: this.#throttled,
      pageLatencyMs: p50 === undefined || p95 === undefined ? undefined : { p50, p95, count: this.#pages.count },
      waitedMs: this.#waitedMs,
    };
  }
}

function isThrottled(error: unknown): boolean {
  return error instanceof Error && isThrottlingError(error as never);
}
