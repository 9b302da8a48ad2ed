import { CtlakeError, optionError } from '../errors.js';

/**
 * The two classes of CloudTrail Lake calls that have a rate of their own.
 * Lake publishes 10 requests per second for its get, describe and list APIs
 * together (GetQueryResults, DescribeQuery, ListQueries, GetEventDataStore,
 * ...), and 1 per second for each of the others (StartQuery, CancelQuery).
 */
export type CallKind = 'read' | 'write';

/** Lake's published rate of get, describe and list calls, per account and region. */
export const DEFAULT_READ_PER_SECOND = 10;
/** Lake's published rate of the other calls (StartQuery, CancelQuery, ...). */
export const DEFAULT_WRITE_PER_SECOND = 1;
/** @see RateLimiterOptions.maxWaiting */
export const DEFAULT_MAX_WAITING = 1000;
/** See RateLimiterOptions.spacingMargin. */
export const DEFAULT_SPACING_MARGIN = 0.05;

/**
 * The kind of a call, from the SDK's command name (`GetQueryResultsCommand`)
 * or the bare operation (`GetQueryResults`): Get*, Describe* and List* are
 * reads, everything else a write. An unknown or empty name is a write, the
 * slower class, so that a call ctlake does not know is never sent too fast.
 */
export function callKind(operationName: string): CallKind {
  return /^(Get|Describe|List)[A-Z]/.test(operationName) ? 'read' : 'write';
}

export interface RateLimiterOptions {
  /** Read calls (Get*, Describe*, List*) per second, a positive finite number. @default 10 */
  readPerSecond?: number | undefined;
  /** Write calls (all others) per second, a positive finite number. @default 1 */
  writePerSecond?: number | undefined;
  /**
   * Calls of one kind that may wait for a slot at once; one more is refused
   * with THROTTLED. Each waiter is one `client.send` in flight, so the callers'
   * own concurrency bounds the queue (10 exports with a read-ahead of a few
   * pages wait with a few dozen calls at most); this bound is only the guard
   * against a caller that is not bounded. @default 1000
   */
  maxWaiting?: number | undefined;
  /**
   * Calls are spaced this fraction of their interval further apart than the
   * rate alone asks (0 to 0.5): a service that refills one token a second and
   * holds one refuses a call that arrives a few milliseconds early, and
   * network jitter makes some arrive early. Measured on the emulator's
   * strict 1-a-second bucket: 0 let 1 in 4 StartQuery calls be throttled.
   * @default 0.05 (writes at 1/s go out 1.05 s apart; reads at 10/s 105 ms apart)
   */
  spacingMargin?: number | undefined;
}

/** One call waiting for its slot. */
interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * The slots of one kind: at most one grant every `intervalMs`, first come
 * first served. `#next` is the earliest time of the next grant (a
 * performance.now() time); a grant at time t sets it to t + intervalMs.
 * Grants are never made ahead of time and a limiter that was idle does not
 * save up slots: the burst is 1.
 */
class Lane {
  readonly intervalMs: number;
  readonly #kind: CallKind;
  readonly #maxWaiting: number;
  /** In arrival order; a Set so that an aborted waiter leaves it in O(1). */
  readonly #waiters = new Set<Waiter>();
  #next = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** The time between two grants: the interval and its margin. */
  readonly #spacingMs: number;

  constructor(kind: CallKind, perSecond: number, maxWaiting: number, margin: number) {
    this.#kind = kind;
    this.intervalMs = 1000 / perSecond;
    this.#spacingMs = this.intervalMs * (1 + margin);
    this.#maxWaiting = maxWaiting;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = performance.now();
    if (this.#waiters.size === 0 && now >= this.#next) {
      this.#next = now + this.#spacingMs;
      return Promise.resolve();
    }
    if (this.#waiters.size >= this.#maxWaiting) {
      return Promise.reject(
        new CtlakeError(
          'THROTTLED',
          `${this.#maxWaiting} ${this.#kind} calls already wait for the rate limiter, the most it queues (its maxWaiting); send fewer calls at once`,
          { option: 'maxWaiting' },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          // Its place goes to the next in line, at the same time: an aborted
          // wait takes no slot.
          this.#waiters.delete(waiter);
          if (this.#waiters.size === 0) this.#disarm();
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.add(waiter);
      this.#arm();
    });
  }

  /** A timer for the next grant, unless one is set already. */
  #arm(): void {
    if (this.#timer !== undefined) return;
    const delay = Math.max(0, this.#next - performance.now());
    this.#timer = setTimeout(() => this.#grant(), Math.ceil(delay));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #grant(): void {
    this.#timer = undefined;
    const now = performance.now();
    // Timers may fire a fraction of a millisecond early on the clock read here;
    // the interval is a bound, so wait the rest.
    if (now < this.#next) return this.#arm();
    const first = this.#waiters.values().next();
    if (first.done) return;
    const waiter = first.value;
    this.#waiters.delete(waiter);
    this.#next = now + this.#spacingMs;
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve();
    if (this.#waiters.size > 0) this.#arm();
  }
}

/**
 * Paces CloudTrail calls to the rates Lake publishes, for every export that
 * shares it (one per account and region: the rates are the account's).
 *
 * Each kind of call (callKind) has its own rate and its own FIFO queue. Calls
 * are spaced evenly, one every 1/rate seconds, with a burst of 1: the grants
 * of any 1-second window are at most `rate`, and a limiter that was idle
 * sends its next call at once but never a batch of them. A token bucket of
 * `rate` tokens would let `rate` calls go at once after a pause and `rate`
 * more within the same second; with even spacing, a network that delays one
 * call more than the next (jitter J between the grant and the arrival at the
 * service) can put at most one call more into a second, and only while J is
 * below 1/rate. Throttling is then rare, and retried (src/source/retry.ts);
 * whoever needs no overshoot at all sets the rate to rate × 1000 / (1000 + J ms).
 *
 * Memory: the waiters of each kind, at most `maxWaiting`.
 */
export class RateLimiter {
  readonly #lanes: Record<CallKind, Lane>;

  constructor(options: RateLimiterOptions = {}) {
    if (typeof options !== 'object' || options === null) throw optionError('rateLimiter', options, 'an object such as { readPerSecond: 10, writePerSecond: 1 }');
    const read = rate(options.readPerSecond, 'readPerSecond', DEFAULT_READ_PER_SECOND);
    const write = rate(options.writePerSecond, 'writePerSecond', DEFAULT_WRITE_PER_SECOND);
    const maxWaiting = options.maxWaiting ?? DEFAULT_MAX_WAITING;
    if (typeof maxWaiting !== 'number' || !Number.isInteger(maxWaiting) || maxWaiting < 1) {
      throw optionError('maxWaiting', maxWaiting, 'a whole number of at least 1');
    }
    const margin = options.spacingMargin ?? DEFAULT_SPACING_MARGIN;
    if (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 0 || margin > 0.5) throw optionError('spacingMargin', margin, 'a fraction from 0 to 0.5');
    this.#lanes = { read: new Lane('read', read, maxWaiting, margin), write: new Lane('write', write, maxWaiting, margin) };
  }

  /** Calls per second of each kind, as resolved. */
  get rates(): Record<CallKind, number> {
    return { read: 1000 / this.#lanes.read.intervalMs, write: 1000 / this.#lanes.write.intervalMs };
  }

  /** Calls of `kind` waiting for a slot now. */
  waiting(kind: CallKind): number {
    return this.#lane(kind).waiting;
  }

  /**
   * Resolves when a call of `kind` may be sent, in the order the calls
   * asked. An abort of `signal` rejects with the signal's reason, at once
   * if it is aborted already, and gives the place in the queue to the next
   * call. Rejects with THROTTLED when `maxWaiting` calls of that kind
   * already wait.
   */
  acquire(kind: CallKind, signal?: AbortSignal): Promise<void> {
    return this.#lane(kind).acquire(signal);
  }

  #lane(kind: CallKind): Lane {
    if (kind !== 'read' && kind !== 'write') throw optionError('kind', kind, "'read' or 'write'");
    return this.#lanes[kind];
  }
}

function rate(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw optionError(option, value, 'a positive finite number of requests per second');
  return value;
}
