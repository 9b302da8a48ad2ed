import { once } from 'node:events';
import { startEmulator } from '../emulator/server.js';
import { duration, fraction, integer, parse } from './args.js';
import { EXIT } from './exit-codes.js';
import { EMULATOR_HELP } from './help.js';
import type { CliIO } from './cli-io.js';

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  events: { type: 'string', multiple: true },
  sample: { type: 'string' },
  seed: { type: 'string' },
  region: { type: 'string' },
  'queued-time': { type: 'string' },
  'running-time': { type: 'string' },
  'max-run-time': { type: 'string' },
  retention: { type: 'string' },
  'throttle-rate': { type: 'string' },
  'error-rate': { type: 'string' },
  'reset-rate': { type: 'string' },
  latency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `ctlake emulator`: a local CloudTrail Lake on 127.0.0.1 until SIGINT or
 * SIGTERM, which stop it normally (exit 0). Prints its endpoint and event
 * data store ARN on stdout, so that a script can read them.
 */
export async function emulatorCommand(args: string[], io: CliIO, say: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, 'emulator', true);
  if (values.help) {
    io.stdout.write(EMULATOR_HELP);
    return EXIT.OK;
  }
  const opt = <T>(text: string | undefined, read: (text: string) => T): T | undefined => (text === undefined ? undefined : read(text));
  const events = [...(values.events ?? []), ...positionals];
  const emulator = await startEmulator({
    port: opt(values.port, (t) => integer(t, '--port', 0, 65535)) ?? 0,
    region: values.region ?? 'us-east-1',
    sample: opt(values.sample, (t) => integer(t, '--sample', 0, 100_000_000)) ?? (events.length ? 0 : 1000),
    seed: opt(values.seed, (t) => integer(t, '--seed', 0, 2 ** 32 - 1)),
    events,
    queuedMs: opt(values['queued-time'], (t) => duration(t, '--queued-time')),
    runningMs: opt(values['running-time'], (t) => duration(t, '--running-time')),
    maxRunMs: opt(values['max-run-time'], (t) => duration(t, '--max-run-time')),
    retentionMs: opt(values.retention, (t) => duration(t, '--retention')),
    faults: {
      throttleRate: opt(values['throttle-rate'], (t) => fraction(t, '--throttle-rate')),
      serverErrorRate: opt(values['error-rate'], (t) => fraction(t, '--error-rate')),
      resetRate: opt(values['reset-rate'], (t) => fraction(t, '--reset-rate')),
      latencyMs: opt(values.latency, (t) => duration(t, '--latency')),
    },
  });
  io.stdout.write(`endpoint        ${emulator.url}\neventDataStore  ${emulator.eventDataStoreArn}\nevents          ${emulator.eventCount}\n`);
  say(`emulator ready; point a client at it with AWS_ENDPOINT_URL_CLOUDTRAIL=${emulator.url} (any credentials); Ctrl-C stops it`);
  if (io.signal && !io.signal.aborted) await once(io.signal, 'abort');
  await emulator.close();
  say('emulator stopped');
  return EXIT.OK;
}
