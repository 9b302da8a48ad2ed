import { version } from '../version.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { MAIN_HELP } from './help.js';
import { exportCommand } from './export-command.js';
import { CtlakeError } from '../errors.js';
import { logFormat, usage } from './args.js';
import { emulatorCommand } from './emulator-command.js';
import { cancelCommand, describeCommand, listCommand } from './query-commands.js';
import { verifyCommand } from './verify-command.js';
import { backfillCommand } from './job-commands.js';
import { jsonLine, logText } from './terminal-text.js';
import type { CliIO } from './cli-io.js';

export type { CliIO };


/**
 * Runs one `ctlake` command and resolves with its exit code. Never throws;
 * never exits. Every line it writes on stderr, the error line above all, is
 * one line of at most MESSAGE_LIMIT characters of message, with its
 * credentials masked (maskSecrets; in the error line, the `say` lines and
 * the CTLAKE_DEBUG stack, also the values of the environment's secret keys)
 * and, as text, its control characters escaped: whatever the service, the
 * data or the flags put in the message.
 */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const hide = hider(io.env);
  const say = (line: string) => io.stderr.write(`ctlake: ${logText(hide(line))}\n`);
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(MAIN_HELP);
        return command === undefined ? EXIT.USAGE : EXIT.OK;
      case '-V':
      case '--version':
        io.stdout.write(`${version()}\n`);
        return EXIT.OK;
      case 'export':
        return await exportCommand(rest, io, say);
      case 'emulator':
        return await emulatorCommand(rest, io, say);
      case 'list':
        return await listCommand(rest, io, say);
      case 'describe':
        return await describeCommand(rest, io, say);
      case 'cancel':
        return await cancelCommand(rest, io, say);
      case 'backfill':
        return await backfillCommand(rest, io);
      case 'verify':
        return await verifyCommand(rest, io);
      default:
        throw usage(`unknown command '${command}'; run ctlake --help for the commands`);
    }
  } catch (error) {
    const code = exitCodeFor(error, { signalled: io.signal?.aborted === true });
    if (code !== EXIT.OK) reportError(error, code, argv, io);
    else if (io.env.CTLAKE_DEBUG && error instanceof Error) io.stderr.write(debugTrace(error, hider(io.env)));
    return code;
  }
}

/**
 * Writes the one error line for `error` (text or JSON, as `argv` and `io`
 * choose), masked, escaped and cut as every line is, and with CTLAKE_DEBUG
 * its stack. main() calls it for every error; the runner for an error that
 * escaped every command (an uncaught exception), so that even that one is
 * no raw stack trace.
 */
export function reportError(error: unknown, exitCode: number, argv: string[], io: CliIO): void {
  const hide = hider(io.env);
  const message = hide(error instanceof Error ? error.message : String(error));
  if (logFormat(argv, io) === 'json') {
    const fields = error instanceof CtlakeError ? { code: error.code, queryId: error.queryId, column: error.column, status: error.status } : {};
    io.stderr.write(jsonLine({ time: new Date().toISOString(), level: 'error', event: 'error', message, exitCode, ...fields }) + '\n');
  } else io.stderr.write(`ctlake: error: ${logText(message)}\n`);
  if (io.env.CTLAKE_DEBUG && error instanceof Error) io.stderr.write(debugTrace(error, hide));
}

/** Environment variables whose values are credentials: never printed, even should a message carry one. */
const SECRET_ENV = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'] as const;

/** Replaces the values of the environment's secret keys in a text by `***`. */
function hider(env: CliIO['env']): (text: string) => string {
  const secrets = SECRET_ENV.map((name) => env[name]).filter((value): value is string => value !== undefined && value.length >= 8);
  return (text) => secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}

/**
 * CTLAKE_DEBUG's stack trace of an error and its causes: each line passed
 * through the same masking, escaping and cutting as the error line, so that
 * debugging output echoes no credential either. At most 10 causes deep.
 */
function debugTrace(error: Error, hide: (text: string) => string): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth <= 10; depth++, current = current.cause) {
    const stack = current.stack ?? `${current.name}: ${current.message}`;
    // The message part of the stack is the error's message, which may span lines: print it as one.
    const frames = stack.split('\n').filter((line) => /^\s+at /.test(line));
    lines.push(`${depth === 0 ? '' : 'caused by: '}${logText(hide(`${current.name}: ${current.message}`))}`);
    for (const frame of frames) lines.push(`    ${logText(hide(frame.trim()))}`);
  }
  return lines.join('\n') + '\n';
}
