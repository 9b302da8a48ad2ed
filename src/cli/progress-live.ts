import type { PageEvent } from '../export/export-options.js';
import { fitWidth, RateWindow, runLine, shortDuration, ttyText, type RunView } from './progress-format.js';
import { TerminalRegion } from './terminal-region.js';

/** How often the live progress is redrawn: the spinner turns, the elapsed time, rate and ETA move between pages. */
export const TICK_MS = 125;

/** At most this many slices' or windows' lines are drawn (fewer on a short terminal); the totals say how many run. */
const MAX_RUN_LINES = 10;

interface Run extends RunView {
  rates: RateWindow;
}

/**
 * The live progress on a terminal (stderr): one line for an export, or one
 * line per slice or window in flight and a totals line for a job, redrawn in
 * place every TICK_MS and cut to the terminal's width (TerminalRegion).
 * While a query is QUEUED or RUNNING its line is a spinner, the status and
 * the time since the wait began; once its first page is in, a bar of
 * TotalResultsCount with the rows, pages, rows/s over the last 10 s
 * (RateWindow: the wait never counts), the ETA at that rate, and the bytes
 * the destination has taken (see runLine). The tick's timer is unref'd: it
 * never keeps the process alive. The caller clears it (`clear()`) before any
 * other line on stderr and draws it again after (`draw()`).
 *
 * A job's exports share the library's onStatus and onPage: an event names
 * its run when the caller knows it (`run`); one that does not is taken as
 * the one run in flight, if there is exactly one, and shows only in the
 * totals otherwise.
 */
export class LiveProgress {
  readonly #stderr: NodeJS.WritableStream;
  /** Made on the first event: a command that never reports one (the emulator, `ctlake queries`) never draws nor listens for resizes. */
  #region: TerminalRegion | undefined;
  readonly #started: number;
  readonly #runs = new Map<string, Run>();
  #job = false;
  #totals: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #tick = 0;
  #stopped = false;

  constructor(stderr: NodeJS.WritableStream, started: number) {
    this.#stderr = stderr;
    this.#started = started;
  }

  status(status: string, run: string | undefined): void {
    const r = this.#run(run);
    if (!r) return;
    r.status = status;
    this.#start();
  }

  page(e: PageEvent, run: string | undefined): void {
    const r = this.#run(run);
    if (!r) return;
    const now = performance.now();
    r.paging = true;
    r.rows = e.totalRows;
    r.pages = e.page + 1;
    r.total = e.totalResultsCount;
    r.bytes = e.bytesWritten ?? r.bytes;
    r.rates.add(now, e.totalRows);
    this.#start();
    this.draw();
  }

  runStarted(run: string, label: string): void {
    this.#job = true;
    this.#runs.set(run, newRun(performance.now(), label));
    this.#start();
    this.draw();
  }

  runEnded(run: string): void {
    this.#runs.delete(run);
    this.draw();
  }

  totals(text: string): void {
    this.#job = true;
    this.#totals = ttyText(text);
    this.#start();
    this.draw();
  }

  /** Draws the current state now (after a log line, or on a tick). */
  draw(): void {
    if (this.#stopped || !this.#region) return;
    const now = performance.now();
    const width = this.#region.columns - 1;
    const lines: string[] = [];
    const room = Math.max(0, Math.min(MAX_RUN_LINES, this.#region.rows - 2));
    for (const r of [...this.#runs.values()].slice(0, this.#job ? room : 1)) {
      if (r.paging) r.rate = r.rates.rate(now);
      lines.push(runLine(r, now, width, this.#tick));
    }
    if (this.#job) lines.push(fitWidth(`${this.#totals ?? ''}${this.#totals ? ', ' : ''}${shortDuration((now - this.#started) / 1000)}`, width));
    this.#region.draw(lines);
  }

  /** Erases what is drawn, for a line of the log; the next draw() or tick brings it back. */
  clear(): void {
    this.#region?.clear();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#region?.close();
  }

  /** The run an event is of: the lone export's, created on its first event; a job's named one, or its only one in flight. */
  #run(run: string | undefined): Run | undefined {
    if (this.#stopped) return undefined;
    if (!this.#job) {
      let lone = this.#runs.get('');
      if (!lone) this.#runs.set('', (lone = newRun(this.#started)));
      return lone;
    }
    if (run !== undefined) return this.#runs.get(run);
    return this.#runs.size === 1 ? [...this.#runs.values()][0] : undefined;
  }

  #start(): void {
    if (this.#region || this.#stopped) return;
    this.#region = new TerminalRegion(this.#stderr);
    this.#timer = setInterval(() => {
      this.#tick++;
      this.draw();
    }, TICK_MS);
    this.#timer.unref();
    this.draw();
  }
}

function newRun(startedAt: number, label?: string): Run {
  return { label, startedAt, paging: false, rows: 0, pages: 0, bytes: 0, rates: new RateWindow() };
}
