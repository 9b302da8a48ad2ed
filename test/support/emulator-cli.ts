import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { main } from '../../src/cli/main.js';
import { captureIO } from './lake.js';

/** Runs `ctlake emulator ...args` in-process, hands a client and its store to `use`, then stops it. */
export async function whileRunning(args: string[], use: (client: CloudTrailClient, eds: string) => Promise<void>): Promise<number> {
  const controller = new AbortController();
  const { io, stdout } = captureIO({}, { signal: controller.signal });
  const running = main(['emulator', '--log-format', 'json', ...args], io);
  while (!/^events /m.test(stdout())) await new Promise((resolve) => setTimeout(resolve, 10));
  const endpoint = /^endpoint +(\S+)/m.exec(stdout())![1]!;
  const eds = /^eventDataStore +(\S+)/m.exec(stdout())![1]!;
  const client = new CloudTrailClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  try {
    await use(client, eds);
  } finally {
    client.destroy();
    controller.abort();
  }
  return running;
}
