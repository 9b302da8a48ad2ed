import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { main } from '../src/cli/main.js';
import { Log } from '../src/cli/progress.js';
import { exitCodeFor } from '../src/cli/exit-codes.js';
import { CtlakeError, maskSecrets, quoted, type CtlakeErrorCode } from '../src/errors.js';
import { FIELD_LIMIT, MESSAGE_LIMIT } from '../src/cli/terminal-text.js';
import { runShell } from './support/cli-process.js';
import { fakeEndpoint, json, type FakeEndpoint } from './support/fake-endpoint.js';
import { captureIO, emulatorEnv, QUERY_ID, sampleRows, withEmulator } from './support/lake.js';

/**
 * Hostile input, class "messages and secrets": whatever the service, the
 * data, the flags or the environment put into a message, every line ctlake
 * writes on stderr is one line, at most MESSAGE_LIMIT characters of message
 * (cut with its length said), with no control character raw in text logs,
 * and with no credential in it, text or JSON, error, warning, retry or
 * CTLAKE_DEBUG stack. Driven through the real CLI (in-process `main`, the
 * built `ctlake` as a process, and under a real pseudo-terminal) against
 * the emulator or a misbehaving HTTP endpoint.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ESC = '\u001b';
/** Every raw control character a terminal could act on: C0 but none, DEL, C1. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Every line of stderr; the text must end with a newline. */
function linesOf(text: string): string[] {
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

async function inProcess(argv: string[], env: Record<string, string>, extra: Parameters<typeof captureIO>[1] = {}): Promise<Run> {
  const { io, stdout, stderr } = captureIO(env, extra);
  const code = await main(argv, io);
  return { code, stdout: stdout(), stderr: stderr() };
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** The built `ctlake` as a process, stderr a pipe. */
async function asProcess(args: string[], env: Record<string, string>): Promise<Run> {
  const { status, stdout, stderr } = await runShell(`eval "$CTLAKE" ${args.map((a) => quote(quote(a))).join(' ')}`, env);
  return { code: status, stdout, stderr };
}

/** The built `ctlake` with stdout and stderr on a real pseudo-terminal (util-linux `script`); what the terminal received. */
async function onTerminal(args: string[], env: Record<string, string>): Promise<{ code: number | null; terminal: string }> {
  const line = `eval "$CTLAKE" ${args.map((a) => quote(quote(a))).join(' ')}`;
  const { status, stdout } = await runShell(`script -qfec ${quote(line)} /dev/null </dev/null`, env);
  return { code: status, terminal: stdout };
}

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** An HTTP endpoint that answers every CloudTrail call with the same error. */
function failingEndpoint(status: number, body: unknown): Promise<FakeEndpoint> {
  return fakeEndpoint(() => json(body, status));
}

const FAILED_ID = '0a1b2c3d-0000-4000-8000-00000000fa11';
const HUGE_ID = '0a1b2c3d-0000-4000-8000-0000000b1600';
const EVIL_COLUMN = `evil${ESC}]0;pwned\u0007${ESC}[2J\nctlake: forged line`;
/** A service ErrorMessage that clears the screen, recolours, forges a second line and reorders text. */
const EVIL_MESSAGE = `Query failed${ESC}[2J${ESC}[31m\nctlake: error: forged\r\u202eoverride\u2028\u009b2J`;

describe('hostile input: messages and secrets', () => {
  let emulator: Emulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await withEmulator({
      queries: [
        { queryId: QUERY_ID, rows: [[{ [EVIL_COLUMN]: `not a number${ESC}[2J` }]] },
        { queryId: FAILED_ID, rows: [], final: 'FAILED', errorMessage: EVIL_MESSAGE },
        { queryId: HUGE_ID, rows: [], final: 'FAILED', errorMessage: `partition value ${'x'.repeat(10 * 1024 * 1024)} is too long` },
      ],
    });
    env = emulatorEnv(emulator);
  });
  afterAll(() => emulator.close());

  describe('an error line is one line and bounded in length', () => {
    it('cuts a 10 MiB service ErrorMessage to MESSAGE_LIMIT characters, saying its length (text, exit 3)', async () => {
      const run = await inProcess(['export', '--query-id', HUGE_ID, '--out', '-', '--log-format', 'text'], env);
      expect(run.code).toBe(3);
      const [line, ...more] = linesOf(run.stderr);
      expect(more).toEqual([]);
      expect(line).toMatch(/^ctlake: error: .*partition value x+\.\.\. \(\d+ characters\)$/);
      expect(line!.length - 'ctlake: error: '.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
      const said = Number(/\((\d+) characters\)$/.exec(line!)![1]);
      expect(said).toBeGreaterThan(10 * 1024 * 1024);
    });

    it('cuts it in a JSON log line too, and cuts a data column name in the error fields to FIELD_LIMIT', async () => {
      const run = await inProcess(['export', '--query-id', HUGE_ID, '--out', '-', '--log-format', 'json'], env);
      expect(run.code).toBe(3);
      const [line, ...more] = linesOf(run.stderr);
      expect(more).toEqual([]);
      const record = JSON.parse(line!) as { message: string; code: string; exitCode: number };
      expect(record).toMatchObject({ level: 'error', code: 'QUERY_FAILED', exitCode: 3 });
      expect(record.message.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
      expect(record.message).toMatch(/\.\.\. \(\d+ characters\)$/);
      expect(line!.length).toBeLessThan(MESSAGE_LIMIT + 500);

      const long = `c${'o'.repeat(200_000)}l`;
      const queryId = emulator.addQuery({ rows: [[{ [long]: 'not a number' }]] });
      const invalid = await inProcess(['export', '--query-id', queryId, '--out', '-', '--types', 'typed', '--column', `${long}:int64`, '--log-format', 'json'], env);
      expect(invalid.code).toBe(1);
      const [error, ...rest] = linesOf(invalid.stderr).filter((l) => l.includes('"level":"error"'));
      expect(rest).toEqual([]);
      const fields = JSON.parse(error!) as { code: string; message: string; column: string };
      expect(fields.code).toBe('VALUE_INVALID');
      expect(fields.message.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
      expect(fields.column.length).toBeLessThanOrEqual(FIELD_LIMIT);
      expect(fields.column).toMatch(/^coooo+\.\.\. \(200002 characters\)$/);
    });

    it('cuts a 100 KiB flag value echoed in a usage error (exit 2), as a process', async () => {
      const run = await asProcess(['export', '--query-id', 'q'.repeat(100 * 1024), '--out', '-', '--log-format', 'text'], env);
      expect(run.code).toBe(2);
      const [line, ...more] = linesOf(run.stderr);
      expect(more).toEqual([]);
      expect(line!.length).toBeLessThanOrEqual('ctlake: error: '.length + MESSAGE_LIMIT);
      expect(line).toMatch(/q\.\.\. \(\d+ characters\)$/);
    });
  });

  describe('text from the service or the data has its control characters escaped', () => {
    it.runIf(hasScript)('prints a FAILED query ErrorMessage with ESC sequences and newlines as one escaped line on a real terminal (exit 3)', async () => {
      const { CTLAKE_LOG_FORMAT: _, ...terminalEnv } = env; // text, as a terminal chooses by itself
      const { code, terminal } = await onTerminal(['export', '--query-id', FAILED_ID, '--out', '-'], terminalEnv);
      expect(code).toBe(3);
      expect(terminal).not.toContain(ESC);
      expect(terminal).not.toMatch(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/); // \r\n ends the terminal's lines
      expect(terminal).not.toContain('\u202e');
      const lines = terminal.split('\r\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^ctlake: error: .*Query failed\\x1b\[2J\\x1b\[31m ctlake: error: forged\\r\\u202eoverride\\u2028\\x9b2J/);
    });

    it('escapes a data column name in a VALUE_INVALID error, in-process as on a terminal (exit 1)', async () => {
      const run = await inProcess(['export', '--query-id', QUERY_ID, '--out', '-', '--types', 'typed', '--column', `${EVIL_COLUMN}:int64`], env, { stderrIsTTY: true });
      expect(run.code).toBe(1);
      // On a terminal the live progress line is drawn and cleared with \r ESC[K: the only control characters allowed.
      const cleared = run.stderr.split('\r\u001b[K');
      expect(cleared.join('')).not.toContain(ESC);
      expect(cleared.join('')).not.toMatch(RAW_CONTROL);
      const [line, ...more] = linesOf(cleared.at(-1)!);
      expect(more).toEqual([]);
      // The column name comes from the data, so the message quotes it (JSON escapes), and the line is escaped again for the terminal.
      expect(line).toMatch(/^ctlake: error: column "evil\\u001b\]0;pwned\\u0007\\u001b\[2J\\nctlake: forged line", row 1: /);
    });

    it('escapes an error name a hostile endpoint sends, in the retry lines and in the error line (exit 1)', async () => {
      const endpoint = await failingEndpoint(500, { __type: `Evil${ESC}[2JName`, message: `boom${ESC}[31m` });
      try {
        const run = await inProcess(['export', '--query-id', QUERY_ID, '--out', '-', '--endpoint-url', endpoint.url], env);
        expect(run.code).toBe(1);
        expect(run.stderr).not.toContain(ESC);
        const lines = linesOf(run.stderr);
        expect(lines.length).toBeGreaterThan(1);
        expect(lines.slice(0, -1).every((l) => /^ctlake: DescribeQuery: Evil\\x1b\[2JName; retry \d+ of \d+$/.test(l))).toBe(true);
        expect(lines.at(-1)).toMatch(/^ctlake: error: DescribeQuery: .*Evil\\x1b\[2JName/);
      } finally {
        await endpoint.close();
      }
    });

    it('keeps JSON log lines terminal-safe and equal in meaning: C1 and bidi characters as \\u escapes', async () => {
      const run = await inProcess(['export', '--query-id', FAILED_ID, '--out', '-', '--log-format', 'json'], env);
      expect(run.code).toBe(3);
      expect(run.stderr).not.toMatch(RAW_CONTROL);
      expect(run.stderr).not.toContain('\u202e');
      const [line, ...more] = linesOf(run.stderr);
      expect(more).toEqual([]);
      expect(line).toContain('\\u009b2J');
      const { message } = JSON.parse(line!) as { message: string };
      expect(message).toContain(`Query failed${ESC}[2J${ESC}[31m ctlake: error: forged\r\u202eoverride\u2028\u009b2J`);
      expect(line).toContain('\\u2028');
    });
  });

  describe('no credential is echoed in any message', () => {
    const SECRET = 'S3CRET';

    it.each([
      ['--endpoint-url ftp://user:PASS@host', ['--endpoint-url', `ftp://user:${SECRET}@host`], {}, 2],
      ['--endpoint-url with a / in the password (an invalid URL)', ['--endpoint-url', `http://user:pa/${SECRET}@127.0.0.1:9`], {}, 2],
      ['AWS_ENDPOINT_URL_CLOUDTRAIL with userinfo', [], { AWS_ENDPOINT_URL_CLOUDTRAIL: `ftp://user:${SECRET}@host` }, 2],
      ['an --out URL that is no destination', ['--out', `http://user:${SECRET}@host/x.ndjson`], {}, 2],
    ])('masks the password of %s, text and JSON, as a process', async (_, args, extraEnv, exitCode) => {
      for (const format of ['text', 'json']) {
        const argv = ['export', '--query-id', QUERY_ID, '--out', '-', ...args, '--log-format', format];
        const run = await asProcess(argv, { ...env, ...extraEnv });
        expect(run.code).toBe(exitCode);
        expect(run.stderr).not.toContain(SECRET);
        expect(run.stderr).toContain('user:***@');
        expect(linesOf(run.stderr)).toHaveLength(1);
      }
    });

    it('masks the password of an --endpoint-url that is reached and refused (exit 1), also in the CTLAKE_DEBUG stack', async () => {
      const run = await asProcess(['export', '--query-id', QUERY_ID, '--out', '-', '--endpoint-url', `http://user:${SECRET}@127.0.0.1:9/`], { ...env, CTLAKE_DEBUG: '1' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^ctlake: error: DescribeQuery: cannot reach the CloudTrail endpoint/);
      expect(run.stderr).toMatch(/^\s+at /m); // the stack is there
      expect(run.stderr).not.toContain(SECRET);
    });

    it('masks the password of an --s3-endpoint-url that is refused, text and JSON (exit 1)', async () => {
      for (const format of ['text', 'json']) {
        const run = await inProcess(
          ['export', '--query-id', QUERY_ID, '--out', `s3://bucket/${SECRET}-not/`, '--s3-endpoint-url', `http://user:${SECRET}@127.0.0.1:1`, '--s3-force-path-style', '--log-format', format],
          { ...env, AWS_EC2_METADATA_DISABLED: 'true' },
        );
        expect(run.code).toBe(1);
        expect(run.stderr.replaceAll(`${SECRET}-not`, '')).not.toContain(SECRET);
      }
    });

    it('never prints the value of AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN, even when a service message carries it (exit 1)', async () => {
      const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
      const token = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN';
      const endpoint = await failingEndpoint(400, {
        __type: 'UnrecognizedClientException',
        message: `The security token included in the request is invalid: ${token} signed with ${secretKey}; aws_secret_access_key = other-secret-value`,
      });
      try {
        for (const format of ['text', 'json']) {
          const run = await inProcess(['export', '--query-id', QUERY_ID, '--out', '-', '--endpoint-url', endpoint.url, '--log-format', format], {
            ...env,
            AWS_SECRET_ACCESS_KEY: secretKey,
            AWS_SESSION_TOKEN: token,
            CTLAKE_DEBUG: '1',
          });
          expect(run.code).toBe(1);
          expect(run.stderr).toContain('the service refused the credentials');
          for (const secret of [secretKey, token, 'other-secret-value']) expect(run.stderr).not.toContain(secret);
        }
      } finally {
        await endpoint.close();
      }
    });

    it('masks in quoted() too, for library callers that print a message themselves, and reads a 10 MiB value only as far as it prints', () => {
      expect(quoted(`http://user:${SECRET}@host/x`)).toBe('"http://user:***@host/x"');
      expect(quoted({ endpoint: `http://user:${SECRET}@host` })).toBe('{"endpoint":"http://user:***@host"}');
      expect(quoted(`http://user:${SECRET}@${'h'.repeat(10 * 1024 * 1024)}`)).toMatch(/^"http:\/\/user:\*\*\*@h+"\.\.\. \(10485776 characters\)$/);
    });

    it.each([
      ['a password with @ in it', `http://user:p@${SECRET}@127.0.0.1:9/x`, 'http://user:***@127.0.0.1:9/x'],
      ['a user name with @ in it', `http://a@b:${SECRET}@host/`, 'http://a@b:***@host/'],
      ['a presigned URL', `https://b.s3.amazonaws.com/k?X-Amz-Security-Token=${SECRET}&X-Amz-Signature=${SECRET}&x=1`, 'https://b.s3.amazonaws.com/k?X-Amz-Security-Token=***&X-Amz-Signature=***&x=1'],
      ['a credentials file line', `aws_secret_access_key = ${SECRET}`, 'aws_secret_access_key = ***'],
      ['an environment setting', `AWS_SESSION_TOKEN=${SECRET}; next`, 'AWS_SESSION_TOKEN=***; next'],
      ['a JSON credentials object', `{"secretAccessKey":"${SECRET}"}`, '{"secretAccessKey":"***"}'],
      ['a host and port, which stay', 'http://127.0.0.1:9/x and mail a@b', 'http://127.0.0.1:9/x and mail a@b'],
    ])('maskSecrets() hides %s', (_, text, masked) => {
      expect(maskSecrets(text)).toBe(masked);
    });

    it('masks credentials in warnings and log lines, text and JSON', () => {
      for (const format of ['text', 'json'] as const) {
        const stderr = new PassThrough();
        const chunks: string[] = [];
        stderr.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
        const log = new Log(stderr, { format, quiet: false, live: true });
        log.warn(`could not look for duplicates (connect to https://user:${SECRET}@proxy:8080 failed${ESC}[2J\nforged)`);
        log.event('retry', `retrying via http://u:${SECRET}@h`, { operation: 'StartQuery', error: `https://user:${SECRET}@proxy` });
        log.stop();
        const text = chunks.join('');
        expect(text).not.toContain(SECRET);
        expect(linesOf(text)).toHaveLength(2);
        if (format === 'text') expect(text).not.toContain(ESC);
        else for (const line of linesOf(text)) JSON.parse(line);
      }
    });
  });

  describe('exit code 130 only for signals', () => {
    const documented: Array<[CtlakeErrorCode, number]> = [
      ['INVALID_OPTION', 2],
      ['INVALID_QUERY', 2],
      ['STATE_INVALID', 2],
      ['QUERY_FAILED', 3],
      ['QUERY_CANCELLED', 3],
      ['QUERY_TIMED_OUT', 3],
      ['VERIFY_FAILED', 5],
      ['LOCK_HELD', 8],
      ['DESTINATION_CLOSED', 0],
      ['QUERY_NOT_FOUND', 1],
      ['ACCESS_DENIED', 1],
      ['THROTTLED', 1],
      ['NETWORK_ERROR', 1],
      ['DESTINATION_FAILED', 1],
      ['VALUE_INVALID', 1],
      ['COUNT_MISMATCH', 1],
    ];
    it.each(documented)('maps %s to exit %i, signal or none', (code, exit) => {
      const error = new CtlakeError(code, 'x');
      expect(exitCodeFor(error, { signalled: false })).toBe(exit);
      expect(exitCodeFor(error, { signalled: true })).toBe(exit);
    });

    it('maps INTERRUPTED to 130 only when a signal stopped the run, else to 1', () => {
      const interrupted = new CtlakeError('INTERRUPTED', 'export interrupted; nothing was committed');
      expect(exitCodeFor(interrupted, { signalled: true })).toBe(130);
      expect(exitCodeFor(interrupted, { signalled: false })).toBe(1);
    });
  });
});
