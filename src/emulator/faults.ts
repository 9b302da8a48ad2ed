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
}

export type Fault = 'throttle' | 'server-error' | 'reset' | 'slow';

/** Decides, request by request, which fault (if any) to inject. */
export class FaultPlan {
  #options: FaultOptions = {};
  #count = 0;
  #random: () => number = mulberry32(1);

  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  /** Replaces the faults and restarts the count and the PRNG. */
  set(options: FaultOptions): void {
    this.#options = { ...options };
    this.#count = 0;
    this.#random = mulberry32(options.seed ?? 1);
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
