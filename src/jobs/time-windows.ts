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
 * The whole windows of `size` from `from` that have closed by `until`:
 * `[from, from + size)`, `[from + size, from + 2 size)`, ... each ending at
 * or before `until`, oldest first. Consecutive by construction: no gap, no
 * overlap. Empty when not even one has closed.
 */
export function closedWindows(from: number, size: number, until: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  for (let start = from; start + size <= until; start += size) windows.push({ start, end: start + size });
  return windows;
}

/** [from, to) cut into slices of `size`; the last one is cut short at `to`. */
export function slices(from: number, to: number, size: number): TimeWindow[] {
  const out: TimeWindow[] = [];
  for (let start = from; start < to; start += size) out.push({ start, end: Math.min(start + size, to) });
  return out;
}

/** The name a window gives its files and its manifest entry: `20240501T000000Z-20240501T010000Z`. */
export function windowKey(window: TimeWindow): string {
  const compact = (ms: number) => isoTime(ms).replace(/[-:]/g, '');
  return `${compact(window.start)}-${compact(window.end)}`;
}
