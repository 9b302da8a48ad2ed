import { describe, expect, it } from 'vitest';
import { dayWeights, slotTimes } from '../../src/emulator/sample-span.js';
import { sampleEventArray } from '../../src/emulator/sample-events.js';

const DAY = 86_400_000;
const start = Date.UTC(2023, 0, 1);

describe('slotTimes', () => {
  it('places evenly as the generators always did, unless unevenDays', () => {
    const even = slotTimes(10, { start, spanMs: 10 * DAY, seed: 1, unevenDays: false });
    expect(Array.from({ length: 10 }, (_, i) => even(i, 0.5))).toEqual(Array.from({ length: 10 }, (_, i) => start + Math.floor((i + 0.5) * DAY)));
  });

  it('with unevenDays, keeps times ascending and within the span, days weighted by dayWeights', () => {
    const options = { start, spanMs: 100 * DAY + 3_600_000, seed: 3, unevenDays: true };
    const at = slotTimes(20_000, options);
    const times = Array.from({ length: 20_000 }, (_, i) => at(i, 0.999));
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times[0]!).toBeGreaterThanOrEqual(start);
    expect(times.at(-1)!).toBeLessThan(start + options.spanMs);
    const weights = dayWeights(options);
    expect(weights).toHaveLength(101);
    const perDay = new Array<number>(101).fill(0);
    for (const t of times) perDay[Math.floor((t - start) / DAY)]! += 1;
    weights.forEach((w, d) => {
      if (w === 0) expect(perDay[d], `day ${d}`).toBe(0);
    });
    expect(weights.some((w) => w === 0)).toBe(true);
    expect(Math.max(...perDay)).toBeGreaterThan(4 * Math.min(...perDay.filter((n) => n > 0)));
  });

  it('moves only the times of a small sample: the same seed draws the same eventIDs', () => {
    const even = sampleEventArray(50, { seed: 8 });
    const uneven = sampleEventArray(50, { seed: 8, unevenDays: true });
    expect(uneven.map((e) => e.eventID)).toEqual(even.map((e) => e.eventID));
    expect(uneven.map((e) => e.eventTime)).not.toEqual(even.map((e) => e.eventTime));
  });
});
