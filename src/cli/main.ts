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
import type { CliIO } from './cli-io.js';

export type { CliIO };


/** Runs one `ctlake` command and resolves with its exit code. Never throws; never exits. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const say = (line: string) => io.stderr.write(`ctlake: ${line}\n`);
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
    const code = exitCodeFor(error);
    if (code !== EXIT.OK) {
      if (logFormat(argv, io) === 'json') {
        const fields = error instanceof CtlakeError ? { code: error.code, queryId: error.queryId, column: error.column, status: error.status } : {};
        io.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'error', message: oneLine(error), exitCode: code, ...fields }) + '\n');
      } else say(`error: ${oneLine(error)}`);
    }
    if (io.env.CTLAKE_DEBUG && error instanceof Error) io.stderr.write(`${error.stack ?? ''}\n`);
    return code;
  }
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
