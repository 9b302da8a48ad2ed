import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetQueryResultsCommand, ListPublicKeysCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { emulatorClient } from '../support/lake.js';
import { MODEL, shapeProblems } from '../support/model-shapes.js';
import { S3_CREDENTIALS, startS3, type TestS3 } from '../support/s3.js';
import { opensslPath, opensslVerifies, readCsv, runDelivered } from './delivery-support.js';

// Every kind of field the CSV layout names: NULLs (errorCode is mostly
// null), an empty string, quotes and commas, Presto text of a map, a timestamp.
const columnsSql = (store: string) =>
  `SELECT eventTime, eventName, userIdentity.arn, errorCode, '' AS empty, 'say "hi", then
go' AS awkward, requestParameters, sourceIPAddress FROM ${store} ORDER BY eventTime, eventID`;

describe('delivery of query results to S3, signed', () => {
  let s3: TestS3;
  let emulator: Emulator;
  let client: CloudTrailClient;

  beforeAll(async () => {
    opensslPath(); // fails the file, never skips it, without openssl
    s3 = await startS3('lake');
    emulator = await startEmulator({ sample: 250, s3EndpointUrl: s3.url, s3Credentials: S3_CREDENTIALS, deliveryFileRows: 60 });
    client = emulatorClient(emulator);
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
    await s3?.close();
  });

  it('writes result_N.csv.gz and result_sign.json under AWSLogs/<account>/CloudTrail-Lake/Query/<date>/<queryId>/, with every row GetQueryResults gives', async () => {
    const { queryId, seen } = await runDelivered(client, columnsSql(emulator.eventDataStoreId), 's3://lake/exports/team');
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ QueryStatus: 'FINISHED', DeliveryStatus: 'SUCCESS' });
    // The first answer that says FINISHED still says PENDING: a client must wait for the delivery.
    expect(seen.find((d) => d.QueryStatus === 'FINISHED')?.DeliveryStatus).toBe('PENDING');
    expect(seen.filter((d) => d.QueryStatus !== 'FINISHED').every((d) => d.DeliveryStatus === 'PENDING' && d.DeliveryS3Uri === 's3://lake/exports/team')).toBe(true);

    const signKey = (await s3.keys('exports/team/')).find((k) => k.endsWith('/result_sign.json'))!;
    const folder = signKey.slice(0, -'result_sign.json'.length);
    expect(folder).toMatch(new RegExp(`^exports/team/AWSLogs/123456789012/CloudTrail-Lake/Query/\\d{4}/\\d\\d/\\d\\d/${queryId}/$`));
    expect(last.DeliveryS3Uri).toBe(`s3://lake/${folder}`);
    const names = (await s3.keys(folder)).map((k) => k.slice(folder.length));
    expect(names).toEqual(['result_1.csv.gz', 'result_2.csv.gz', 'result_3.csv.gz', 'result_4.csv.gz', 'result_5.csv.gz', 'result_sign.json']);

    const sign = JSON.parse((await s3.get(signKey)).toString('utf8')) as Record<string, unknown> & { files: Array<{ fileName: string; fileHashValue: string }> };
    expect(Object.keys(sign)).toEqual(['version', 'region', 'files', 'hashAlgorithm', 'signatureAlgorithm', 'queryCompleteTime', 'hashSignature', 'publicKeyFingerprint']);
    expect(sign).toMatchObject({ version: '1.0', region: 'us-east-1', hashAlgorithm: 'SHA-256', signatureAlgorithm: 'SHA256withRSA' });
    expect(sign.queryCompleteTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(folder).toContain(`/Query/${String(sign.queryCompleteTime).slice(0, 10).replace(/-/g, '/')}/`);
    expect(sign.files.map((f) => f.fileName)).toEqual(names.slice(0, -1));

    // Each hash is of the compressed bytes; the CSV inside is the result, row for row.
    const csvRows: Array<Array<string | null>> = [];
    let header: Array<string | null> | undefined;
    for (const file of sign.files) {
      const bytes = await s3.get(folder + file.fileName);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.fileHashValue);
      const [head, ...rows] = readCsv(gunzipSync(bytes).toString('utf8'));
      header ??= head;
      expect(head).toEqual(header);
      expect(rows.length).toBeLessThanOrEqual(60);
      csvRows.push(...rows);
    }
    expect(header).toEqual(['eventTime', 'eventName', 'arn', 'errorCode', 'empty', 'awkward', 'requestParameters', 'sourceIPAddress']);

    const pages = [];
    let token: string | undefined;
    do {
      const page = await client.send(new GetQueryResultsCommand({ QueryId: queryId, MaxQueryResults: 100, NextToken: token }));
      pages.push(...(page.QueryResultRows ?? []));
      token = page.NextToken;
    } while (token);
    expect(csvRows).toHaveLength(250);
    expect(pages).toHaveLength(250);
    // GetQueryResults leaves a NULL out of its row: the CSV's bare empty fields are exactly those cells.
    const asLakeRow = (row: Array<string | null>) => row.flatMap((value, i) => (value === null ? [] : [{ [header![i]!]: value }]));
    expect(csvRows.map(asLakeRow)).toEqual(pages);
    expect(csvRows.some((r) => r[3] === null)).toBe(true);
    expect(csvRows.every((r) => r[4] === '' && r[5] === 'say "hi", then\ngo')).toBe(true);
    expect(csvRows[0]![0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    const raw = gunzipSync(await s3.get(folder + 'result_1.csv.gz')).toString('utf8');
    expect(raw).not.toContain('\r');
    expect(raw.split('\n')[1]).toMatch(/,"",/);

    // The signature verifies with openssl and the key ListPublicKeys gives for the query's time.
    const at = new Date(String(sign.queryCompleteTime));
    const { PublicKeyList } = await client.send(new ListPublicKeysCommand({ StartTime: at, EndTime: new Date(at.getTime() + 20 * 86_400_000) }));
    const key = PublicKeyList?.find((k) => k.Fingerprint === sign.publicKeyFingerprint);
    expect(key?.Value).toBeInstanceOf(Uint8Array);
    expect(key!.ValidityStartTime!.getTime()).toBeLessThanOrEqual(at.getTime() + 1000);
    expect(key!.ValidityEndTime!.getTime()).toBeGreaterThan(at.getTime());
    const signed = sign.files.map((f) => f.fileHashValue).join(' ');
    expect(opensslVerifies(key!.Value!, signed, String(sign.hashSignature))).toBe(true);

    // A tampered file no longer has its hash, and the hashes it now has do not verify.
    const tampered = Buffer.from(await s3.get(folder + 'result_2.csv.gz'));
    tampered[tampered.length - 9]! ^= 0x01;
    const tamperedHash = createHash('sha256').update(tampered).digest('hex');
    expect(tamperedHash).not.toBe(sign.files[1]!.fileHashValue);
    const withTampered = sign.files.map((f, i) => (i === 1 ? tamperedHash : f.fileHashValue)).join(' ');
    expect(opensslVerifies(key!.Value!, withTampered, String(sign.hashSignature))).toBe(false);
    // A tampered signature does not verify either.
    const badSignature = Buffer.from(String(sign.hashSignature), 'hex');
    badSignature[10]! ^= 0x80;
    expect(opensslVerifies(key!.Value!, signed, badSignature.toString('hex'))).toBe(false);
  });

  it('answers DescribeQuery and ListPublicKeys in the shapes of the service model', async () => {
    const { queryId } = await runDelivered(client, `SELECT eventName FROM ${emulator.eventDataStoreId} LIMIT 3`, 's3://lake');
    const wire = async (operation: string, input: Record<string, unknown>) => {
      const response = await fetch(emulator.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `CloudTrail_20131101.${operation}` },
        body: JSON.stringify(input),
      });
      const body = (await response.json()) as Record<string, unknown>;
      // The model fixture holds the query operations; ListPublicKeys is checked member by member below.
      const spec = MODEL.operations[operation];
      if (spec) expect(shapeProblems(spec.output, body), operation).toEqual([]);
      return body;
    };
    const described = await wire('DescribeQuery', { QueryId: queryId });
    expect(described).toMatchObject({ DeliveryStatus: 'SUCCESS', DeliveryS3Uri: expect.stringMatching(new RegExp(`^s3://lake/AWSLogs/123456789012/CloudTrail-Lake/Query/.*/${queryId}/$`)) });
    const listed = (await wire('ListPublicKeys', {})) as { PublicKeyList: Array<{ Fingerprint: string; Value: string }> };
    expect(listed.PublicKeyList).toHaveLength(1);
    expect(Object.keys(listed)).toEqual(['PublicKeyList']);
    expect(listed.PublicKeyList[0]).toEqual({ Value: expect.any(String), ValidityStartTime: expect.any(Number), ValidityEndTime: expect.any(Number), Fingerprint: expect.any(String) });
    expect(listed.PublicKeyList[0]!.Fingerprint).toMatch(/^[0-9a-f]{32}$/);
    // PKCS#1 RSAPublicKey DER, as the model says: SEQUENCE { modulus, exponent }, 2048-bit.
    expect(Buffer.from(listed.PublicKeyList[0]!.Value, 'base64').subarray(0, 9).toString('hex')).toBe('3082010a0282010100');
  });

  it('writes one result file with the header alone for a query with no rows', async () => {
    const { queryId, seen } = await runDelivered(client, `SELECT eventName, eventID FROM ${emulator.eventDataStoreId} WHERE eventName = 'NoSuchEvent'`, 's3://lake/empty/');
    expect(seen.at(-1)?.DeliveryStatus).toBe('SUCCESS');
    const keys = (await s3.keys('empty/')).filter((k) => k.includes(queryId));
    expect(keys.map((k) => k.slice(k.lastIndexOf('/') + 1))).toEqual(['result_1.csv.gz', 'result_sign.json']);
    expect(gunzipSync(await s3.get(keys[0]!)).toString('utf8')).toBe('eventName,eventID\n');
  });
});
