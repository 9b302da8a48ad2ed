import { escapeControl } from './terminal-text.js';
import { formatBytes } from './units.js';

/**
 * The pure half of the live progress on a terminal: what one line says for
 * given numbers and a given width. No clock and no stream here; the caller
 * passes `now` (performance.now() milliseconds) and the terminal's columns.
 *
 * Every line is ASCII, so that its width on any terminal is its length and
 * cutting it to the terminal's columns is exact: text from the service or the
 * data (a status, a slice's label) goes through `ttyText`, which escapes
 * control characters (escapeControl) and writes any other non-ASCII character
 * as `\uXXXX`. The spinner and the bar are ASCII too (`-\|/`, `[===>  ]`),
 * as curl and wget draw them, which also keeps them right under a terminal
 * whose locale is not UTF-8.
 */

/** How far back the rate looks: rows per second over about the last 10 s, so that a slow start or a stall shows and passes. */
export const RATE_WINDOW_MS = 10_000;

export const SPINNER = ['-', '\\', '|', '/'] as const;

/** A frame of the spinner for a tick count. */
export function spinnerFrame(tick: number): string {
  return SPINNER[((tick % SPINNER.length) + SPINNER.length) % SPINNER.length]!;
}

/** Text from outside for a live line: control characters escaped, then anything not printable ASCII as `\uXXXX`, so that one character is one column. */
export function ttyText(text: string): string {
  return escapeControl(text).replace(/[^\x20-\x7e]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Cut an ASCII line to `width` columns; a cut line ends in `~` where the cut was, as `less -S` marks it. */
export function fitWidth(line: string, width: number): string {
  if (width <= 0) return '';
  if (line.length <= width) return line;
  return width === 1 ? '~' : `${line.slice(0, width - 1)}~`;
}

/**
 * Rows per second over a recent window. `add` is called with the rows so far
 * as pages arrive; `rate(now)` counts from the newest sample at or before
 * `now - windowMs` (or the first sample, the first page: the wait before it
 * never counts) to now, so that a stall lowers the rate as it lasts. Keeps
 * only the samples the window needs.
 */
export class RateWindow {
  readonly #windowMs: number;
  #samples: Array<{ at: number; rows: number }> = [];
  #added = 0;

  constructor(windowMs = RATE_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  add(at: number, rows: number): void {
    this.#samples.push({ at, rows });
    this.#added++;
    // Drop all but the newest sample older than the window: it is the anchor.
    const start = at - this.#windowMs;
    let anchor = 0;
    while (anchor + 1 < this.#samples.length && this.#samples[anchor + 1]!.at <= start) anchor++;
    if (anchor > 0) this.#samples = this.#samples.slice(anchor);
  }

  /** Rows per second from the anchor to `now`: undefined with the first page only, 0 when no page came for a whole window. */
  rate(now: number): number | undefined {
    const start = now - this.#windowMs;
    let anchor = this.#samples[0];
    for (const s of this.#samples) if (s.at <= start) anchor = s;
    const last = this.#samples[this.#samples.length - 1];
    if (!anchor || !last || this.#added < 2) return undefined;
    if (last === anchor) return 0;
    const span = (now - anchor.at) / 1000;
    return span > 0 ? (last.rows - anchor.rows) / span : undefined;
  }
}

/** Seconds left at `rate` rows/s, or undefined when there is no rate or no total to count down to. */
export function etaSeconds(rows: number, total: number | undefined, rate: number | undefined): number | undefined {
  if (total === undefined || rate === undefined || !(rate > 0)) return undefined;
  return Math.max(0, (total - rows) / rate);
}

/** `4s`, `2m05s`, `1h02m`: short, for the live line. */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `[=====>    ]` of `width` columns (brackets included) for a fraction from 0 to 1. */
export function formatBar(fraction: number, width: number): string {
  const inner = Math.max(1, width - 2);
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.floor(f * inner);
  if (full >= inner) return `[${'='.repeat(inner)}]`;
  return `[${'='.repeat(full)}>${' '.repeat(inner - full - 1)}]`;
}

/** `45%`: floored, so that 100% means every row is in. */
export function percent(rows: number, total: number): string {
  if (total <= 0) return '100%';
  return `${Math.min(100, Math.floor((rows / total) * 100))}%`;
}

/**
 * A slice's or window's bounds, short: `2024-05-01..2024-05-02` for whole
 * days, `2024-05-01T06:00..12:00` for whole minutes (the end's date said only
 * when it is another day), else as given.
 */
export function rangeLabel(start: string, end: string): string {
  const cut = (tail: string) => start.endsWith(tail) && end.endsWith(tail);
  for (const tail of ['T00:00:00Z', 'T00:00:00.000Z']) if (cut(tail)) return `${start.slice(0, -tail.length)}..${end.slice(0, -tail.length)}`;
  for (const tail of [':00Z', ':00.000Z']) {
    if (!cut(tail)) continue;
    const [from, to] = [start.slice(0, -tail.length), end.slice(0, -tail.length)];
    // The same day: its date once (`2024-05-01T06:00..12:00`).
    return from.slice(0, 11) === to.slice(0, 11) ? `${from}..${to.slice(11)}` : `${from}..${to}`;
  }
  return `${start}..${end}`;
}

/** A slice's key (`20240501T000000Z-20240502T000000Z`, windowKey) as rangeLabel shows its bounds. */
export function sliceLabel(key: string): string {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(key);
  if (!m) return key;
  const iso = (p: string[]) => `${p[0]}-${p[1]}-${p[2]}T${p[3]}:${p[4]}:${p[5]}Z`;
  return rangeLabel(iso(m.slice(1, 7)), iso(m.slice(7, 13)));
}

/** What a live line shows of one export (the export, or a slice or window of a job). */
export interface RunView {
  /** A slice's or window's label, shown first; none for a lone export. */
  label?: string | undefined;
  /** The query's status as the service last said it, while waiting. */
  status?: string | undefined;
  /** When the wait began (performance.now()), for the elapsed time. */
  startedAt: number;
  /** False until the first page is in: then the line is the bar. */
  paging: boolean;
  rows: number;
  pages: number;
  total?: number | undefined;
  /** Bytes the destination has taken so far; 0 with rows in means the encoder holds them (a Parquet row group). */
  bytes: number;
  rate?: number | undefined;
}

/**
 * One run's line for `width` columns. Waiting: spinner, status, elapsed
 * (`- query RUNNING, 12s`). Paging: bar, percentage, rows, pages, rate,
 * bytes and ETA (`[==>    ] 45% 4500/10000 rows, 5 pages, 900 rows/s, 1.2 MiB, ETA 6s`);
 * with no TotalResultsCount, the spinner, the counts and the elapsed time.
 * The bar is a quarter of the width (10 to 30 columns), so that it keeps
 * its size as the numbers grow; what does not fit beside it goes, pages
 * first, then the rate, the bytes and the ETA; the counts alone are cut to
 * the width.
 */
export function runLine(view: RunView, now: number, width: number, tick: number): string {
  const label = view.label === undefined ? '' : `${ttyText(view.label)} `;
  const elapsed = shortDuration((now - view.startedAt) / 1000);
  if (!view.paging) {
    const status = view.status === undefined ? 'starting' : `query ${ttyText(view.status)}`;
    return fitWidth(`${label}${spinnerFrame(tick)} ${status}, ${elapsed}`, width);
  }
  const { rows, total } = view;
  const eta = etaSeconds(rows, total, view.rate);
  const counts = total === undefined ? `${rows} rows` : `${percent(rows, total)} ${rows}/${total} rows`;
  // In the order shown, each with the rank at which it goes (1 first). The
  // ETA is rounded up: it says 0s only when every row is in.
  const parts: Array<[text: string, drop: number]> = [
    [`${view.pages} ${view.pages === 1 ? 'page' : 'pages'}`, 1],
    [view.rate === undefined ? '- rows/s' : `${Math.round(view.rate)} rows/s`, 2],
    [view.bytes === 0 && rows > 0 ? 'encoding' : formatBytes(view.bytes), 3],
    [total === undefined ? elapsed : eta === undefined ? 'ETA --' : `ETA ${shortDuration(Math.ceil(eta))}`, 4],
  ];
  const head = total === undefined ? `${label}${spinnerFrame(tick)} ` : `${label}${formatBar(rows / total, Math.min(30, Math.max(10, Math.floor(width / 4))))} `;
  for (let dropped = 0; dropped <= parts.length; dropped++) {
    const line = head + [counts, ...parts.filter(([, drop]) => drop > dropped).map(([text]) => text)].join(', ');
    if (line.length <= width) return line;
  }
  if (total !== undefined) {
    const narrow = `${label}${formatBar(rows / total, 10)} ${counts}`;
    if (narrow.length <= width) return narrow;
  }
  return fitWidth(`${label}${counts}`, width);
}
