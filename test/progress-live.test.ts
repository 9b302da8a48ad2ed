import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Log } from '../src/cli/progress.js';

/** A Log on a fake terminal of 60 columns; what it wrote, once the writes are through. */
function terminalLog(options: { draw?: boolean; format?: 'text' | 'json' } = {}) {
  const stderr = Object.assign(new PassThrough(), { columns: 60, rows: 24 });
  const chunks: string[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const log = new Log(stderr, { format: options.format ?? 'text', quiet: false, live: true, draw: options.draw });
  const written = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return chunks.join('');
  };
  return { log, written };
}

const page = (n: number) => ({ page: n, rows: 100, totalRows: (n + 1) * 100, totalResultsCount: 1000, bytesWritten: n * 5000 });

describe('the live progress of a Log on a terminal', () => {
  it('clears the bar before a warning, draws it again after, and leaves nothing of it once stopped', async () => {
    const { log, written } = terminalLog();
    log.status('RUNNING');
    log.page(page(0));
    log.warn('something \x1b[2J odd');
    log.stop();
    log.page(page(1)); // after stop: nothing more
    const text = await written();
    const bar = '[=>          ] 10% 100/1000 rows, encoding, ETA --';
    expect(text).toBe(`- query RUNNING, 0s\r\x1b[K${bar}\r\x1b[Kctlake: warning: something \\x1b[2J odd\n${bar}\r\x1b[K`);
  });

  it('leaves the status lines to the live line, and the lines at an interval off', async () => {
    const { log, written } = terminalLog();
    log.queryStarted('q-1');
    log.status('QUEUED');
    log.stop();
    const text = await written();
    expect(text).toContain('ctlake: started query q-1\n');
    expect(text).not.toContain('waiting');
    expect(text).toContain('- query QUEUED, 0s');
    expect(text.endsWith('\r\x1b[K')).toBe(true);
  });

  it('draws nothing with draw: false (stdout is the same terminal), and says the status as a line instead', async () => {
    const { log, written } = terminalLog({ draw: false });
    log.queryStarted('q-1');
    log.status('QUEUED');
    log.page(page(0));
    log.stop();
    expect(await written()).toBe('ctlake: started query q-1\nctlake: query q-1 is QUEUED; waiting\n');
  });

  it('draws a job: a line per run in flight over the totals, a status taken as the run it names', async () => {
    const { log, written } = terminalLog();
    log.runStarted('a', 'slice A');
    log.runStarted('b', 'slice B');
    log.totals('slices: 0/2 done, 2 running');
    log.status('QUEUED', 'b');
    log.runPage({ page: 0, rows: 10, totalRows: 10, totalResultsCount: 20, bytesWritten: 0 }, 'a');
    log.stop();
    const text = await written();
    const last = text.split('\r\x1b[K\x1b[A\x1b[K\x1b[A\x1b[K').at(-2)!;
    expect(last.split('\n')).toEqual([
      'slice A [======>     ] 50% 10/20 rows, encoding, ETA --',
      'slice B - query QUEUED, 0s',
      'slices: 0/2 done, 2 running, 0s',
    ]);
  });
});
