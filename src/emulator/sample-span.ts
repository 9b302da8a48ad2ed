import { mulberry32 } from './faults.js';

/**
 * Where the sample generators put event i of `count` in time: evenly over
 * [start, start + spanMs) with jitter, or, with `unevenDays`, with a density
 * that changes from day to day, as a real account's activity does (quiet
 * weekends, busy days, the odd day with nothing at all), for tests of tools
 * that count events per day.
 */

const DAY_MS = 86_400_000;

export interface SpanOptions {
  start: number;
  spanMs: number;
  /** Seed of the day weights (drawn from their own PRNG, so the events' other draws do not change). */
  seed: number;
  unevenDays: boolean;
}

/**
 * The weight of each day of the span (days counted from `start`; the last
 * may be partial and weighs its share): a weekday 1, a weekend day 0.35
 * (by the UTC weekday the day starts on), times a factor from 0.2 to 2.2,
 * and one day in 25 weighs 0. At least one day weighs more than 0.
 */
export function dayWeights({ start, spanMs, seed }: SpanOptions): number[] {
  const random = mulberry32((seed ^ 0x5eedda75) >>> 0);
  const days = Math.ceil(spanMs / DAY_MS);
  const weights: number[] = [];
  for (let d = 0; d < days; d++) {
    const weekday = new Date(start + d * DAY_MS).getUTCDay();
    const share = Math.min(DAY_MS, spanMs - d * DAY_MS) / DAY_MS;
    const empty = random() < 0.04;
    const factor = 0.2 + 2 * random();
    weights.push(empty ? 0 : (weekday === 0 || weekday === 6 ? 0.35 : 1) * factor * share);
  }
  if (!weights.some((w) => w > 0)) weights[0] = 1;
  return weights;
}

/**
 * A function from (i, jitter in [0, 1)) to the millisecond of event i:
 * slot i covers [i, i + 1) of `count` equal shares of the span's weight, so
 * times never decrease with i and stay within [start, start + spanMs).
 */
export function slotTimes(count: number, options: SpanOptions): (i: number, jitter: number) => number {
  const { start, spanMs } = options;
  if (!options.unevenDays) return (i, jitter) => start + Math.floor(((i + jitter) * spanMs) / count);
  const weights = dayWeights(options);
  const cumulative: number[] = [0];
  for (const w of weights) cumulative.push(cumulative.at(-1)! + w);
  const total = cumulative.at(-1)!;
  return (i, jitter) => {
    const target = ((i + jitter) / count) * total;
    // The last day whose cumulative weight is at most the target, and not one that weighs 0.
    let lo = 0;
    let hi = weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cumulative[mid]! <= target) lo = mid;
      else hi = mid - 1;
    }
    while (weights[lo] === 0 && lo > 0) lo--;
    const within = Math.min(1, (target - cumulative[lo]!) / weights[lo]!);
    const length = Math.min(DAY_MS, spanMs - lo * DAY_MS);
    return Math.min(start + spanMs - 1, start + lo * DAY_MS + Math.floor(within * length));
  };
}
