import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListPublicKeysCommand } from '@aws-sdk/client-cloudtrail';
import { main } from '../../src/cli/main.js';
import { captureIO } from '../support/lake.js';
import { whileRunning } from '../support/emulator-cli.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { runDelivered } from './delivery-support.js';

describe('ctlake emulator: the flags of delivery to S3', () => {
  let s3: TestS3;
  let keyFile: string;
  let der: Buffer;
  beforeAll(async () => {
    s3 = await startS3('lake');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'ctlake-key-')), 'signing.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    der = createPublicKey(privateKey).export({ type: 'pkcs1', format: 'der' });
  });
  afterAll(async () => {
    await s3?.close();
  });

  it('delivers to --s3-endpoint-url with the SDK credentials of the environment, split by --delivery-file-rows, signed with --signing-key', async () => {
    const args = ['--sample', '100', '--s3-endpoint-url', s3.url, '--delivery-file-rows', '40', '--delivery-delay', '10ms', '--signing-key', keyFile];
    const code = await whileRunning(args, async (client, eds) => {
      const { queryId, seen } = await runDelivered(client, `SELECT eventID FROM ${eds}`, 's3://lake/cli');
      expect(seen.at(-1)?.DeliveryStatus).toBe('SUCCESS');
      const names = (await s3.keys('cli/')).filter((k) => k.includes(queryId)).map((k) => k.slice(k.lastIndexOf('/') + 1));
      expect(names).toEqual(['result_1.csv.gz', 'result_2.csv.gz', 'result_3.csv.gz', 'result_sign.json']);
      const sign = JSON.parse((await s3.get((await s3.keys('cli/')).find((k) => k.endsWith('result_sign.json'))!)).toString('utf8')) as { publicKeyFingerprint: string };
      const { PublicKeyList } = await client.send(new ListPublicKeysCommand({}));
      expect(Buffer.from(PublicKeyList![0]!.Value!)).toEqual(der);
      expect(sign.publicKeyFingerprint).toBe(createHash('md5').update(der).digest('hex'));
    });
    expect(code).toBe(0);
  });

  it('forces a DeliveryStatus with --delivery-failure', async () => {
    const code = await whileRunning(['--sample', '20', '--s3-endpoint-url', s3.url, '--delivery-failure', 'ACCESS_DENIED'], async (client, eds) => {
      expect((await runDelivered(client, `SELECT eventID FROM ${eds}`, 's3://lake/forced')).seen.at(-1)?.DeliveryStatus).toBe('ACCESS_DENIED');
      expect(await s3.keys('forced/')).toEqual([]);
    });
    expect(code).toBe(0);
  });

  it.each([
    [['--s3-endpoint-url', 'ftp://127.0.0.1:21'], /--s3-endpoint-url must be an http/],
    [['--delivery-failure', 'NOPE'], /--delivery-failure must be/],
    [['--delivery-file-rows', '0'], /--delivery-file-rows must be/],
    [['--signing-key', '/nonexistent/key.pem'], /--signing-key: cannot read/],
  ])('refuses %j with exit 2', async (args, message) => {
    const { io, stderr } = captureIO({});
    expect(await main(['emulator', '--sample', '0', ...args], io)).toBe(2);
    expect(stderr()).toMatch(message);
  });
});
