/** A half-open time range [start, end), in epoch milliseconds (UTC). */
export interface TimeWindow {
  start: number;
  end: number;
}

/** Lake's timestamp text, `2024-05-01 00:00:00` (UTC, no zone): what `{{start}}` and `{{end}}` become. */
export function lakeTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** `2024-05-01T00:00:00Z`, for state files, manifests and logs. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const PLACEHOLDER = /\{\{\s*(start|end)\s*\}\}/g;

/**
 * Whether a SQL template has both `{{start}}` and `{{end}}`: a windowed or
 * backfill run whose SQL lacks either would export the same rows for every
 * window, or all of them.
 */
export function missingPlaceholders(template: string): string[] {
  const found = new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]));
  return ['start', 'end'].filter((name) => !found.has(name)).map((name) => `{{${name}}}`);
}

/** The SQL for one window: `{{start}}` and `{{end}}` in Lake's timestamp format. */
export function renderSql(template: string, window: TimeWindow): string {
  return template.replace(PLACEHOLDER, (_, name: string) => lakeTime(name === 'start' ? window.start : window.end));
}

/**
 * The earliest and latest instants a job accepts for --since, --from, --to
 * and the state's times: 1970-01-01 (before CloudTrail, so nothing real is
 * refused) to 9999-12-31, the last year ISO-8601 writes in four digits.
 * Outside them a year is a typo (0001, 99999), and Date would either refuse
 * it (toISOString throws) or shift it (Date.UTC maps year 1 to 1901).
 */
export const EARLIEST_INSTANT = Date.UTC(1970, 0, 1);
export const LATEST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * The longest --window and --slice: a year (366 days). Longer, a window
 * would not close for years (every run "nothing to do"), or a typo such as
 * `99999999d` would pass the last instant Date can hold.
 */
export const MAX_WINDOW_MS = 366 * 86_400_000;
/**
 * The longest --lag: 30 days. CloudTrail delivers events within minutes to
 * hours; a longer lag leaves a scheduled job exporting nothing for a month
 * while cron sees success.
 */
export const MAX_LAG_MS = 30 * 86_400_000;

/** Whether `ms` is an instant a job can plan with: a whole millisecond in [EARLIEST_INSTANT, LATEST_INSTANT]. */
export function inRange(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= EARLIEST_INSTANT && ms <= LATEST_INSTANT;
}

/**
 * How many whole windows of `size` from `from` have closed by `until`,
 * computed, not counted, so that a plan of a billion windows costs nothing
 * to size.
 */
export function closedWindowCount(from: number, size: number, until: number): number {
  return until - from < size ? 0 : Math.floor((until - from) / size);
}

/**
 * The whole windows of `size` from `from` that have closed by `until`:
 * `[from, from + size)`, `[from + size, from + 2 size)`, ... each ending at
 * or before `until`, oldest first, at most `limit` of them. Consecutive by
 * construction: no gap, no overlap. Lazy, so memory does not grow with the
 * plan; empty when not even one has closed.
 */
export function* closedWindows(from: number, size: number, until: number, limit = Infinity): Generator<TimeWindow> {
  let taken = 0;
  for (let start = from; start + size <= until && taken < limit; start += size, taken++) yield { start, end: start + size };
}

/** How many slices of `size` [from, to) is cut into, computed, not counted. */
export function sliceCount(from: number, to: number, size: number): number {
  return to <= from ? 0 : Math.ceil((to - from) / size);
}

/** [from, to) cut into slices of `size`, lazily; the last one is cut short at `to`. */
export function* slices(from: number, to: number, size: number): Generator<TimeWindow> {
  for (let start = from; start < to; start += size) yield { start, end: Math.min(start + size, to) };
}

/** `90000` → `90s`, `900000` → `15m`, `86400000` → `1d`: a duration as --window takes it, for messages. */
export function durationText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0 && ms >= size) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** The name a window gives its files and its manifest entry: `20240501T000000Z-20240501T010000Z`. */
export function windowKey(window: TimeWindow): string {
  const compact = (ms: number) => isoTime(ms).replace(/[-:]/g, '');
  return `${compact(window.start)}-${compact(window.end)}`;
}
