/** One UTC day as Lake counts it: its events, and its distinct eventIDs. */
export interface LakeDay {
  /** YYYY-MM-DD. */
  day: string;
  events: number;
  eventIds?: number | undefined;
}

/** A slice as reconciliation sees it: its range and the rows its manifest entry lists. */
export interface ReconcileSlice {
  key: string;
  /** [start, end), epoch ms. */
  start: number;
  end: number;
  rows: number;
}

export interface ReconcileResult {
  ok: boolean;
  /** Days compared. */
  days: number;
  /** Days left out: retention deleted them (wholly or in part) after they were exported, so Lake's count is no longer the one to compare. */
  expiredDays: number;
  /** Each group of days whose counts differ, with the slices that cover them. */
  mismatches: Array<{ days: string[]; slices: string[]; lakeEvents: number; rows: number }>;
  /** Days where Lake holds the same eventID more than once (events above distinct eventIDs): exported as Lake holds them, said for the record. */
  duplicateDays: Array<{ day: string; events: number; eventIds: number }>;
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Compares Lake's own per-day counts with the rows each slice committed.
 * Slices are whole days merged, or parts of one day, so the days and
 * slices fall into groups that share no slice and no day (a slice over
 * three days is one group with them; the four slices of a busy day are one
 * group with it); each group's events must equal its rows. A day before
 * `expiredBefore` (YYYY-MM-DD, the first day retention has not touched) is
 * left out with its group. Days Lake does not list have no events.
 */
export function reconcile(slices: readonly ReconcileSlice[], lakeDays: readonly LakeDay[], expiredBefore: string | undefined): ReconcileResult {
  const counts = new Map(lakeDays.map((d) => [d.day, d]));
  // Union-find over days: each slice joins the days it covers.
  const parent = new Map<string, string>();
  const find = (day: string): string => {
    let root = day;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(day, root);
    return root;
  };
  const add = (day: string) => {
    if (!parent.has(day)) parent.set(day, day);
  };
  const covered = new Map<string, string[]>();
  for (const slice of slices) {
    const days: string[] = [];
    for (let t = Date.parse(dayOf(slice.start)); t < slice.end; t += DAY_MS) days.push(dayOf(t));
    covered.set(slice.key, days);
    days.forEach(add);
    for (const day of days.slice(1)) parent.set(find(day), find(days[0]!));
  }
  const groups = new Map<string, { days: Set<string>; slices: string[]; rows: number }>();
  for (const slice of slices) {
    const days = covered.get(slice.key)!;
    const root = find(days[0]!);
    let group = groups.get(root);
    if (!group) groups.set(root, (group = { days: new Set(), slices: [], rows: 0 }));
    days.forEach((d) => group!.days.add(d));
    group.slices.push(slice.key);
    group.rows += slice.rows;
  }
  const result: ReconcileResult = { ok: true, days: 0, expiredDays: 0, mismatches: [], duplicateDays: [] };
  for (const group of groups.values()) {
    const days = [...group.days].sort();
    if (expiredBefore !== undefined && days[0]! < expiredBefore) {
      result.expiredDays += days.length;
      continue;
    }
    result.days += days.length;
    const lakeEvents = days.reduce((n, d) => n + (counts.get(d)?.events ?? 0), 0);
    if (lakeEvents !== group.rows) {
      result.ok = false;
      result.mismatches.push({ days, slices: group.slices, lakeEvents, rows: group.rows });
    }
    for (const d of days) {
      const c = counts.get(d);
      if (c?.eventIds !== undefined && c.eventIds < c.events) result.duplicateDays.push({ day: d, events: c.events, eventIds: c.eventIds });
    }
  }
  // Lake counts events on a day no slice covers: the plan left a gap (never, by construction; said if it ever does).
  for (const d of lakeDays) {
    if (!parent.has(d.day) && d.events > 0 && !(expiredBefore !== undefined && d.day < expiredBefore)) {
      result.ok = false;
      result.mismatches.push({ days: [d.day], slices: [], lakeEvents: d.events, rows: 0 });
    }
  }
  result.mismatches.sort((a, b) => (a.days[0]! < b.days[0]! ? -1 : 1));
  return result;
}
