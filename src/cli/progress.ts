import type { PageEvent } from '../export/export-options.js';
import type { RetryEvent } from '../source/retry.js';
import { LiveProgress } from './progress-live.js';
import { jsonLine, logText } from './terminal-text.js';
import { formatBytes } from './units.js';

export type LogFormat = 'text' | 'json';

export interface LogOptions {
  format: LogFormat;
  quiet: boolean;
  /** Stderr is a terminal: live progress drawn there instead of lines at an interval. */
  live: boolean;
  /**
   * Whether `live` progress is drawn: false when stdout is the same terminal
   * (`--out -`), where it would mix with the data; then there is no progress
   * at all, neither drawn nor at an interval. @default true
   */
  draw?: boolean | undefined;
  /** Interval of progress lines off a terminal. @default 10000 */
  intervalMs?: number | undefined;
  /**
   * The run's signal (SIGINT, SIGTERM): when it aborts, live progress stops
   * and is erased at once, so that the "stopping" line bin.ts then writes,
   * and whatever follows, stand on a clean screen.
   */
  signal?: AbortSignal | undefined;
}

/**
 * Everything the export command says on stderr (data never goes there):
 * waits, retries, progress and the summary, as text for people or as one
 * JSON object per line for cron and log shippers. On a terminal the
 * progress is drawn live at the bottom (LiveProgress, progress-live.ts);
 * elsewhere a progress line is written at a steady interval. `quiet` keeps all but
 * errors (which main() writes) to itself. Every line is one line with its
 * credentials masked and its message cut to MESSAGE_LIMIT characters; as
 * text, with control characters escaped (see logText and jsonLine), as
 * warnings and retries carry the service's messages and the data's names.
 */
export class Log {
  readonly #stderr: NodeJS.WritableStream;
  readonly #options: LogOptions;
  readonly #started = performance.now();
  #timer: NodeJS.Timeout | undefined;
  readonly #live: LiveProgress | undefined;
  #state: { queryId?: string; status?: string; rows: number; pages: number; total?: number | undefined; bytes: number } = { rows: 0, pages: 0, bytes: 0 };

  constructor(stderr: NodeJS.WritableStream, options: LogOptions) {
    this.#stderr = stderr;
    this.#options = options;
    if (!options.quiet && !options.live) {
      this.#timer = setInterval(() => this.#progress(), options.intervalMs ?? 10_000);
      this.#timer.unref();
    }
    if (!options.quiet && options.live && options.draw !== false) this.#live = new LiveProgress(stderr, this.#started);
    options.signal?.addEventListener('abort', () => this.#live?.stop(), { once: true });
  }

  /** Whether live progress is drawn on the terminal: then a line that only says what the live lines show can go unsaid. */
  get drawing(): boolean {
    return this.#live !== undefined;
  }

  /** A line of its own: `event` names it in JSON, `text` is what a person reads. */
  event(event: string, text: string, fields: Record<string, unknown> = {}): void {
    if (this.#options.quiet) return;
    this.#live?.clear();
    if (this.#options.format === 'json') this.#stderr.write(jsonLine({ time: new Date().toISOString(), level: 'info', event, ...fields }) + '\n');
    else this.#stderr.write(`ctlake: ${logText(text)}\n`);
    this.#live?.draw();
  }

  /** Something that needs a person's eye but does not stop the command. */
  warn(text: string): void {
    if (this.#options.quiet) return;
    this.#live?.clear();
    if (this.#options.format === 'json') this.#stderr.write(jsonLine({ time: new Date().toISOString(), level: 'warn', event: 'warning', message: text }) + '\n');
    else this.#stderr.write(`ctlake: warning: ${logText(text)}\n`);
    this.#live?.draw();
  }

  /** The query being exported, for the lines that name it. */
  forQuery(queryId: string | undefined): void {
    this.#state.queryId = queryId;
  }

  queryStarted(queryId: string): void {
    this.#state.queryId = queryId;
    this.event('query-started', `started query ${queryId}`, { queryId });
  }

  /** The status DescribeQuery returned; `run` names the job's slice or window it is of (see runStarted). */
  status(status: string, run?: string): void {
    this.#live?.status(status, run);
    if (status === this.#state.status) return;
    this.#state.status = status;
    // Drawn, the status is on the live line; a line of its own would only scroll it away.
    if (this.#live) return;
    if (status === 'QUEUED' || status === 'RUNNING') this.event('query-status', `query ${this.#state.queryId ?? ''} is ${status}; waiting`, { queryId: this.#state.queryId, status });
  }

  /** A job's slice or window has started (a line of its own while drawn live, until runEnded). */
  runStarted(run: string, label: string): void {
    this.#live?.runStarted(run, label);
  }

  runEnded(run: string): void {
    this.#live?.runEnded(run);
  }

  /** The job's totals, drawn live under its runs' lines. */
  totals(text: string): void {
    this.#live?.totals(text);
  }

  retry(e: RetryEvent): void {
    const reason = (e.error.name === 'Error' || e.error.name === 'CtlakeError' ? e.error.message : e.error.name).split('\n')[0]!.trim();
    this.event('retry', `${e.operation}: ${reason}; retry ${e.attempt} of ${e.attempt + e.retriesLeft - 1}`, { operation: e.operation, error: reason, attempt: e.attempt, retriesLeft: e.retriesLeft });
  }

  page(e: PageEvent): void {
    Object.assign(this.#state, { rows: e.totalRows, pages: e.page + 1, total: e.totalResultsCount, bytes: e.bytesWritten ?? this.#state.bytes });
    this.#live?.page(e, undefined);
  }

  /** A page of a job's slice or window: for its live line only (a job's lines at an interval are as they were). */
  runPage(e: PageEvent, run: string | undefined): void {
    this.#live?.page(e, run);
  }

  /** Stops the interval and clears the live progress for good; call before the summary or an error. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#live?.stop();
  }

  #snapshot() {
    const seconds = (performance.now() - this.#started) / 1000;
    const { rows, total } = this.#state;
    const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
    const eta = total !== undefined && rate > 0 ? Math.max(0, (total - rows) / rate) : undefined;
    return { ...this.#state, rate, eta, seconds };
  }

  #progress(): void {
    const p = this.#snapshot();
    this.event(
      'progress',
      `${p.rows}${p.total === undefined ? '' : ` of ${p.total}`} rows, ${p.pages} pages, ${p.rate} rows/s, ${formatBytes(p.bytes)} written`,
      { queryId: p.queryId, status: p.status, rows: p.rows, totalResultsCount: p.total, pages: p.pages, rowsPerSecond: p.rate, etaSeconds: p.eta === undefined ? undefined : Math.round(p.eta), bytesWritten: p.bytes },
    );
  }
}
