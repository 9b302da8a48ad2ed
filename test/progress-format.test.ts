import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  etaSeconds,
  fitWidth,
  formatBar,
  percent,
  rangeLabel,
  RateWindow,
  runLine,
  shortDuration,
  sliceLabel,
  spinnerFrame,
  ttyText,
  type RunView,
} from '../src/cli/progress-format.js';
import { TerminalRegion } from '../src/cli/terminal-region.js';

const paging = (over: Partial<RunView> = {}): RunView => ({ startedAt: 0, paging: true, rows: 4500, pages: 5, total: 10_000, bytes: 1_258_291, rate: 900, ...over });

describe('the bar', () => {
  it('fills in proportion, with a head while under 100%, at the width asked', () => {
    expect(formatBar(0, 12)).toBe('[>         ]');
    expect(formatBar(0.45, 12)).toBe('[====>     ]');
    expect(formatBar(0.999, 12)).toBe('[=========>]');
    expect(formatBar(1, 12)).toBe('[==========]');
    expect(formatBar(1.5, 12)).toBe('[==========]');
    expect(formatBar(Number.NaN, 12)).toBe('[>         ]');
    for (const w of [3, 10, 30]) expect(formatBar(0.3, w)).toHaveLength(w);
  });

  it('floors the percentage, so that 100% means every row is in', () => {
    expect(percent(999, 1000)).toBe('99%');
    expect(percent(1000, 1000)).toBe('100%');
    expect(percent(0, 0)).toBe('100%');
  });
});

describe('the rate over a recent window, and the ETA', () => {
  it('counts from the first page: the wait before it never counts', () => {
    const rates = new RateWindow(10_000);
    rates.add(60_000, 1000); // a minute QUEUED, then the first page
    expect(rates.rate(60_000)).toBeUndefined();
    rates.add(61_000, 2000);
    expect(rates.rate(61_000)).toBe(1000);
    expect(etaSeconds(2000, 10_000, rates.rate(61_000))).toBe(8);
  });

  it('follows the last 10 s: a slowdown shows in the rate and the ETA, and a stall lowers them as time passes', () => {
    const rates = new RateWindow(10_000);
    for (let s = 0; s <= 20; s++) rates.add(s * 1000, s <= 10 ? s * 1000 : 10_000 + (s - 10) * 100);
    // Over 10..20 s: 1000 rows in 10 s, not 11,000 in 20 s.
    expect(rates.rate(20_000)).toBe(100);
    // Nothing for a whole window: 0 rows/s, and no ETA.
    expect(rates.rate(25_000)).toBeCloseTo(500 / 10, 5);
    expect(rates.rate(30_000)).toBe(0);
    expect(etaSeconds(11_000, 12_000, 0)).toBeUndefined();
    expect(etaSeconds(11_000, 12_000, 100)).toBe(10);
  });

  it('has no ETA without a total or a rate', () => {
    expect(etaSeconds(10, undefined, 5)).toBeUndefined();
    expect(etaSeconds(10, 100, undefined)).toBeUndefined();
    expect(etaSeconds(10, 100, 0)).toBeUndefined();
    expect(etaSeconds(120, 100, 5)).toBe(0);
  });

  it('says a duration briefly', () => {
    expect(shortDuration(4.4)).toBe('4s');
    expect(shortDuration(125)).toBe('2m05s');
    expect(shortDuration(3725)).toBe('1h02m');
  });
});

describe('one run line', () => {
  it('waits with a spinner, the status and the elapsed time', () => {
    expect(runLine({ startedAt: 0, paging: false, rows: 0, pages: 0, bytes: 0, status: 'QUEUED' }, 12_300, 60, 0)).toBe('- query QUEUED, 12s');
    expect(runLine({ startedAt: 0, paging: false, rows: 0, pages: 0, bytes: 0 }, 0, 60, 1)).toBe('\\ starting, 0s');
    expect([0, 1, 2, 3, 4].map(spinnerFrame).join('')).toBe('-\\|/-');
  });

  it('pages with the bar, the percentage, rows, pages, rate, bytes and ETA when there is room', () => {
    expect(runLine(paging(), 0, 100, 0)).toBe('[==========>            ] 45% 4500/10000 rows, 5 pages, 900 rows/s, 1.2 MiB, ETA 7s');
  });

  it('fits any width: parts go, pages first, then rate, bytes and ETA, then the bar; the counts are cut last', () => {
    const widths = [79, 70, 59, 40, 30, 20, 10, 1];
    const lines = widths.map((w) => runLine(paging(), 0, w, 0));
    for (const [i, line] of lines.entries()) expect(line.length).toBeLessThanOrEqual(widths[i]!);
    expect(lines).toEqual([
      '[=======>         ] 45% 4500/10000 rows, 5 pages, 900 rows/s, 1.2 MiB, ETA 7s',
      '[======>        ] 45% 4500/10000 rows, 900 rows/s, 1.2 MiB, ETA 7s',
      '[=====>      ] 45% 4500/10000 rows, 1.2 MiB, ETA 7s',
      '[===>    ] 45% 4500/10000 rows, ETA 7s',
      '[===>    ] 45% 4500/10000 rows',
      '45% 4500/10000 rows',
      '45% 4500/~',
      '~',
    ]);
  });

  it('says "encoding" while the destination has no bytes yet but rows are in (a Parquet row group), "ETA --" before a rate', () => {
    expect(runLine(paging({ bytes: 0, rate: undefined }), 0, 100, 0)).toMatch(/, - rows\/s, encoding, ETA --$/);
    expect(runLine(paging({ rows: 0, bytes: 0 }), 0, 100, 0)).toMatch(/ 0% 0\/10000 rows, 5 pages, 900 rows\/s, 0 B, ETA 12s$/);
  });

  it('spins instead of a bar without a TotalResultsCount, with the elapsed time', () => {
    expect(runLine(paging({ total: undefined }), 75_000, 80, 2)).toBe('| 4500 rows, 5 pages, 900 rows/s, 1.2 MiB, 1m15s');
  });

  it('labels a slice, and keeps text from outside to one column a character', () => {
    expect(runLine({ ...paging(), label: 'slice 2024-05-01..2024-05-02' }, 0, 80, 0)).toMatch(/^slice 2024-05-01\.\.2024-05-02 \[=+>? *\] 45% /);
    const evil = runLine({ startedAt: 0, paging: false, rows: 0, pages: 0, bytes: 0, status: 'RUN\x1b[2J\u202e漢' }, 0, 80, 0);
    expect(evil).toBe('- query RUN\\x1b[2J\\u202e\\u6f22, 0s');
    expect(ttyText('é\u{1f600}\n')).toBe('\\u00e9\\u{1f600}\\n');
  });

  it('cuts a line with a mark where it was cut', () => {
    expect(fitWidth('abcdef', 6)).toBe('abcdef');
    expect(fitWidth('abcdef', 4)).toBe('abc~');
    expect(fitWidth('abcdef', 0)).toBe('');
  });

  it('says slices and windows briefly', () => {
    expect(rangeLabel('2024-05-01T00:00:00Z', '2024-05-02T00:00:00Z')).toBe('2024-05-01..2024-05-02');
    expect(rangeLabel('2024-05-01T06:00:00Z', '2024-05-01T12:00:00Z')).toBe('2024-05-01T06:00..12:00');
    expect(rangeLabel('2024-05-01T23:00:00Z', '2024-05-02T00:30:00Z')).toBe('2024-05-01T23:00..2024-05-02T00:30');
    expect(rangeLabel('2024-05-01T00:00:01Z', '2024-05-01T00:00:02Z')).toBe('2024-05-01T00:00:01Z..2024-05-01T00:00:02Z');
    expect(sliceLabel('20240501T000000Z-20240502T000000Z')).toBe('2024-05-01..2024-05-02');
    expect(sliceLabel('not-a-key')).toBe('not-a-key');
  });
});

describe('the terminal region', () => {
  function region(columns: number) {
    const stream = Object.assign(new PassThrough(), { columns });
    const out: string[] = [];
    stream.on('data', (c: Buffer) => out.push(c.toString()));
    return { region: new TerminalRegion(stream), stream, written: () => out.join('') };
  }

  it('redraws its lines in place (cursor up and erase per line), cut to one column short of the width, and clears to where it began', async () => {
    const { region: r, written } = region(10);
    r.draw(['one', 'two that is long']);
    r.draw(['one', 'two that is long']); // the same: nothing written
    r.draw(['1', '2', '3']);
    r.clear();
    await new Promise((resolve) => setImmediate(resolve));
    expect(written()).toBe('one\ntwo that ' + '\r\x1b[K\x1b[A\x1b[K' + '1\n2\n3' + '\r\x1b[K\x1b[A\x1b[K\x1b[A\x1b[K');
  });

  it('redraws on resize, cut to the new width', async () => {
    const { region: r, stream, written } = region(20);
    r.draw(['0123456789abcdef']);
    stream.columns = 8;
    stream.emit('resize');
    r.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(written()).toBe('0123456789abcdef' + '\r\x1b[K' + '0123456' + '\r\x1b[K');
  });
});
