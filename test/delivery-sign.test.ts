import { Readable } from 'node:stream';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf, MAX_SIGNED_FILES, parseSignFile, publicKeysAround, resultFileOrder, signedData, verifyDelivery, type DeliveryPublicKey, type SignFile } from '../src/source/delivery-sign.js';
import { csvText, publicKeyEndpoint, resultFiles, signFileFor, testKey, type DeliveredFile, type TestKey } from './support/delivery.js';
import type { FakeEndpoint } from './support/fake-endpoint.js';
import { FAST_RETRY } from './support/lake.js';

let key: TestKey;
let other: TestKey;
let files: DeliveredFile[];

beforeAll(() => {
  key = testKey();
  other = testKey();
  files = resultFiles([csvText(['eventname', 'arn'], [['GetObject', 'arn:aws:iam::1:user/a']]), csvText(['eventname', 'arn'], [['PutObject', null]])]);
});

const keysOf = (...keys: TestKey[]): DeliveryPublicKey[] => keys.map((k) => ({ value: k.der, fingerprint: k.fingerprint }));

function parsed(signFile: unknown): SignFile {
  const { sign, problems } = parseSignFile(JSON.stringify(signFile));
  expect(problems).toEqual([]);
  return sign!;
}

function reader(list: readonly DeliveredFile[]) {
  const byName = new Map(list.map((file) => [file.name, file.bytes]));
  return async (name: string) => {
    const bytes = byName.get(name);
    if (bytes === undefined) throw new Error(`ENOENT: ${name}`);
    // Several chunks, as a stream brings them.
    return Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]);
  };
}

describe('verifyDelivery', () => {
  it('verifies a delivery as Lake signs it', async () => {
    const sign = parsed(signFileFor(files, { key }));
    const report = await verifyDelivery({ sign, readFile: reader(files), publicKeys: keysOf(other, key), present: ['result_1.csv.gz', 'result_2.csv.gz', 'result_sign.json'] });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.signatureOk).toBe(true);
    expect(report.fingerprint).toBe(key.fingerprint);
    expect(report.files.map((f) => [f.name, f.bytes, f.ok])).toEqual(files.map((f) => [f.name, f.bytes.length, true]));
  });

  it('signs the hashes joined by single spaces, in the order listed', () => {
    const sign = parsed(signFileFor(files, { key }));
    expect(signedData(sign)).toBe(`${sign.files[0]!.fileHashValue} ${sign.files[1]!.fileHashValue}`);
  });

  it('orders the result files by their number', () => {
    const names = ['result_10.csv.gz', 'result_2.csv.gz', 'other.gz', 'result_1.csv.gz', 'result_9.csv.gz'];
    expect(resultFileOrder({ files: names.map((fileName) => ({ fileName, fileHashValue: '0'.repeat(64) })) })).toEqual(['result_1.csv.gz', 'result_2.csv.gz', 'result_9.csv.gz', 'result_10.csv.gz', 'other.gz']);
  });

  it('finds a key without a Fingerprint by the MD5 of its DER bytes', async () => {
    expect(fingerprintOf(key.der)).toBe(key.fingerprint);
    const sign = parsed(signFileFor(files, { key }));
    const report = await verifyDelivery({ sign, readFile: reader(files), publicKeys: [{ value: key.der }] });
    expect(report.ok).toBe(true);
  });

  it('names a file changed after delivery', async () => {
    const sign = parsed(signFileFor(files, { key }));
    const tampered = [files[0]!, { name: 'result_2.csv.gz', bytes: resultFiles(['x\n1\n'])[0]!.bytes }];
    const report = await verifyDelivery({ sign, readFile: reader(tampered), publicKeys: keysOf(key) });
    expect(report.ok).toBe(false);
    expect(report.signatureOk).toBe(true);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(/^result_2\.csv\.gz: SHA-256 [0-9a-f]{64} differs from the fileHashValue/);
    expect(report.files.map((f) => f.ok)).toEqual([true, false]);
  });

  it('hands each file to consume as it hashes it: one read, the same report; a failing stream is the file\'s problem, a failing consumer throws', async () => {
    const sign = parsed(signFileFor(files, { key }));
    const seen = new Map<string, number>();
    const consume = async (name: string, stream: Readable) => {
      let bytes = 0;
      for await (const chunk of stream) bytes += (chunk as Buffer).length;
      seen.set(name, bytes);
    };
    const once = await verifyDelivery({ sign, readFile: reader(files), publicKeys: keysOf(key), consume });
    expect(once).toEqual(await verifyDelivery({ sign, readFile: reader(files), publicKeys: keysOf(key) }));
    expect(once.ok).toBe(true);
    expect([...seen]).toEqual(files.map((f) => [f.name, f.bytes.length]));

    const breaking = async (name: string) => {
      const bytes = files.find((f) => f.name === name)!.bytes;
      return new Readable({
        read() {
          this.push(bytes.subarray(0, 7));
          this.destroy(new Error('ECONNRESET: the connection went away'));
        },
      });
    };
    const broken = await verifyDelivery({ sign, readFile: breaking, publicKeys: keysOf(key), consume });
    expect(broken.problems).toEqual([expect.stringMatching(/^result_1\.csv\.gz: cannot be read after 7 bytes \(ECONNRESET/), expect.stringMatching(/^result_2\.csv\.gz: cannot be read after 7 bytes/)]);

    await expect(verifyDelivery({ sign, readFile: reader(files), publicKeys: keysOf(key), consume: async () => Promise.reject(new TypeError('not CSV')) })).rejects.toThrow('not CSV');

    // A consumer that stops early leaves a prefix hashed: a problem, never a pass.
    const endless = async (name: string) => {
      const stream = new Readable({ read() {} });
      stream.push(files.find((f) => f.name === name)!.bytes.subarray(0, 7));
      return stream;
    };
    const partly = await verifyDelivery({ sign, readFile: endless, publicKeys: keysOf(key), consume: async (_name, stream) => void (await stream[Symbol.asyncIterator]().next()) });
    expect(partly.ok).toBe(false);
    expect(partly.problems[0]).toMatch(/^result_1\.csv\.gz: was not read to its end/);
  });

  it('names a missing file', async () => {
    const sign = parsed(signFileFor(files, { key }));
    const report = await verifyDelivery({ sign, readFile: reader(files.slice(0, 1)), publicKeys: keysOf(key) });
    expect(report.problems).toEqual([expect.stringMatching(/^result_2\.csv\.gz: missing, or cannot be read/)]);
  });

  it('refuses a tampered signature', async () => {
    const signFile = signFileFor(files, { key });
    const hex = signFile.hashSignature as string;
    signFile.hashSignature = (hex[0] === 'a' ? 'b' : 'a') + hex.slice(1);
    const report = await verifyDelivery({ sign: parsed(signFile), readFile: reader(files), publicKeys: keysOf(key) });
    expect(report.signatureOk).toBe(false);
    expect(report.problems).toEqual([expect.stringContaining('result_sign.json: the hashSignature does not verify with the public key')]);
  });

  it('refuses hashes changed in the sign file to match changed files', async () => {
    // Someone rewrites a file and its fileHashValue: the files match, the signature does not.
    const signFile = signFileFor(files, { key });
    const forged = resultFiles(['x\n1\n', 'x\n2\n']);
    signFile.files = signFileFor(forged, { key: other }).files;
    const report = await verifyDelivery({ sign: parsed(signFile), readFile: reader(forged), publicKeys: keysOf(key) });
    expect(report.files.every((f) => f.ok)).toBe(true);
    expect(report.signatureOk).toBe(false);
    expect(report.ok).toBe(false);
  });

  it('refuses a delivery signed with another key under the fingerprint of the right one', async () => {
    const signFile = signFileFor(files, { key: other });
    signFile.publicKeyFingerprint = key.fingerprint;
    const report = await verifyDelivery({ sign: parsed(signFile), readFile: reader(files), publicKeys: keysOf(key) });
    expect(report.signatureOk).toBe(false);
    expect(report.problems).toEqual([expect.stringContaining('does not verify')]);
  });

  it('says when no key has the fingerprint', async () => {
    const report = await verifyDelivery({ sign: parsed(signFileFor(files, { key })), readFile: reader(files), publicKeys: keysOf(other) });
    expect(report.fingerprint).toBeUndefined();
    expect(report.problems).toEqual([expect.stringContaining(`no public key with fingerprint ${key.fingerprint} among the 1 that ListPublicKeys returned for us-east-1`)]);
  });

  it('names a file that is in the folder but not signed', async () => {
    const report = await verifyDelivery({
      sign: parsed(signFileFor(files, { key })),
      readFile: reader(files),
      publicKeys: keysOf(key),
      present: ['result_1.csv.gz', 'result_2.csv.gz', 'result_3.csv.gz', 'result_sign.json', 'notes\n.txt'],
    });
    expect(report.problems).toEqual(['result_3.csv.gz: in the delivery folder but not signed (not in result_sign.json)', '"notes\\n.txt": in the delivery folder but not signed (not in result_sign.json)']);
  });
});

describe('parseSignFile', () => {
  const good = () => signFileFor(resultFiles(['a\n1\n']), { key });
  const problemsOf = (value: unknown) => {
    const result = parseSignFile(typeof value === 'string' ? value : JSON.stringify(value));
    expect(result.sign).toBeUndefined();
    return result.problems;
  };

  it('reads the documented fields, and leaves other fields alone', () => {
    const { sign, problems } = parseSignFile(Buffer.from(JSON.stringify({ ...good(), futureField: { x: 1 } })));
    expect(problems).toEqual([]);
    expect(sign).toMatchObject({ version: '1.0', region: 'us-east-1', hashAlgorithm: 'SHA-256', signatureAlgorithm: 'SHA256withRSA', queryCompleteTime: '2024-05-01T12:00:00Z' });
    const { version: _, ...noVersion } = good();
    expect(parseSignFile(JSON.stringify(noVersion)).problems).toEqual([]);
  });

  it('refuses what is not JSON, or not an object', () => {
    expect(problemsOf('{"files": [')).toEqual([expect.stringMatching(/^result_sign\.json: not JSON/)]);
    expect(problemsOf([1, 2])).toEqual(['result_sign.json: not a JSON object']);
    expect(problemsOf('null')).toEqual(['result_sign.json: not a JSON object']);
  });

  it('refuses file names that are paths', () => {
    for (const fileName of ['../result_1.csv.gz', '/etc/passwd', 'a/b.csv.gz', 'a\\b.csv.gz', '..', '.', '', 'result_sign.json', 'x\u0000.gz']) {
      const signFile = good();
      (signFile.files as Array<{ fileName: string }>)[0]!.fileName = fileName;
      expect(problemsOf(signFile), fileName).toEqual([expect.stringContaining('files[0].fileName is')]);
    }
  });

  it('refuses a file listed twice', () => {
    const signFile = good();
    const entry = (signFile.files as unknown[])[0];
    signFile.files = [entry, entry];
    expect(problemsOf(signFile)).toEqual(['result_sign.json: files[1]: result_1.csv.gz is listed twice']);
  });

  it('refuses a huge list without reading it through', () => {
    const entry = (good().files as unknown[])[0];
    const signFile = { ...good(), files: Array.from({ length: MAX_SIGNED_FILES + 1 }, () => entry) };
    expect(problemsOf(signFile)).toEqual([expect.stringContaining(`files lists ${MAX_SIGNED_FILES + 1} files, more than`)]);
    expect(problemsOf('x'.repeat(9 * 1024 * 1024))).toEqual([expect.stringContaining('more than a sign file of Lake holds')]);
    // Many faults: the first 20 are said.
    const bad = { ...good(), files: Array.from({ length: 500 }, () => 7) };
    expect(problemsOf(bad)).toHaveLength(21);
  });

  it('refuses wrong types and values, naming each field', () => {
    const signFile = { ...good(), region: 7, files: 'result_1.csv.gz', hashAlgorithm: 'MD5', signatureAlgorithm: null, hashSignature: 'zz', publicKeyFingerprint: ['x'], queryCompleteTime: 'yesterday', version: 1 };
    const problems = problemsOf(signFile);
    for (const name of ['version', 'region', 'files', 'hashAlgorithm', 'signatureAlgorithm', 'hashSignature', 'publicKeyFingerprint', 'queryCompleteTime']) {
      expect(problems.some((line) => line.startsWith(`result_sign.json: ${name} is`)), name).toBe(true);
    }
    const entryFaults = { ...good(), files: [{ fileName: 'result_1.csv.gz', fileHashValue: 'abc' }, { fileName: 'result_2.csv.gz' }, 'x', null, { __proto__: { fileName: 'result_3.csv.gz' } }] };
    expect(problemsOf(entryFaults)).toEqual([
      'result_sign.json: files[0].fileHashValue of result_1.csv.gz is "abc"; expected 64 hex digits (SHA-256)',
      'result_sign.json: files[1].fileHashValue of result_2.csv.gz is missing; expected 64 hex digits (SHA-256)',
      'result_sign.json: files[2] is "x"; expected { fileName, fileHashValue }',
      'result_sign.json: files[3] is null; expected { fileName, fileHashValue }',
      expect.stringContaining('result_sign.json: files[4].fileName is missing'),
    ]);
    expect(problemsOf({ ...good(), files: [] })).toEqual(['result_sign.json: files is empty: a delivery lists at least one result file']);
  });

  it('reads no field from the prototype (a JSON `__proto__` key is data)', () => {
    const text = JSON.stringify(good()).replace('"region":"us-east-1",', '"__proto__":{"region":"us-east-1"},');
    expect(parseSignFile(text).problems).toEqual(['result_sign.json: region is missing; expected an AWS region such as "us-east-1"']);
  });
});

describe('publicKeysAround', () => {
  let endpoint: FakeEndpoint;
  let client: CloudTrailClient;
  beforeAll(async () => {
    endpoint = await publicKeyEndpoint([key, other]);
    client = new CloudTrailClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await endpoint.close();
  });

  it('returns the keys ListPublicKeys lists, as DER bytes with their fingerprints', async () => {
    const keys = await publicKeysAround(client, new Date('2024-05-01T12:00:00Z'), { retry: FAST_RETRY });
    expect(keys.map((k) => k.fingerprint)).toEqual([key.fingerprint, other.fingerprint]);
    expect(Buffer.from(keys[0]!.value).equals(key.der)).toBe(true);
    expect(keys[0]!.validityStartTime).toEqual(new Date(1_700_000_000_000));
    const report = await verifyDelivery({ sign: parsed(signFileFor(files, { key })), readFile: reader(files), publicKeys: keys });
    expect(report.ok).toBe(true);
    expect(endpoint.calls).toEqual(['ListPublicKeys']);
  });
});
