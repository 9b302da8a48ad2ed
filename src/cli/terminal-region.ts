import { fstatSync } from 'node:fs';

const ERASE_LINE = '\r\x1b[K';
const ERASE_LINE_ABOVE = '\x1b[A\x1b[K';

/**
 * A few lines at the bottom of a terminal, redrawn in place: the live
 * progress. Erasing is `\r ESC[K` for the line the cursor is on, then
 * `ESC[A ESC[K` for each line above it in the region (cursor up, erase
 * line: VT100 sequences that every terminal knows, and all that this
 * needs, so no library); drawing erases, then writes the new lines. The
 * cursor rests at the end of the last line, and `clear()` leaves it at the
 * start of the first, so that whatever is written next takes the region's
 * place.
 *
 * Each line is cut to one column less than the terminal's width: a line
 * that fills the last column leaves some terminals in their pending-wrap
 * state, and the next cursor-up would then count one row short. The width
 * is read at every draw (a resize between two draws is taken as it
 * comes), and on 'resize' the region is redrawn. The lines must be ASCII
 * without control characters (progress-format.ts makes them so), so that a
 * line's length is its width.
 */
export class TerminalRegion {
  readonly #stream: NodeJS.WritableStream & { columns?: number; rows?: number; on?: NodeJS.WritableStream['on']; off?: NodeJS.WritableStream['off'] };
  #shown = 0;
  #lines: string[] = [];
  readonly #onResize = () => this.#redraw();

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
    this.#stream.on?.('resize', this.#onResize);
  }

  /** The terminal's width in columns; 80 when the stream does not say (a pipe in a test, or a pty of size 0). */
  get columns(): number {
    const columns = this.#stream.columns;
    return typeof columns === 'number' && columns > 0 ? columns : 80;
  }

  /** The terminal's height in rows; 24 when the stream does not say. A region must be shorter: the cursor cannot go up past the top. */
  get rows(): number {
    const rows = this.#stream.rows;
    return typeof rows === 'number' && rows > 0 ? rows : 24;
  }

  /** Replaces the region with `lines`; writes nothing when they are what is shown. */
  draw(lines: readonly string[]): void {
    if (this.#shown > 0 && lines.length === this.#lines.length && lines.every((line, i) => line === this.#lines[i])) return;
    this.#lines = [...lines];
    this.#redraw();
  }

  /** Erases the region; the next write starts where its first line was. */
  clear(): void {
    this.#erase();
    this.#lines = [];
  }

  /** Clears the region and stops listening for resizes. */
  close(): void {
    this.clear();
    this.#stream.off?.('resize', this.#onResize);
  }

  #erase(): void {
    if (this.#shown > 0) this.#stream.write(this.#erasing());
    this.#shown = 0;
  }

  /** The bytes that erase what is shown: one write with the new lines, so that a redraw never flickers. */
  #erasing(): string {
    return this.#shown === 0 ? '' : ERASE_LINE + ERASE_LINE_ABOVE.repeat(this.#shown - 1);
  }

  #redraw(): void {
    if (this.#lines.length === 0) return this.#erase();
    const width = this.columns - 1;
    // After a resize to fewer columns, cut again.
    const text = this.#lines.map((line) => (line.length > width ? line.slice(0, Math.max(0, width)) : line)).join('\n');
    this.#stream.write(this.#erasing() + text);
    this.#shown = this.#lines.length;
  }
}

/**
 * Whether stdout is the very terminal that stderr is (`--out -` on a
 * terminal): then a live progress on stderr would be drawn among the data.
 * Both must be TTYs (`isTTY`, as bin.ts sets `stderrIsTTY`); when both have
 * file descriptors, their devices are compared, so that `2>/dev/pts/3`
 * still gets its progress; without descriptors, a TTY stdout counts as the
 * same terminal.
 */
export function sharesTerminal(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): boolean {
  const out = stdout as NodeJS.WritableStream & { isTTY?: boolean; fd?: number };
  const err = stderr as NodeJS.WritableStream & { isTTY?: boolean; fd?: number };
  if (out.isTTY !== true) return false;
  if (typeof out.fd !== 'number' || typeof err.fd !== 'number') return true;
  try {
    return fstatSync(out.fd).rdev === fstatSync(err.fd).rdev;
  } catch {
    return true;
  }
}
