import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIO } from '../support/lake.js';

/** Runs `ctlake emulator ...args` until it is ready, then stops it; its exit code and output. */
async function runUntilReady(args: string[]) {
  const controller = new AbortController();
  const { io, stdout, stderr } = captureIO({}, { signal: controller.signal });
  const running = main(['emulator', '--log-format', 'json', ...args], io);
  const stopper = setInterval(() => {
    if (stderr().includes('emulator-ready')) controller.abort();
  }, 10);
  try {
    return { code: await running, stdout: stdout(), stderr: stderr() };
  } finally {
    clearInterval(stopper);
  }
}

describe('ctlake emulator --store-type', () => {
  it('serves an integration event data store of generated events', async () => {
    const { code, stdout, stderr } = await runUntilReady(['--store-type', 'integration-events', '--sample', '7']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^endpoint {8}http:\/\/127\.0\.0\.1:\d+\neventDataStore {2}arn:\S+\nstoreType {7}integration-events\nevents {10}7\n$/);
    expect(JSON.parse(stderr.split('\n')[0]!)).toMatchObject({ event: 'emulator-ready', storeType: 'integration-events', events: 7 });
  });

  it('starts an empty store of a type without samples, and refuses --sample for it or an unknown type', async () => {
    const empty = await runUntilReady(['--store-type', 'config-configuration-items']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/\nstoreType {7}config-configuration-items\nevents {10}0\n$/);

    const sample = captureIO({});
    expect(await main(['emulator', '--store-type', 'cloudtrail-insights', '--sample', '3'], sample.io)).toBe(2);
    expect(sample.stderr()).toBe('ctlake: error: --sample: there are no sample events for --store-type cloudtrail-insights; give its records with --events\n');

    const bad = captureIO({});
    expect(await main(['emulator', '--store-type', 'lake'], bad.io)).toBe(2);
    expect(bad.stderr()).toMatch(/^ctlake: error: --store-type must be cloudtrail-events, cloudtrail-insights, .*, not 'lake'\n$/);
  });
});
