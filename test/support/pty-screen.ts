import { spawn, spawnSync } from 'node:child_process';
import xterm from '@xterm/headless';
import { BIN } from './cli-process.js';

/** util-linux `script`, which runs a command on a fresh pseudo-terminal: the tests that need one run only where it is. */
export const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

export interface PtyRun {
  status: number | null;
  /** Everything the terminal received, stdout and stderr as one stream, as a person's terminal gets them. */
  raw: string;
  /** The screen after each chunk the terminal received, in order: what a person saw at each moment. */
  screens: Screen[];
  /** The screen at the end. */
  final: Screen;
}

export interface Screen {
  /** The rows of the screen (and what scrolled off), right-trimmed, trailing empty rows dropped. */
  rows: string[];
  /** Indexes into `rows` of the rows that continue the one above: a line wider than the terminal, wrapped. */
  wrapped: number[];
  /** The lines as written: each row joined with the rows that continue it. */
  lines: string[];
}

/**
 * Runs the built CLI on a real pseudo-terminal of `cols` × `rows` (through
 * `script`, with `stty` setting the size inside it, so that the CLI reads it
 * as `process.stderr.columns`), stdout and stderr both on it, and replays
 * the bytes it printed into a headless xterm.js terminal of the same size,
 * taking the screen after every chunk (at the first size: a `resize` of the
 * pty during the run is seen by the CLI, not by the replay). `args` are
 * quoted for the shell.
 */
export async function runOnPty(
  args: string[],
  env: Record<string, string>,
  size: { cols: number; rows: number; resize?: { afterMs: number; cols: number }; interruptAfterMs?: number },
): Promise<PtyRun> {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  // A resize is the terminal's own: `stty` sets the pty's size (on /dev/tty: a background job's stdin is /dev/null), and the kernel sends the CLI SIGWINCH.
  const resize = size.resize ? `(sleep ${size.resize.afterMs / 1000}; stty cols ${size.resize.cols} </dev/tty) & ` : '';
  // SIGINT as Ctrl-C sends it, to the CLI: `$$` is the shell's pid, which exec hands to node.
  const interrupt = size.interruptAfterMs === undefined ? '' : `(sleep ${size.interruptAfterMs / 1000}; kill -INT $$) & `;
  const line = `stty cols ${size.cols} rows ${size.rows}; ${resize}${interrupt}exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}`;
  const chunks: string[] = [];
  const status = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('script', ['-qfec', line, '/dev/null'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => chunks.push(c));
    child.on('error', reject);
    child.on('close', resolve);
  });
  const terminal = new xterm.Terminal({ cols: size.cols, rows: size.rows, scrollback: 1000, allowProposedApi: true });
  const screens: Screen[] = [];
  for (const chunk of chunks) {
    await new Promise<void>((resolve) => terminal.write(chunk, resolve));
    screens.push(screenOf(terminal));
  }
  terminal.dispose();
  return { status, raw: chunks.join(''), screens, final: screens.at(-1) ?? { rows: [], wrapped: [], lines: [] } };
}

function screenOf(terminal: InstanceType<typeof xterm.Terminal>): Screen {
  const buffer = terminal.buffer.active;
  const rows: string[] = [];
  const wrapped: number[] = [];
  for (let i = 0; i < buffer.length; i++) {
    const row = buffer.getLine(i);
    if (!row) continue;
    if (row.isWrapped) wrapped.push(rows.length);
    rows.push(row.translateToString(true));
  }
  while (rows.length > 0 && rows.at(-1) === '') rows.pop();
  const continued = new Set(wrapped.filter((i) => i < rows.length));
  const lines: string[] = [];
  rows.forEach((row, i) => (continued.has(i) && lines.length > 0 ? (lines[lines.length - 1] += row) : lines.push(row)));
  return { rows, wrapped: [...continued], lines };
}

/** A screen as text, for a failing assertion's message. */
export function show(screen: Screen): string {
  return screen.rows.map((r) => `|${r}`).join('\n');
}
