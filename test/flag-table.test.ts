import { describe, expect, it } from 'vitest';
import { commandHelp, flagForOption, parseFlags, type CommandSpec } from '../src/cli/flag-table.js';
import { isCtlakeError } from '../src/errors.js';
import { milliseconds, wholeNumber } from '../src/cli/flag-readers.js';

const spec = {
  name: 'demo',
  summary: 'A demo command',
  usage: 'demo --out OUT [options]',
  description: 'Does a demo.',
  flags: {
    out: { type: 'string', short: 'o', value: 'OUT', help: 'Where the rows go.' },
    column: { type: 'string', multiple: true, value: 'NAME:TYPE', help: 'A column type; repeatable.', group: 'Types' },
    'query-timeout': { type: 'string', value: 'D', option: 'queryTimeoutMs', help: 'Cancel the query if it has not finished after D (90s, 15m, 1h) and exit 3, which is a long line that must wrap.' },
    quiet: { type: 'boolean', short: 'q', help: 'No progress.' },
    secret: { type: 'string', hidden: true, help: 'Not shown.' },
    constructor: { type: 'boolean', help: 'A flag named like an Object.prototype member is an ordinary flag.' },
  },
} as const satisfies CommandSpec;

describe('a command flag table', () => {
  it('parses the flags it declares, repeatable ones as lists', () => {
    const { values } = parseFlags(spec, ['-o', 'x.ndjson', '--column', 'a:int64', '--column', 'b:string', '-q', '--constructor']);
    expect(values).toEqual({ out: 'x.ndjson', column: ['a:int64', 'b:string'], quiet: true, constructor: true });
  });

  it('refuses an unknown flag with a usage error naming the command help', () => {
    let error: unknown;
    try {
      parseFlags(spec, ['--nope']);
    } catch (e) {
      error = e;
    }
    expect(isCtlakeError(error, 'INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toMatch(/--nope.*run ctlake demo --help for the options/);
  });

  it('generates --help from the same table: every shown flag, wrapped to 80 columns, grouped', () => {
    const help = commandHelp(spec);
    expect(help).toMatch(/^Usage: ctlake demo --out OUT \[options\]\n\nDoes a demo\.\n\nOptions:\n {2}-o, --out OUT +Where the rows go\.\n/);
    expect(help).toMatch(/\nTypes:\n {2}--column NAME:TYPE +A column type; repeatable\.\n/);
    const lines = help.split('\n');
    // Every help text starts in one column, as the hand-written help did.
    expect(lines.find((l) => l.startsWith('  -o, --out'))!.indexOf('Where')).toBe(27);
    expect(lines.find((l) => l.includes('--column NAME'))!.indexOf('A column')).toBe(27);
    expect(help).not.toMatch(/secret/);
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(help).toMatch(/--query-timeout D +Cancel the query.*\n {27}\S/);
  });

  it('maps a library option to the flag that sets it', () => {
    expect(flagForOption(spec, 'queryTimeoutMs')).toBe('--query-timeout');
    expect(flagForOption(spec, 'toString')).toBeUndefined();
  });

  it("reads each value by its flag's check, which names the flag; --help is shown whatever the values", () => {
    const checked = {
      name: 'checked',
      usage: 'checked [options]',
      description: 'Checks.',
      flags: {
        'page-size': { type: 'string', read: wholeNumber(1, 1000), help: 'Rows per page.' },
        wait: { type: 'string', multiple: true, read: milliseconds, help: 'Waits; repeatable.' },
        help: { type: 'boolean', short: 'h', help: 'Show this help' },
      },
    } as const satisfies CommandSpec;
    const { values } = parseFlags(checked, ['--page-size', '20', '--wait', '2s', '--wait', '15m']);
    expect(values).toEqual({ 'page-size': 20, wait: [2000, 900_000] });
    const pageSize: number | undefined = values['page-size'];
    expect(pageSize).toBe(20);
    expect(() => parseFlags(checked, ['--page-size', '0'])).toThrow("--page-size must be a whole number from 1 to 1000, not '0'");
    expect(() => parseFlags(checked, ['--wait', '1s', '--wait', 'soon'])).toThrow("--wait must be a duration such as 90s, 15m, 24h or 7d, not 'soon'");
    expect(parseFlags(checked, ['--page-size', '0', '-h']).values).toEqual({ help: true });
  });
});
