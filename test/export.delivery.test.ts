import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import { startEmulator } from '../src/emulator/server.js';
import { exportQuery } from '../src/export/export-query.js';
import type { Manifest } from '../src/dataset/manifest.js';
import { isCtlakeError } from '../src/errors.js';
import { emulatorClient, emulatorEnv, FAST_RETRY } from './support/lake.js';
import { runCli } from './support/cli-process.js';
import { duckdb, query } from './support/duckdb.js';
import { S3_CREDENTIALS, startS3, testS3Client, type TestS3 } from './support/s3.js';
import { opensslPath } from './emulator/delivery-support.js';

/**
 * Lake's signed delivery end to end: the emulator delivers to the test S3
 * server and signs with its own key; ctlake starts the query with
 * DeliveryS3Uri, verifies the delivery, and either reads its rows or
 * cross-checks the pages against it. The same rows either way, value for
 * value (DuckDB reads both datasets); tampering is caught by ctlake and by
 * openssl, and leaves nothing at the destination.
 */
describe('export with Lake\'s signed delivery', () => {
  let emulator: Emulator;
  let s3: TestS3;
  let dir: string;
  let db: DuckDBConnection;
  beforeAll(async () => {
    s3 = await startS3('lake');
    emulator = await startEmulator({ sample: 1500, s3EndpointUrl: s3.url, s3Credentials: S3_CREDENTIALS, deliveryFileRows: 400 });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-delivery-'));
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  const sql = () => `SELECT eventID, eventTime, eventName, awsRegion, userIdentity, requestParameters FROM ${emulator.eventDataStoreId} ORDER BY eventTime, eventID`;
  const base = () => ({
    client: emulatorClient(emulator),
    s3Client: testS3Client(s3.url),
    retry: FAST_RETRY,
    pollMinMs: 1,
    pollMaxMs: 5,
    deliveryS3Uri: 's3://lake/deliveries',
  });

  it('reads the verified delivered files (--via delivery) and gives the same rows as the pages, which it cross-checks; the manifest keeps the provenance', async () => {
    const paged = path.join(dir, 'paged') + '/';
    const delivered = path.join(dir, 'delivered') + '/';
    const a = await exportQuery({ ...base(), sql: sql(), out: paged, datasetKey: 'paged' });
    const b = await exportQuery({ ...base(), sql: sql(), out: delivered, datasetKey: 'delivered', via: 'delivery' });
    expect(a.rows).toBe(1500);
    expect(b.rows).toBe(1500);
    expect(a.delivery).toMatchObject({ via: 'cross-check', rows: 1500, verified: true, deliveryStatus: 'SUCCESS' });
    expect(b.delivery).toMatchObject({ via: 'delivery', rows: 1500, verified: true });
    expect(b.delivery!.files.map((f) => f.name)).toEqual(['result_1.csv.gz', 'result_2.csv.gz', 'result_3.csv.gz', 'result_4.csv.gz']);
    const manifest = JSON.parse(await readFile(path.join(delivered, '_manifest.json'), 'utf8')) as Manifest;
    const provenance = manifest.exports[0]!.delivery!;
    expect(provenance.s3Uri).toMatch(/^s3:\/\/lake\/deliveries\/AWSLogs\/\d{12}\/CloudTrail-Lake\/Query\/\d{4}\/\d\d\/\d\d\/[0-9a-f-]+\/$/);
    expect(provenance.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(provenance.signature).toMatch(/^[0-9a-f]+$/);
    expect(provenance.publicKeyFingerprint).toMatch(/^[0-9a-f]{32}$/);
    // Value for value, nested columns included (as JSON text, so DuckDB compares the whole value).
    const read = (root: string) =>
      query(db, `SELECT eventid, CAST(eventtime AS VARCHAR) AS t, eventname, awsregion, to_json(useridentity)::VARCHAR AS u, to_json(requestparameters)::VARCHAR AS p FROM read_parquet('${root}*.parquet') ORDER BY t, eventid`);
    const [pages, files] = [await read(paged), await read(delivered)];
    expect(files).toHaveLength(1500);
    expect(files).toEqual(pages);
    const verify = await runCli(['verify', delivered], emulatorEnv(emulator));
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  });

  it('reads each delivered file once when it cross-checks the pages (hashed and counted in one pass), twice when it reads its rows (verified, then read)', async () => {
    // GetObject calls as the SDK sends them, by key: observed on the real client, nothing answered in its place.
    const reads = new Map<string, number>();
    const counted = () => {
      const client = testS3Client(s3.url);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'GetObjectCommand') {
            const key = path.posix.basename((args.input as { Key: string }).Key);
            reads.set(key, (reads.get(key) ?? 0) + 1);
          }
          return next(args);
        },
        { step: 'initialize', name: 'countGetObject' },
      );
      return client;
    };
    const files = ['result_1.csv.gz', 'result_2.csv.gz', 'result_3.csv.gz', 'result_4.csv.gz'];
    const checked = await exportQuery({ ...base(), s3Client: counted(), sql: sql(), out: path.join(dir, 'once.ndjson') });
    expect(checked.delivery).toMatchObject({ via: 'cross-check', rows: 1500, verified: true });
    expect(Object.fromEntries(reads)).toEqual({ 'result_sign.json': 1, ...Object.fromEntries(files.map((f) => [f, 1])) });
    reads.clear();
    const delivered = await exportQuery({ ...base(), s3Client: counted(), sql: sql(), out: path.join(dir, 'twice.ndjson'), via: 'delivery' });
    expect(delivered.delivery).toMatchObject({ via: 'delivery', rows: 1500, verified: true });
    expect(Object.fromEntries(reads)).toEqual({ 'result_sign.json': 1, ...Object.fromEntries(files.map((f) => [f, 2])) });
    const lines = (text: string) => text.trimEnd().split('\n').sort();
    expect(lines(await readFile(path.join(dir, 'once.ndjson'), 'utf8'))).toEqual(lines(await readFile(path.join(dir, 'twice.ndjson'), 'utf8')));
  });

  it('verifies the delivery folder with ctlake verify and with openssl; a tampered file and a tampered signature are caught by both', async () => {
    const out = path.join(dir, 'ok') + '/';
    const summary = await exportQuery({ ...base(), sql: sql(), out, datasetKey: 'ok' });
    const prefix = summary.delivery!.s3Uri;
    const key = (name: string) => `${prefix.replace('s3://lake/', '')}${name}`;
    const env = { ...emulatorEnv(emulator), AWS_ENDPOINT_URL_S3: s3.url };
    const verify = (uri: string) => runCli(['verify', uri, '--s3-endpoint-url', s3.url, '--s3-force-path-style'], env);
    const good = await verify(prefix);
    expect(good.status, good.stdout + good.stderr).toBe(0);

    // openssl, a second implementation: the emulator's public key from ListPublicKeys (PKCS#1 DER), the signed string, the signature.
    const openssl = opensslPath();
    const sign = JSON.parse((await s3.get(key('result_sign.json'))).toString('utf8')) as { files: Array<{ fileName: string; fileHashValue: string }>; hashSignature: string; publicKeyFingerprint: string };
    const { ListPublicKeysCommand } = await import('@aws-sdk/client-cloudtrail');
    const keys = await emulatorClient(emulator).send(new ListPublicKeysCommand({}));
    const der = keys.PublicKeyList!.find((k) => k.Fingerprint === sign.publicKeyFingerprint)!.Value!;
    await writeFile(path.join(dir, 'key.der'), der);
    spawnSync(openssl, ['rsa', '-RSAPublicKey_in', '-inform', 'DER', '-in', path.join(dir, 'key.der'), '-pubout', '-out', path.join(dir, 'key.pem')]);
    const check = async (data: string, signatureHex: string) => {
      await writeFile(path.join(dir, 'data.txt'), data);
      await writeFile(path.join(dir, 'sig.bin'), Buffer.from(signatureHex, 'hex'));
      return spawnSync(openssl, ['dgst', '-sha256', '-verify', path.join(dir, 'key.pem'), '-signature', path.join(dir, 'sig.bin'), path.join(dir, 'data.txt')], { encoding: 'utf8' });
    };
    const hashes = sign.files.map((f) => f.fileHashValue).join(' ');
    expect((await check(hashes, sign.hashSignature)).stdout).toMatch(/Verified OK/);

    // A tampered file: its SHA-256 no longer matches, so the signed string openssl checks (with the file's real hash) fails too.
    const first = await s3.get(key('result_1.csv.gz'));
    const tampered = gzipSync(Buffer.from(gunzipSync(first).toString('utf8').replace(/us-east-1/, 'eu-west-1')));
    await s3.client.send(new PutObjectCommand({ Bucket: 'lake', Key: key('result_1.csv.gz'), Body: tampered }));
    const { createHash } = await import('node:crypto');
    const realHashes = [createHash('sha256').update(tampered).digest('hex'), ...sign.files.slice(1).map((f) => f.fileHashValue)].join(' ');
    expect((await check(realHashes, sign.hashSignature)).stdout).not.toMatch(/Verified OK/);
    const caught = await verify(prefix);
    expect(caught.status).toBe(5);
    expect(caught.stdout).toMatch(/result_1\.csv\.gz/);
    await s3.client.send(new PutObjectCommand({ Bucket: 'lake', Key: key('result_1.csv.gz'), Body: first }));

    // A tampered signature.
    const flipped = sign.hashSignature.slice(0, -2) + (sign.hashSignature.endsWith('00') ? '01' : '00');
    expect((await check(hashes, flipped)).stdout).not.toMatch(/Verified OK/);
    await s3.client.send(new PutObjectCommand({ Bucket: 'lake', Key: key('result_sign.json'), Body: JSON.stringify({ ...sign, hashSignature: flipped }) }));
    const badSignature = await verify(prefix);
    expect(badSignature.status).toBe(5);
    expect(badSignature.stdout).toMatch(/signature/i);
  });

  it('a delivery that does not verify fails the export and leaves nothing at the destination', async () => {
    const out = path.join(dir, 'refused') + '/';
    // Hold the export's first read of the sign file, and tamper with a result file meanwhile.
    let tampered = false;
    s3.requests.length = 0;
    s3.delayWhen((request) => (request.method === 'GET' && request.url.includes('result_sign.json') && !tampered ? 300 : 0));
    const pending = exportQuery({ ...base(), sql: sql(), out, datasetKey: 'refused', via: 'delivery' });
    for (let i = 0; i < 400 && !tampered; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      // The held GET names this query's folder: /lake/deliveries/AWSLogs/.../<queryId>/result_sign.json
      const held = s3.requests.find((r) => r.method === 'GET' && r.url.includes('result_sign.json'));
      if (held) {
        const folder = decodeURIComponent(held.url.split('?')[0]!).replace(/^\/lake\//, '').replace(/result_sign\.json$/, '');
        await s3.client.send(new PutObjectCommand({ Bucket: 'lake', Key: `${folder}result_2.csv.gz`, Body: gzipSync('eventID\nforged\n') }));
        tampered = true;
      }
    }
    expect(tampered).toBe(true);
    await expect(pending).rejects.toSatisfy((error) => isCtlakeError(error, 'VERIFY_FAILED'));
    s3.delayWhen(undefined);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('a delivery Lake could not make is DELIVERY_FAILED (exit 11), naming the status', async () => {
    const failing = await startEmulator({ sample: 20, s3EndpointUrl: s3.url, s3Credentials: S3_CREDENTIALS });
    try {
      const out = path.join(dir, 'missing-bucket') + '/';
      const result = await runCli(['export', '--sql', `SELECT eventID FROM ${failing.eventDataStoreId}`, '--out', out, '--delivery-s3-uri', 's3://no-such-bucket/x', '--s3-endpoint-url', s3.url, '--s3-force-path-style'], emulatorEnv(failing));
      expect(result.status, result.stderr).toBe(11);
      expect(result.stderr).toMatch(/RESOURCE_NOT_FOUND/);
      expect(await readdir(out).catch(() => [])).toEqual([]);
    } finally {
      await failing.close();
    }
  });
});
