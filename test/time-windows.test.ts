import { describe, expect, it } from 'vitest';
import { closedWindows, lakeTime, missingPlaceholders, renderSql, slices, windowKey } from '../src/jobs/time-windows.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

describe('time windows', () => {
  it('lists the whole windows that have closed, consecutive, oldest first', () => {
    expect([...closedWindows(T0, 15 * MIN, T0 + 30 * MIN)]).toEqual([
      { start: T0, end: T0 + 15 * MIN },
      { start: T0 + 15 * MIN, end: T0 + 30 * MIN },
    ]);
    expect([...closedWindows(T0, 15 * MIN, T0 + 29 * MIN)]).toHaveLength(1);
    expect([...closedWindows(T0, 15 * MIN, T0 + 14 * MIN)]).toEqual([]);
  });

  it('cuts a range into slices, the last one short', () => {
    expect([...slices(T0, T0 + 150 * MIN, 60 * MIN)].map((s) => (s.end - s.start) / MIN)).toEqual([60, 60, 30]);
  });

  it("renders {{start}} and {{end}} in Lake's format, and names windows for files", () => {
    const sql = "SELECT * FROM eds WHERE eventTime >= '{{start}}' AND eventTime < '{{ end }}'";
    expect(renderSql(sql, { start: T0, end: T0 + 60 * MIN })).toBe("SELECT * FROM eds WHERE eventTime >= '2026-01-01 00:00:00' AND eventTime < '2026-01-01 01:00:00'");
    expect(lakeTime(T0 + 1500)).toBe('2026-01-01 00:00:01');
    expect(missingPlaceholders('{{start}}')).toEqual(['{{end}}']);
    expect(missingPlaceholders(sql)).toEqual([]);
    expect(windowKey({ start: T0, end: T0 + 60 * MIN })).toBe('20260101T000000Z-20260101T010000Z');
  });
});
