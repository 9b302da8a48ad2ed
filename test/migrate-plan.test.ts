/**
 * The migration planner's pure core: slices cut from a census that tile
 * [from, to) exactly (checked over random inputs), split for a slice that
 * timed out, projected for duration, cost and the days retention deletes
 * first, and rendered for a person and as JSON.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_SLICE_MS, planSlices, projectPlan, splitSlice, type PlannedSlice } from '../src/jobs/migrate-plan.js';
import { EXPIRING_LISTED, planJson, renderPlan } from '../src/jobs/migrate-plan-report.js';
import type { DayCount } from '../src/jobs/store-census.js';
import { windowKey } from '../src/jobs/time-windows.js';
import { queryCost } from '../src/export/export-summary.js';
import { MAX_PLANNED_SLICES } from '../src/jobs/backfill.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const census = (entries: Array<[number, number]>): DayCount[] => entries.map(([d, events]) => ({ day: dayText(T0 + d * DAY), events, eventIds: events }));

/**
 * The properties every plan has (see planSlices), as a list of what is
 * wrong: plain checks, so that thousands of slices over hundreds of random
 * plans stay fast.
 */
function planProblems(slices: PlannedSlice[], days: DayCount[], o: { from: number; to: number; target: number; maxMs: number; minMs: number }): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => ok || problems.push(what);
  check(slices[0]?.start === o.from, 'first slice starts at from');
  check(slices.at(-1)?.end === o.to, 'last slice ends at to');
  const inRange = new Map(days.filter((d) => Date.parse(d.day) + DAY > o.from && Date.parse(d.day) < o.to).map((d) => [d.day, d.events]));
  const whole = (ms: number) => ms % DAY === 0 || ms === o.from || ms === o.to;
  let total = 0;
  for (const [i, s] of slices.entries()) {
    const at = `slice ${i} ${s.key}`;
    if (i > 0) check(s.start === slices[i - 1]!.end, `${at}: no gap, no overlap`);
    check(s.end > s.start && s.end - s.start <= o.maxMs, `${at}: length within maxSliceMs`);
    check(s.key === windowKey(s), `${at}: key`);
    total += s.events;
    if (s.days.length > 1 || (whole(s.start) && whole(s.end))) {
      check(whole(s.start) && whole(s.end), `${at}: whole days`);
      check(s.events === s.days.reduce((n, d) => n + (inRange.get(d) ?? 0), 0), `${at}: events of its days`);
      if (s.days.length > 1) check(s.events <= o.target, `${at}: merged within the target`);
    } else {
      check(s.days.length === 1 && s.days[0] === dayText(s.start), `${at}: a piece of one day`);
      check(s.start % MINUTE === 0 || s.start === o.from, `${at}: starts at a whole minute`);
      check(s.end % MINUTE === 0 || s.end === o.to, `${at}: ends at a whole minute`);
      const dayStart = Math.floor(s.start / DAY) * DAY;
      const part = Math.min(dayStart + DAY, o.to) - Math.max(dayStart, o.from);
      check(s.end - s.start >= Math.min(o.minMs, part), `${at}: no shorter than minSliceMs, unless its part of the day is`);
    }
    for (const d of s.days) check(Date.parse(d) < s.end && Date.parse(d) + DAY > s.start, `${at}: covers ${d}`);
  }
  check(total === [...inRange.values()].reduce((n, e) => n + e, 0), 'events add up to the census');
  check(new Set(slices.map((s) => s.key)).size === slices.length, 'keys unique');
  return problems;
}

const checkPlan = (...args: Parameters<typeof planProblems>) => expect(planProblems(...args)).toEqual([]);

/** A seeded PRNG (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('planSlices', () => {
  it('merges empty days into slices of at most 31 days', () => {
    const slices = planSlices([], { from: T0, to: T0 + 90 * DAY });
    expect(slices.map((s) => (s.end - s.start) / DAY)).toEqual([31, 31, 28]);
    expect(slices[0]!.days).toHaveLength(31);
    expect(slices[0]!.key).toBe('20240101T000000Z-20240201T000000Z');
    expect(slices.every((s) => s.events === 0)).toBe(true);
  });

  it('merges whole days while their sum stays within the target', () => {
    const days = census(Array.from({ length: 10 }, (_, d) => [d, 600_000]));
    const slices = planSlices(days, { from: T0, to: T0 + 10 * DAY });
    expect(slices.map((s) => s.days.length)).toEqual([3, 3, 3, 1]);
    expect(slices.map((s) => s.events)).toEqual([1_800_000, 1_800_000, 1_800_000, 600_000]);
  });

  it('cuts a day above the target into equal pieces at whole minutes, never merged with another day', () => {
    const days = census([[0, 10], [1, 5_000_000], [2, 10]]);
    const slices = planSlices(days, { from: T0, to: T0 + 3 * DAY });
    expect(slices.map((s) => [s.start - T0, s.end - T0, s.events, s.days])).toEqual([
      [0, DAY, 10, ['2024-01-01']],
      [DAY, DAY + 8 * HOUR, 1_666_667, ['2024-01-02']],
      [DAY + 8 * HOUR, DAY + 16 * HOUR, 1_666_666, ['2024-01-02']],
      [DAY + 16 * HOUR, 2 * DAY, 1_666_667, ['2024-01-02']],
      [2 * DAY, 3 * DAY, 10, ['2024-01-03']],
    ]);
  });

  it('clips the first and last slices to a from and to that are not midnights', () => {
    const from = T0 + 5 * HOUR + 30_500;
    const to = T0 + 40 * DAY + 7 * MINUTE + 3;
    const days = census([[0, 3_000_000], [39, 1], [40, 2_500_000]]);
    const slices = planSlices(days, { from, to });
    checkPlan(slices, days, { from, to, target: 2_000_000, maxMs: DEFAULT_MAX_SLICE_MS, minMs: MINUTE });
    expect(slices[0]!.start).toBe(from);
    expect(slices[1]!.start % MINUTE).toBe(0);
    expect(slices.at(-1)!.end).toBe(to);
  });

  it('never cuts a day into pieces shorter than the minimum, even when the pieces are then above the target', () => {
    const [day] = census([[0, 1e13]]);
    expect(planSlices([day!], { from: T0, to: T0 + DAY })).toHaveLength(1440);
    const hourly = planSlices([day!], { from: T0, to: T0 + DAY, minSliceMs: HOUR });
    expect(hourly).toHaveLength(24);
    expect(hourly.every((s) => s.end - s.start === HOUR)).toBe(true);
    // From 29 s past a minute, rounding a boundary to a whole minute would leave a first piece of 31 s.
    const from = T0 + 29_000;
    const odd = planSlices([day!], { from, to: T0 + DAY, minSliceMs: MINUTE });
    checkPlan(odd, [day!], { from, to: T0 + DAY, target: 2_000_000, maxMs: DEFAULT_MAX_SLICE_MS, minMs: MINUTE });
    expect(Math.min(...odd.map((s) => s.end - s.start))).toBeGreaterThanOrEqual(MINUTE);
  });

  it('cuts days longer than maxSliceMs', () => {
    const slices = planSlices([], { from: T0, to: T0 + 2 * DAY, maxSliceMs: 6 * HOUR });
    expect(slices.map((s) => s.end - s.start)).toEqual(Array(8).fill(6 * HOUR));
  });

  it('refuses a plan of more than MAX_PLANNED_SLICES slices with INVALID_OPTION', () => {
    expect(() => planSlices([], { from: 0, to: Date.UTC(9999, 0, 1), maxSliceMs: DAY })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    const busy = census(Array.from({ length: 100 }, (_, d) => [d, 1e13]));
    expect(() => planSlices(busy, { from: T0, to: T0 + 100 * DAY })).toThrow(String(MAX_PLANNED_SLICES));
  });

  it('refuses a census that is not one: a TypeError naming days', () => {
    const plan = (days: unknown) => () => planSlices(days as DayCount[], { from: T0, to: T0 + DAY });
    expect(plan(census([[0, 1], [0, 2]]))).toThrow(/days/);
    expect(plan([{ day: '2024-02-30', events: 1, eventIds: 1 }])).toThrow(TypeError);
    expect(plan([{ day: '2024-01-01', events: -1, eventIds: 0 }])).toThrow(TypeError);
    expect(plan([{ day: '2024-01-01', events: 1.5, eventIds: 0 }])).toThrow(TypeError);
    expect(plan([{ day: '__proto__', events: 1, eventIds: 0 }])).toThrow(TypeError);
    expect(plan('days')).toThrow(TypeError);
    expect(() => planSlices([], { from: T0, to: T0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => planSlices([], { from: T0, to: T0 + DAY, targetEventsPerSlice: 0 })).toThrow(TypeError);
    expect(() => planSlices([], { from: T0, to: T0 + DAY, minSliceMs: 2 * DAY, maxSliceMs: DAY })).toThrow(TypeError);
  });

  it('tiles [from, to) exactly over random inputs', () => {
    const rand = random(42);
    for (let run = 0; run < 300; run++) {
      const from = T0 + Math.floor(rand() * 400 * DAY);
      const to = from + 1 + Math.floor(rand() * (rand() < 0.2 ? 2 * DAY : 200 * DAY));
      const target = 1 + Math.floor(rand() * 5_000_000);
      const maxMs = [DAY, 7 * DAY, 31 * DAY, 3 * HOUR][Math.floor(rand() * 4)]!;
      const minMs = [MINUTE, 10 * MINUTE, HOUR][Math.floor(rand() * 3)]!;
      const days: DayCount[] = [];
      for (let d = Math.floor(from / DAY) - 3; d * DAY < to + 3 * DAY; d++) {
        if (rand() < 0.4) continue;
        const events = rand() < 0.1 ? Math.floor(rand() * 50 * target) : Math.floor(rand() * target);
        days.push({ day: dayText(d * DAY), events, eventIds: events });
      }
      const slices = planSlices(days, { from, to, targetEventsPerSlice: target, maxSliceMs: Math.max(maxMs, minMs), minSliceMs: minMs });
      const problems = planProblems(slices, days, { from, to, target, maxMs: Math.max(maxMs, minMs), minMs });
      if (problems.length) expect({ run, from, to, target, maxMs, minMs, problems: problems.slice(0, 5) }).toBeUndefined();
    }
  });
});

describe('splitSlice', () => {
  const [whole] = planSlices(census([[0, 1001]]), { from: T0, to: T0 + DAY });

  it('halves a slice at the whole minute nearest its middle, events by length', () => {
    const [a, b] = splitSlice(whole!, MINUTE)!;
    expect([a.start, a.end, b.start, b.end]).toEqual([T0, T0 + 12 * HOUR, T0 + 12 * HOUR, T0 + DAY]);
    expect(a.events + b.events).toBe(1001);
    expect(a.key).toBe(windowKey(a));
    expect(a.days).toEqual(['2024-01-01']);
    expect(b.days).toEqual(['2024-01-01']);
  });

  it('gives each half the days it covers', () => {
    const [month] = planSlices([], { from: T0, to: T0 + 31 * DAY });
    const [a, b] = splitSlice(month!)!;
    expect(a.end).toBe(T0 + 15 * DAY + 12 * HOUR);
    expect(a.days).toHaveLength(16);
    expect(b.days).toHaveLength(16);
    expect(a.days.at(-1)).toBe(b.days[0]);
  });

  it('splits at a whole minute when the middle is not one, and refuses below the minimum', () => {
    const odd: PlannedSlice = { key: '', start: T0 + 7_000, end: T0 + 5 * MINUTE + 7_000, events: 10, days: ['2024-01-01'] };
    const [a, b] = splitSlice(odd, MINUTE)!;
    expect(a.end % MINUTE).toBe(0);
    expect(a.end).toBe(b.start);
    const short: PlannedSlice = { key: '', start: T0, end: T0 + 90_000, events: 10, days: ['2024-01-01'] };
    expect(splitSlice(short, MINUTE)).toBeUndefined();
    expect(splitSlice({ ...short, end: T0 + 2 * MINUTE }, MINUTE)).toHaveLength(2);
    expect(splitSlice(whole!, DAY)).toBeUndefined();
  });
});

describe('projectPlan', () => {
  const NOW = Date.UTC(2026, 11, 1);
  const tenSlices = planSlices(census(Array.from({ length: 10 }, (_, d) => [d, 1_000_000])), { from: T0, to: T0 + 10 * DAY, targetEventsPerSlice: 1_000_000 });

  it('runs one slice at a time at the default rates: 60 s a query, 1,000 rows a second', () => {
    const plan = projectPlan(tenSlices, { now: NOW, concurrency: 1 });
    expect(plan.slices).toBe(10);
    expect(plan.events).toBe(10_000_000);
    expect(plan.durationMs).toBe(10 * (60_000 + 1_000_000));
    expect(plan.schedule[1]!.startsAt).toBe(new Date(NOW + 1_060_000).toISOString().replace('.000Z', 'Z'));
    expect(plan.bytesEstimate).toBe(15_000_000_000);
    expect(plan.cost).toEqual(queryCost(15_000_000_000, 0.005));
    expect(plan.cost.text).toBe('$0.08');
    expect(plan.assumptions.assumed).toEqual(['pageRowsPerSecond', 'readTps', 'queryRunMs', 'bytesPerEvent', 'pricePerGb']);
    expect(plan.expiring).toEqual([]);
  });

  it('shares the account read rate among 10 slices at once, less their polls', () => {
    const plan = projectPlan(tenSlices, { now: NOW, concurrency: 10, queryRunMs: 0 });
    // (10 calls/s - 10 × 0.2 polls/s) × 1,000 rows = 8,000 rows/s for 10 chains: 800 each.
    expect(plan.durationMs).toBe(1_250_000);
    expect(new Set(plan.schedule.map((s) => s.startsAt)).size).toBe(1);
    const measured = projectPlan(tenSlices, { now: NOW, concurrency: 2, pageRowsPerSecond: 500, bytesPerEvent: 900, queryRunMs: 0 });
    expect(measured.durationMs).toBe(5 * 2_000_000);
    expect(measured.bytesEstimate).toBe(9_000_000_000);
    expect(measured.assumptions.assumed).toEqual(['readTps', 'pricePerGb']);
  });

  it('lists the days retention deletes before their slice ends: the old ones, not the new', () => {
    // Forty days up to now, a slice a day, each 2 hours of paging.
    const from = NOW - 40 * DAY;
    const days = Array.from({ length: 40 }, (_, d) => ({ day: dayText(from + d * DAY), events: 7_200_000, eventIds: 7_200_000 }));
    const slices = planSlices(days, { from, to: NOW, targetEventsPerSlice: 7_200_000 });
    const plan = projectPlan(slices, { now: NOW, retentionDays: 42, concurrency: 1, queryRunMs: 0 });
    // Day d is deleted at now + (d + 2) days and its slice ends at now + (d + 1) × 2 h: no day is lost.
    expect(plan.expiring).toEqual([]);
    const tight = projectPlan(slices, { now: NOW, retentionDays: 40, concurrency: 1, queryRunMs: 0 });
    // Now day d is deleted at now + d days, its slice ending (d + 1) × 2 h from now: only day 0 is lost.
    expect(tight.expiring.map((e) => e.day)).toEqual([dayText(from)]);
    expect(tight.expiring[0]).toEqual({ day: dayText(from), deletedAt: new Date(NOW).toISOString().replace('.000Z', 'Z'), slice: slices[0]!.key, startsAt: tight.schedule[0]!.startsAt });
    const slow = projectPlan(slices, { now: NOW, retentionDays: 40, concurrency: 1, queryRunMs: 0, pageRowsPerSecond: 50 });
    // 40 h a slice: day d's slice ends at (d + 1) × 40 h, after its deletion at d × 24 h, for every day.
    expect(slow.expiring).toHaveLength(40);
  });

  it('lists no day of a slice of no events', () => {
    const plan = projectPlan(planSlices([], { from: T0, to: T0 + 60 * DAY }), { now: NOW, retentionDays: 7 });
    expect(plan.expiring).toEqual([]);
  });

  it('lists a day cut into pieces once', () => {
    const slices = planSlices(census([[0, 10_000_000]]), { from: T0, to: T0 + DAY });
    const plan = projectPlan(slices, { now: NOW, retentionDays: 7 });
    expect(plan.expiring).toHaveLength(1);
    expect(plan.expiring[0]!.slice).toBe(slices[0]!.key);
  });

  it('refuses options that are not figures', () => {
    for (const bad of [{ concurrency: 11 }, { concurrency: 0 }, { concurrency: 1.5 }, { readTps: 0 }, { pageRowsPerSecond: Number.NaN }, { retentionDays: 0 }, { pricePerGb: -1 }, { now: Number.NaN }]) {
      expect(() => projectPlan(tenSlices, { now: NOW, ...bad })).toThrow(TypeError);
    }
  });
});

describe('renderPlan and planJson', () => {
  const NOW = Date.UTC(2026, 11, 1);
  const from = NOW - 30 * DAY;
  const days = Array.from({ length: 30 }, (_, d) => ({ day: dayText(from + d * DAY), events: 1_234_567, eventIds: 1_234_567 }));
  const slices = planSlices(days, { from, to: NOW, targetEventsPerSlice: 1_500_000 });

  it('says slices, events, bytes, cost, time, and at most 20 expiring days then how many more', () => {
    const plan = projectPlan(slices, { now: NOW, retentionDays: 7, concurrency: 1, pageRowsPerSecond: 100 });
    expect(plan.expiring.length).toBeGreaterThan(EXPIRING_LISTED);
    const lines = renderPlan(plan);
    const text = lines.join('\n');
    expect(text).toContain('slices           30');
    expect(text).toContain('events           37,037,010');
    expect(text).toContain('55.6 GB (1,500 bytes an event, assumed)');
    expect(text).toContain(`${plan.cost.text} at $0.005 per GB scanned`);
    expect(text).toMatch(/projected time {3}\d+d \d+h \(concurrency 1, 100 rows\/s each, 1m a query before its first page, assumed\)/);
    expect(lines.filter((l) => /^ {4}\d{4}-\d\d-\d\d {2}deleted from /.test(l))).toHaveLength(EXPIRING_LISTED);
    expect(lines.at(-1)).toBe(`    and ${plan.expiring.length - EXPIRING_LISTED} more`);
  });

  it('says when no day expires, and when retention is not known', () => {
    expect(renderPlan(projectPlan(slices, { now: NOW, retentionDays: 3653 })).at(-1)).toBe('  no day expires before its slice ends');
    const unknown = renderPlan(projectPlan(slices, { now: NOW }));
    expect(unknown.at(-1)).toContain('retention        not known');
  });

  it('gives JSON of stable field names', () => {
    const plan = projectPlan(slices, { now: NOW, retentionDays: 7, concurrency: 3 });
    const json = JSON.parse(JSON.stringify(planJson(plan))) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['planVersion', 'slices', 'events', 'bytesEstimate', 'cost', 'durationMs', 'schedule', 'expiring', 'assumptions']);
    expect(json.cost).toEqual({ usd: plan.cost.usd, exact: plan.cost.exact, text: plan.cost.text });
    expect(Object.keys((json.schedule as object[])[0]!)).toEqual(['key', 'events', 'startsAt', 'endsAt']);
    expect(Object.keys((json.expiring as object[])[0]!)).toEqual(['day', 'deletedAt', 'slice', 'startsAt']);
    expect(json.assumptions).toMatchObject({ now: '2026-12-01T00:00:00Z', retentionDays: 7, concurrency: 3, bytesPerEvent: 1500, pricePerGb: 0.005 });
  });
});
