#!/usr/bin/env node
import { main, reportError, type CliIO } from './main.js';
import { EXIT } from './exit-codes.js';
import { tuneHeapGrowth } from './heap-growth.js';

// The only place that touches the process: signals, environment and exit.
// The SDK warns on every run under Node 20 about its releases of 2027; the
// versions pinned here support Node 20, so the warning is noise on stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A heap that stops growing with the run (see heap-growth.ts): before any command's work. Not for
// `ctlake emulator`, whose heap is mostly live (the events and the results it keeps), the opposite case.
tuneHeapGrowth(process.execArgv, process.argv[2]);

// A failed write to stdout reaches the export through the write's callback
// (src/destinations/stdout.ts): EPIPE from a reader that went away
// (`| head -1`) ends it quietly with exit 0; anything else (ENOSPC on a full
// disk or /dev/full, EIO) with one error line and exit 1. Node also emits the
// error on process.stdout; this listener keeps that event from crashing the
// process with a stack trace before the export reports it.
process.stdout.on('error', () => undefined);

const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals) => {
  interrupts++;
  if (interrupts > 1) process.exit(EXIT.INTERRUPTED); // a second Ctrl-C exits at once
  // Aborted first: the live progress erases itself on the abort, so the line stands on a clean screen.
  controller.abort(new Error(signal));
  process.stderr.write(`\nctlake: ${signal}: stopping; press Ctrl-C again to exit at once\n`);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const io: CliIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
  stdin: process.stdin,
  stderrIsTTY: process.stderr.isTTY === true,
};

// An error that escapes every command (thrown from an event handler, say)
// ends the run as any other does: one masked line, exit 1, not Node's stack
// trace, which would print its message raw.
process.on('uncaughtException', (error) => {
  reportError(error, EXIT.FAILURE, process.argv.slice(2), io);
  process.exit(EXIT.FAILURE);
});

process.exit(await main(process.argv.slice(2), io));
