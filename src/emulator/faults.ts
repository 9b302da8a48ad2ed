import type { DeliveryFailure } from './delivery.js';

/**
 * Faults the emulator injects, for tests and benchmarks. "Every" faults are
 * deterministic (every Nth request that the fault applies to); "rate" faults
 * draw from a PRNG seeded by `seed`, so a run can be replayed exactly.
 */
export interface FaultOptions {
  /** Answer every Nth request with HTTP 400 ThrottlingException. */
  throttleEvery?: number | undefined;
  /** Answer this share (0 to 1) of requests with ThrottlingException. */
  throttleRate?: number | undefined;
  /** Answer every Nth request with HTTP 500 InternalServerError. */
  serverErrorEvery?: number | undefined;
  serverErrorRate?: number | undefined;
  /** Send half of every Nth response, then reset the connection. */
  resetEvery?: number | undefined;
  resetRate?: number | undefined;
  /** Hold every Nth answer back for `slowMs` (a stalled response). */
  slowEvery?: number | undefined;
  /** How long a slow answer is held. @default 5000 */
  slowMs?: number | undefined;
  /** Delay before each answer, in ms. */
  latencyMs?: number | undefined;
  /** The operations faults apply to, e.g. `['GetQueryResults']`. @default all */
  operations?: string[] | undefined;
  /** Seed of the PRNG behind the rates. @default 1 */
  seed?: number | undefined;
  /**
   * Send every Nth answer `trickleBytes` at a time, one piece every
   * `trickleMs`: bytes keep arriving, so a socket idle timeout never fires,
   * yet the answer takes as long as its size says (a response that trickles).
   */
  trickleEvery?: number | undefined;
  /** Bytes per piece of a trickled answer. @default 16 */
  trickleBytes?: number | undefined;
  /** Pause between two pieces of a trickled answer, in ms. @default 100 */
  trickleMs?: number | undefined;

  // Misbehaviours of the answers themselves. These are not drawn per request
  // (`operations` does not apply): each names the operation it bends.

  /**
   * GetQueryResults: page K (K ≥ 1) of every query answers with the NextToken
   * that page 0 gave, so the chain comes back to an earlier token (page 1)
   * instead of going on. K = 1 is a page that hands out its own token again.
   */
  tokenCycle?: number | undefined;
  /**
   * GetQueryResults: every page of a FINISHED query has a NextToken, a new
   * one each time, for ever. `'rows'`: pages past the last row serve the rows
   * again from the start, so the rows read exceed TotalResultsCount. `'empty'`:
   * pages past the last row are empty.
   */
  endlessTokens?: 'rows' | 'empty' | undefined;
  /**
   * GetQueryResults: the TotalResultsCount page i reports is entry i of the
   * list (`null`: QueryStatistics has no TotalResultsCount); pages past the
   * list report the true count. `'missing'`: no page ever reports one.
   */
  countDrift?: Array<number | null> | 'missing' | undefined;
  /**
   * GetQueryResults answers RUNNING (with no rows) for a query that
   * DescribeQuery reports FINISHED: `true` for ever, a number for that many
   * GetQueryResults calls, counted from when the faults were set.
   */
  statusDisagree?: boolean | number | undefined;
  /** ListQueries: page K (K ≥ 1) answers with the NextToken page 0 gave, so the chain comes back to it. */
  listTokenCycle?: number | undefined;
  /** ListQueries: every answer has a new NextToken, for ever; pages past the last query are empty. */
  listEndlessTokens?: boolean | undefined;
  /**
   * Deliveries to S3 (StartQuery's DeliveryS3Uri) end with this
   * DeliveryStatus: `FAILED`, `ACCESS_DENIED` and `RESOURCE_NOT_FOUND` write
   * nothing; `FAILED_SIGNING_FILE` and `ACCESS_DENIED_SIGNING_FILE` write the
   * result files and no sign file. Read when a delivery starts.
   */
  deliveryFailure?: DeliveryFailure | undefined;
}

export type Fault = 'throttle' | 'server-error' | 'reset' | 'slow' | 'trickle';

/** Decides, request by request, which fault (if any) to inject. */
export class FaultPlan {
  #options: FaultOptions = {};
  #count = 0;
  #random: () => number = mulberry32(1);
  #disagreements = 0;

  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  /** Replaces the faults and restarts the count and the PRNG. */
  set(options: FaultOptions): void {
    this.#options = { ...options };
    this.#count = 0;
    this.#disagreements = 0;
    this.#random = mulberry32(options.seed ?? 1);
  }

  /** The faults as set, for the operations that bend their answers (src/emulator/lake.ts). */
  get options(): Readonly<FaultOptions> {
    return this.#options;
  }

  /** Whether this GetQueryResults of a FINISHED query is to answer RUNNING (`statusDisagree`); counts it. */
  disagree(): boolean {
    const d = this.#options.statusDisagree;
    if (d === true) return true;
    if (typeof d !== 'number' || this.#disagreements >= d) return false;
    this.#disagreements++;
    return true;
  }

  get trickle(): { bytes: number; everyMs: number } {
    return { bytes: Math.max(1, this.#options.trickleBytes ?? 16), everyMs: this.#options.trickleMs ?? 100 };
  }

  get latencyMs(): number {
    return this.#options.latencyMs ?? 0;
  }

  get slowMs(): number {
    return this.#options.slowMs ?? 5000;
  }

  /** The fault for the next request of `operation`, or undefined. */
  next(operation: string): Fault | undefined {
    const o = this.#options;
    if (o.operations && !o.operations.includes(operation)) return undefined;
    const n = ++this.#count;
    const every = (k: number | undefined) => k !== undefined && k > 0 && n % k === 0;
    const rate = (p: number | undefined) => p !== undefined && p > 0 && this.#random() < p;
    if (every(o.throttleEvery) || rate(o.throttleRate)) return 'throttle';
    if (every(o.serverErrorEvery) || rate(o.serverErrorRate)) return 'server-error';
    if (every(o.resetEvery) || rate(o.resetRate)) return 'reset';
    if (every(o.slowEvery)) return 'slow';
    if (every(o.trickleEvery)) return 'trickle';
    return undefined;
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
