import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelQueryCommand, DescribeQueryCommand, ListPublicKeysCommand, StartQueryCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { parseDeliveryUri } from '../../src/emulator/delivery.js';
import { emulatorClient } from '../support/lake.js';
import { S3_CREDENTIALS, startS3, type TestS3 } from '../support/s3.js';
import { pause, runDelivered } from './delivery-support.js';

describe('delivery: refusals, failures and queries that deliver nothing', () => {
  let s3: TestS3 | undefined;
  let emulator: Emulator | undefined;
  let client: CloudTrailClient | undefined;
  afterEach(async () => {
    client?.destroy();
    await emulator?.close();
    await s3?.close();
    s3 = emulator = client = undefined;
  });
  async function start(options: EmulatorOptions = {}, withS3 = true) {
    if (withS3) s3 = await startS3('lake');
    emulator = await startEmulator({ sample: 50, ...(s3 ? { s3EndpointUrl: s3.url, s3Credentials: S3_CREDENTIALS } : {}), ...options });
    client = emulatorClient(emulator);
    return { emulator, client, sql: `SELECT eventName, eventTime FROM ${emulator.eventDataStoreId}` };
  }
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: Error) => e);

  it('refuses DeliveryS3Uri without an S3 endpoint, saying how to start the emulator', async () => {
    const { client, sql } = await start({}, false);
    const error = await failure(client.send(new StartQueryCommand({ QueryStatement: sql, DeliveryS3Uri: 's3://lake/x' })));
    expect(error?.name).toBe('UnsupportedOperationException');
    expect(error?.message).toMatch(/--s3-endpoint-url/);
  });

  it('checks the URI as the service does: bucket names, prefixes, the scheme', async () => {
    const { client, sql } = await start();
    const refused = async (uri: string) => (await failure(client.send(new StartQueryCommand({ QueryStatement: sql, DeliveryS3Uri: uri }))))?.name;
    expect(await refused('s3://Upper-Case/x')).toBe('InvalidS3BucketNameException');
    expect(await refused('s3://ab')).toBe('InvalidS3BucketNameException');
    expect(await refused('s3://a..b/x')).toBe('InvalidS3BucketNameException');
    expect(await refused('s3://192.168.0.1/x')).toBe('InvalidS3BucketNameException');
    expect(await refused('s3://lake//x')).toBe('InvalidS3PrefixException');
    expect(await refused('s3://lake/a/../b')).toBe('InvalidS3PrefixException');
    expect(await refused('s3://lake/a\tb')).toBe('InvalidS3PrefixException');
    expect(await refused('https://lake/x')).toBe('InvalidParameterException');
    expect(parseDeliveryUri('s3://lake')).toEqual({ bucket: 'lake', prefix: '' });
    expect(parseDeliveryUri('s3://my.lake-1/a/b/')).toEqual({ bucket: 'my.lake-1', prefix: 'a/b' });
  });

  it('ends RESOURCE_NOT_FOUND for a bucket that does not exist, writing nothing', async () => {
    const { client, sql } = await start();
    const { seen } = await runDelivered(client, sql, 's3://no-such-bucket/x');
    expect(seen.at(-1)).toMatchObject({ QueryStatus: 'FINISHED', DeliveryStatus: 'RESOURCE_NOT_FOUND' });
  });

  it('ends ACCESS_DENIED when S3 refuses the credentials, writing nothing', async () => {
    const { client, sql } = await start({ s3Credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'wrong' } });
    const { seen } = await runDelivered(client, sql, 's3://lake/denied');
    expect(seen.at(-1)?.DeliveryStatus).toBe('ACCESS_DENIED');
    expect(await s3!.keys('denied/')).toEqual([]);
  });

  it('ends FAILED_SIGNING_FILE when only the sign file cannot be written: the results are there, unsigned', async () => {
    const { client, sql } = await start();
    s3!.failWhen((request) => request.url.includes('result_sign.json'));
    const { seen } = await runDelivered(client, sql, 's3://lake/unsigned');
    expect(seen.at(-1)?.DeliveryStatus).toBe('FAILED_SIGNING_FILE');
    const names = (await s3!.keys('unsigned/')).map((k) => k.slice(k.lastIndexOf('/') + 1));
    expect(names).toEqual(['result_1.csv.gz']);
  });

  it('ends FAILED when S3 fails the result files', async () => {
    const { client, sql } = await start();
    s3!.failWhen((request) => request.method === 'PUT');
    const { seen } = await runDelivered(client, sql, 's3://lake/broken');
    expect(seen.at(-1)?.DeliveryStatus).toBe('FAILED');
  });

  it('forces each failure with the deliveryFailure fault', async () => {
    const { emulator, client, sql } = await start();
    emulator.setFaults({ deliveryFailure: 'ACCESS_DENIED' });
    expect((await runDelivered(client, sql, 's3://lake/forced-1')).seen.at(-1)?.DeliveryStatus).toBe('ACCESS_DENIED');
    expect(await s3!.keys('forced-1/')).toEqual([]);
    emulator.setFaults({ deliveryFailure: 'FAILED_SIGNING_FILE' });
    expect((await runDelivered(client, sql, 's3://lake/forced-2')).seen.at(-1)?.DeliveryStatus).toBe('FAILED_SIGNING_FILE');
    expect((await s3!.keys('forced-2/')).map((k) => k.slice(k.lastIndexOf('/') + 1))).toEqual(['result_1.csv.gz']);
    emulator.setFaults({});
    expect((await runDelivered(client, sql, 's3://lake/forced-3')).seen.at(-1)?.DeliveryStatus).toBe('SUCCESS');
  });

  it('delivers nothing for a query that is cancelled or times out: DeliveryStatus CANCELLED', async () => {
    const { client, sql } = await start({ runningMs: 5000, maxRunMs: 300 });
    const { QueryId: cancelled } = await client.send(new StartQueryCommand({ QueryStatement: sql, DeliveryS3Uri: 's3://lake/cancelled' }));
    await client.send(new CancelQueryCommand({ QueryId: cancelled }));
    expect(await client.send(new DescribeQueryCommand({ QueryId: cancelled }))).toMatchObject({ QueryStatus: 'CANCELLED', DeliveryStatus: 'CANCELLED', DeliveryS3Uri: 's3://lake/cancelled' });
    const { queryId: timedOut, seen } = await runDelivered(client, sql, 's3://lake/timed-out');
    expect(seen.at(-1)).toMatchObject({ QueryId: timedOut, QueryStatus: 'TIMED_OUT', DeliveryStatus: 'CANCELLED' });
    await pause(200);
    expect(await s3!.keys()).toEqual([]);
  });

  it('reports FAILED for a query that fails, and nothing for a query without DeliveryS3Uri', async () => {
    const { emulator, client } = await start();
    const { seen } = await runDelivered(client, `SELECT CAST(eventName AS INTEGER) FROM ${emulator.eventDataStoreId}`, 's3://lake/failed');
    expect(seen.at(-1)).toMatchObject({ QueryStatus: 'FAILED', DeliveryStatus: 'FAILED' });
    const { QueryId } = await client.send(new StartQueryCommand({ QueryStatement: `SELECT 1 FROM ${emulator.eventDataStoreId}` }));
    const plain = await client.send(new DescribeQueryCommand({ QueryId }));
    expect(plain.DeliveryS3Uri).toBeUndefined();
    expect(plain.DeliveryStatus).toBeUndefined();
  });

  it('closes at once with a delivery still waiting, writing nothing', async () => {
    const { client: lake, sql } = await start({ deliveryDelayMs: 600_000 });
    const { QueryId } = await lake.send(new StartQueryCommand({ QueryStatement: sql, DeliveryS3Uri: 's3://lake/late' }));
    let d;
    do d = await lake.send(new DescribeQueryCommand({ QueryId }));
    while (d.QueryStatus !== 'FINISHED');
    expect(d.DeliveryStatus).toBe('PENDING');
    lake.destroy();
    await emulator!.close(); // the test's timeout fails it if the wait is not cut short
    emulator = client = undefined; // closed here, not again in afterEach
    expect(await s3!.keys('late/')).toEqual([]);
  });

  it('signs with a given PEM key, so two emulators publish the same fingerprint', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const { client } = await start({ signingKey: pem }, false);
    const other = await startEmulator({ signingKey: pem });
    const otherClient = emulatorClient(other);
    try {
      const [a, b] = await Promise.all([client.send(new ListPublicKeysCommand({})), otherClient.send(new ListPublicKeysCommand({}))]);
      expect(a.PublicKeyList?.[0]?.Fingerprint).toBe(b.PublicKeyList?.[0]?.Fingerprint);
      expect(Buffer.from(a.PublicKeyList![0]!.Value!)).toEqual(Buffer.from(b.PublicKeyList![0]!.Value!));
    } finally {
      otherClient.destroy();
      await other.close();
    }
    await expect(startEmulator({ signingKey: 'not a key' })).rejects.toThrow(/signingKey/);
  });

  it('lists the key for ranges that overlap the emulator\'s life only, and counts ListPublicKeys as a read', async () => {
    const { emulator, client } = await start({ tpsRead: 2 }, false);
    const long = new Date('2001-01-01T00:00:00Z');
    expect((await client.send(new ListPublicKeysCommand({ StartTime: long, EndTime: new Date('2001-02-01T00:00:00Z') }))).PublicKeyList).toEqual([]);
    expect((await failure(client.send(new ListPublicKeysCommand({ StartTime: new Date(), EndTime: long }))))?.name).toBe('InvalidTimeRangeException');
    expect((await failure(client.send(new ListPublicKeysCommand({}))))?.name).toBe('ThrottlingException');
    // The write bucket is another: StartQuery still passes.
    expect((await client.send(new StartQueryCommand({ QueryStatement: `SELECT 1 FROM ${emulator.eventDataStoreId}` }))).QueryId).toBeTypeOf('string');
    expect(emulator.stats().throttled.ListPublicKeys).toBe(1);
  });
});
