import { version } from '../version.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { CtlakeError, OptionError, maskSecrets, quoted } from '../errors.js';
import { logFormat, usage } from './args.js';
import { COMMANDS, MAIN_FOOTER, findCommand, type CommandEntry } from './commands.js';
import { flagForOption, mainHelp, optionNamer, type CommandSpec } from './flag-table.js';
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
 *
 * This module loads only the registry of commands (commands.ts), the flag
 * table, the exit codes and the error printer: a command's code is imported
 * when it runs, so that `--help`, `--version` and usage errors load no SDK,
 * no Parquet writer and no emulator.
 */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const hide = hider(io.env);
  const say = (line: string) => io.stderr.write(`ctlake: ${logText(hide(line))}\n`);
  const [command, ...rest] = argv;
  let entry: CommandEntry | undefined;
  try {
    switch (command) {
      case undefined:
        // A bare `ctlake` is a usage error: its usage goes where errors go.
        io.stderr.write(mainHelp(COMMANDS, MAIN_FOOTER));
        return EXIT.USAGE;
      case '-h':
      case '--help':
        io.stdout.write(mainHelp(COMMANDS, MAIN_FOOTER));
        return EXIT.OK;
      case '-V':
      case '--version':
        io.stdout.write(`${version()}\n`);
        return EXIT.OK;
      case 'help': {
        const [topic, extra] = rest;
        if (topic === undefined) {
          io.stdout.write(mainHelp(COMMANDS, MAIN_FOOTER));
          return EXIT.OK;
        }
        if (extra !== undefined) throw usage(`ctlake help takes one command, not also '${extra}'; run ctlake --help for the commands`);
        entry = commandNamed(topic);
        return await (await entry.load())(['--help'], io, say);
      }
      default:
        entry = commandNamed(command);
        return await (await entry.load())(rest, io, say);
    }
  } catch (error) {
    const code = exitCodeFor(error, { signalled: io.signal?.aborted === true });
    if (code !== EXIT.OK) reportError(error, code, argv, io, await tableOf(entry));
    else if (io.env.CTLAKE_DEBUG && error instanceof Error) io.stderr.write(debugTrace(error, hider(io.env)));
    return code;
  }
}

function commandNamed(name: string): CommandEntry {
  const entry = findCommand(name);
  if (!entry) throw usage(`unknown command '${name}'; run ctlake --help for the commands`);
  return entry;
}

/** The flag table of the command that ran, if it has one; its module is loaded already. */
async function tableOf(entry: CommandEntry | undefined): Promise<CommandSpec | undefined> {
  try {
    return await entry?.table?.();
  } catch {
    return undefined;
  }
}

/**
 * The message of an error as the CLI user reads it, with library options
 * named by the flags that set them, from the running command's table (`spec`),
 * and no rewriting of messages: an OptionError is said again from its parts
 * under its flag (`--page-size must be a whole number from 1 to 1000, not
 * '0'`), or as the library said it when no flag sets the option; a
 * CtlakeError whose message names options (a template) is rendered with the
 * flags (`describe`), else `--` and the option in kebab-case.
 */
export function errorMessage(error: unknown, spec?: CommandSpec): string {
  if (error instanceof OptionError) {
    const flag = spec && flagForOption(spec, error.option);
    return flag ? `${flag} must be ${error.expected}, not ${shownValue(error.value)}` : error.message;
  }
  if (error instanceof CtlakeError) return error.describe(optionNamer(spec));
  return error instanceof Error ? error.message : String(error);
}

/**
 * A flag's value in a message as the CLI's own checks quote it (`'nope'`),
 * when it is plain text (a long one is cut with the whole line, as theirs
 * are); else JSON-quoted, escaped, masked and cut (quoted()).
 */
function shownValue(value: unknown): string {
  if (typeof value === 'string' && /^[\x20-\x7e]*$/.test(value) && !value.includes("'") && maskSecrets(value) === value) return `'${value}'`;
  return quoted(value);
}

/**
 * Writes the one error line for `error` (text or JSON, as `argv` and `io`
 * choose), masked, escaped and cut as every line is, and with CTLAKE_DEBUG
 * its stack. main() calls it for every error; the runner for an error that
 * escaped every command (an uncaught exception), so that even that one is
 * no raw stack trace. `spec` is the flag table of the command that ran, for
 * naming options by their flags (errorMessage).
 */
export function reportError(error: unknown, exitCode: number, argv: string[], io: CliIO, spec?: CommandSpec): void {
  const hide = hider(io.env);
  const message = hide(errorMessage(error, spec));
  if (logFormat(argv, io) === 'json') {
    const option = error instanceof CtlakeError || error instanceof OptionError ? error.option : undefined;
    const fields = {
      ...(error instanceof CtlakeError ? { code: error.code, queryId: error.queryId, column: error.column, status: error.status } : {}),
      ...(option === undefined ? {} : { option, flag: spec && flagForOption(spec, option) }),
    };
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
