import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { CtlakeError, optionError } from '../src/errors.js';
import { errorMessage, main, reportError } from '../src/cli/main.js';
import { BACKFILL_SPEC, EXPORT_SPEC } from '../src/cli/export-table.js';
import { captureIO, emulatorEnv, parseNdjson, sampleRows, withEmulator } from './support/lake.js';
import { runCli } from './support/cli-process.js';

/**
 * A library option error is shown under the flag that set the option, by the
 * running command's table (each flag's `option`) and no rewriting of
 * messages; so is a CtlakeError whose message names options (a template).
 */
describe('option errors under flag names', () => {
  it('says an OptionError again from its parts, under the flag that sets the option', () => {
    expect(errorMessage(optionError('pageSize', 0, 'a whole number from 1 to 1000'), EXPORT_SPEC)).toBe('--page-size must be a whole number from 1 to 1000, not 0');
    expect(errorMessage(optionError('queryId', 'nope', 'a query id such as X'), EXPORT_SPEC)).toBe("--query-id must be a query id such as X, not 'nope'");
    expect(errorMessage(optionError('columns.eventName', 'int', 'one of string, int64'), EXPORT_SPEC)).toBe("--column must be one of string, int64, not 'int'");
    expect(errorMessage(optionError('sqlTemplate', ' ', 'a SQL statement'), BACKFILL_SPEC)).toBe("--sql or --sql-file must be a SQL statement, not ' '");
    expect(errorMessage(optionError('lockLeaseMs', 100, 'from 3000'), BACKFILL_SPEC)).toBe('--lock-lease must be from 3000, not 100');
  });

  it('quotes a value that is not plain text as every message does: escaped, masked and cut', () => {
    const long = errorMessage(optionError('storageClass', `${'x'.repeat(500)}\n`, 'one of STANDARD'), EXPORT_SPEC);
    expect(long).toMatch(/^--storage-class must be one of STANDARD, not "x{80}"\.\.\. \(501 characters\)$/);
    expect(errorMessage(optionError('storageClass', "it's\u001b[2J", 'one of STANDARD'), EXPORT_SPEC)).toBe('--storage-class must be one of STANDARD, not "it\'s\\u001b[2J"');
    expect(errorMessage(optionError('endpointUrl', 'http://u:secret123@h', 'a URL'), EXPORT_SPEC)).not.toContain('secret123');
  });

  it("keeps the library's words for an option no flag sets, or when no table is known", () => {
    expect(errorMessage(optionError('datasetKey', 'a/b', 'letters'), EXPORT_SPEC)).toBe('Invalid option datasetKey: "a/b"; expected letters');
    expect(errorMessage(optionError('pageSize', 0, 'a whole number'))).toBe('Invalid option pageSize: 0; expected a whole number');
  });

  it('renders a template message with the flags, else -- and kebab-case; what was added after is kept', () => {
    const error = new CtlakeError('DESTINATION_FAILED', (name) => `${name('out')} is a directory; raise ${name('requestDeadlineMs')} or ${name('queueSizeMax')}`, { option: 'out' });
    expect(error.message).toBe('out is a directory; raise requestDeadlineMs or queueSizeMax');
    error.message += '; (and more)';
    expect(errorMessage(error, EXPORT_SPEC)).toBe('--out is a directory; raise --request-deadline or --queue-size-max; (and more)');
    expect(errorMessage(error)).toBe('--out is a directory; raise --request-deadline-ms or --queue-size-max; (and more)');
    expect(errorMessage(new CtlakeError('SERVICE_ERROR', 'plain words'), EXPORT_SPEC)).toBe('plain words');
  });

  it('names the option and its flag in a JSON error line', () => {
    const { io, stderr } = captureIO({});
    reportError(new CtlakeError('DESTINATION_FAILED', (name) => `${name('out')} is a directory`, { option: 'out' }), 1, ['export', '--log-format', 'json'], io, EXPORT_SPEC);
    expect(JSON.parse(stderr())).toMatchObject({ level: 'error', message: '--out is a directory', code: 'DESTINATION_FAILED', option: 'out', flag: '--out', exitCode: 1 });
  });

  it('shows a check of the library under its flag, from main, with exit 2', async () => {
    const { io, stdout, stderr } = captureIO({});
    expect(await main(['export', '--query-id', '0a1b2c3d-0000-4000-8000-123456789abc', '--out', '-', '--storage-class', 'COLD'], io)).toBe(2);
    expect(stderr()).toMatch(/^ctlake: error: --storage-class must be one of STANDARD, .*, not 'COLD'\n$/);
    expect(stdout()).toBe('');
  });
});

describe('--request-deadline', () => {
  let emulator: Emulator;
  let env: Record<string, string>;
  beforeAll(async () => {
    emulator = await withEmulator();
    env = emulatorEnv(emulator);
  });
  afterEach(() => emulator.setFaults({}));
  afterAll(() => emulator.close());

  it.each([['0s'], ['2d'], ['soon']])('refuses %s with exit 2', async (value) => {
    const { io, stderr } = captureIO(env);
    expect(await main(['export', '--query-id', '0a1b2c3d-0000-4000-8000-123456789abc', '--out', '-', '--request-deadline', value], io)).toBe(2);
    expect(stderr()).toMatch(value === 'soon' ? /^ctlake: error: --request-deadline must be a duration such as 90s/ : new RegExp(`^ctlake: error: --request-deadline must be from 1ms to 1d, not "${value}"\\n$`));
  });

  it('ends a trickling answer at the deadline and retries it: the export completes (built CLI)', async () => {
    const queryId = emulator.addQuery({ rows: sampleRows(15) });
    // The second GetQueryResults trickles 2 bytes every 50 ms: never idle, never done; its retry is not trickled.
    emulator.setFaults({ trickleEvery: 2, trickleBytes: 2, trickleMs: 50, operations: ['GetQueryResults'] });
    const before = emulator.requests.length;
    const result = await runCli(['export', '--query-id', queryId, '--out', '-', '--page-size', '10', '--request-deadline', '300ms'], env);
    expect(result.status).toBe(0);
    expect(parseNdjson(result.stdout)).toHaveLength(15);
    expect(result.stderr).toMatch(/^ctlake: GetQueryResults: TimeoutError; retry 1 of \d+$/m);
    expect(emulator.requests.slice(before).filter((r) => r.fault === 'trickle')).toHaveLength(1);
  });
});
