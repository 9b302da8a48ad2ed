import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { runCli } from './support/cli-process.js';
import { csvText, publicKeyEndpoint, resultFiles, testKey, writeDelivery, type TestKey } from './support/delivery.js';
import type { FakeEndpoint } from './support/fake-endpoint.js';
import { captureIO, QUERY_ID } from './support/lake.js';
import { startS3 } from './support/s3.js';

// `ctlake verify` on a folder Lake delivered to; ListPublicKeys from a stand-in endpoint (the emulator does not serve it yet).

let root: string;
let key: TestKey;
let endpoint: FakeEndpoint;
let env: Record<string, string>;

const queryFolder = (name: string) => path.join(root, name, 'AWSLogs', '111122223333', 'CloudTrail-Lake', 'Query', '2024', '05', '01', QUERY_ID);
const files = () =>
  resultFiles([
    csvText(['eventname', 'arn', 'arn'], [['GetObject', 'arn:aws:iam::1:user/a', null], ['Put,"Object"', '', 'x']]),
    csvText(['eventname', 'arn', 'arn'], [['ListBuckets', null, null]]),
  ]);

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ctlake-delivery-'));
  key = testKey();
  endpoint = await publicKeyEndpoint([testKey(), key]);
  env = {
    AWS_ACCESS_KEY_ID: 'AKID',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CTLAKE_LOG_FORMAT: 'text',
  };
});

afterAll(async () => {
  await endpoint.close();
  await rm(root, { recursive: true, force: true });
});

describe('ctlake verify DELIVERY', () => {
  it('exits 0 for a delivery as Lake signed it, found by its result_sign.json', async () => {
    const dir = queryFolder('good');
    await writeDelivery(dir, files(), { key, region: 'eu-west-1' });
    const result = await runCli(['verify', dir, '--endpoint-url', endpoint.url], env);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^OK ${dir}/: 2 files, .*, signed by key ${key.fingerprint} \\(eu-west-1, 2024-05-01T12:00:00Z\\)\\n$`));
    expect(endpoint.calls).toContain('ListPublicKeys');
  });

  it('the JSON report lists each file and the key', async () => {
    const dir = queryFolder('good-json');
    await writeDelivery(dir, files(), { key });
    const result = await runCli(['verify', dir, '--json', '--endpoint-url', endpoint.url, '--region', 'us-east-1'], env);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; signatureOk: boolean; files: Array<{ name: string; ok: boolean }> };
    expect(report.ok).toBe(true);
    expect(report.signatureOk).toBe(true);
    expect(report.files.map((f) => [f.name, f.ok])).toEqual([['result_1.csv.gz', true], ['result_2.csv.gz', true]]);
  });

  it('exits 5 with one line per problem: a changed file, an unsigned one, a missing one', async () => {
    const dir = queryFolder('tampered');
    const delivered = [...files(), ...resultFiles(['a\n1\n', 'a\n2\n', 'a\n3\n']).slice(2)];
    await writeDelivery(dir, delivered, { key });
    await writeFile(path.join(dir, 'result_1.csv.gz'), resultFiles(['eventname\nDeleteBucket\n'])[0]!.bytes);
    await rm(path.join(dir, 'result_3.csv.gz'));
    await writeFile(path.join(dir, 'result_4.csv.gz'), 'added later');
    const result = await runCli(['verify', dir, '--endpoint-url', endpoint.url], env);
    expect(result.status).toBe(5);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^result_1\.csv\.gz: SHA-256 [0-9a-f]{64} differs from the fileHashValue [0-9a-f]{64} of result_sign\.json/);
    expect(lines[1]).toMatch(/^result_3\.csv\.gz: missing, or cannot be read/);
    expect(lines[2]).toBe('result_4.csv.gz: in the delivery folder but not signed (not in result_sign.json)');
    expect(result.stderr).toMatch(/is not the delivery Lake signed: 3 problems \(listed on stdout\)/);
  });

  it('exits 5 for a sign file signed by another key', async () => {
    const dir = queryFolder('other-key');
    await writeDelivery(dir, files(), { key: testKey() });
    const result = await runCli(['verify', dir, '--endpoint-url', endpoint.url], env);
    expect(result.status).toBe(5);
    expect(result.stdout).toMatch(/^result_sign\.json: no public key with fingerprint [0-9a-f]{32} among the 2 that ListPublicKeys returned for us-east-1/);
  });

  it('exits 5 for a hostile sign file, and reads none of the paths it names', async () => {
    const dir = queryFolder('hostile');
    await writeDelivery(dir, files(), { key });
    const signFile = { files: [{ fileName: '../../../../../../../etc/passwd', fileHashValue: 'a'.repeat(64) }] };
    await writeFile(path.join(dir, 'result_sign.json'), JSON.stringify({ ...signFile, region: 'us-east-1' }));
    const result = await runCli(['verify', dir, '--endpoint-url', endpoint.url], env);
    expect(result.status).toBe(5);
    expect(result.stdout).toContain('result_sign.json: files[0].fileName is "../../../../../../../etc/passwd"; expected the plain name of a file of the folder');
    expect(result.stdout).toContain('result_sign.json: hashSignature is missing');
  });

  it('with --delivery, a folder without result_sign.json is a problem, not a dataset', async () => {
    const dir = queryFolder('unsigned');
    await writeDelivery(dir, files(), { key });
    await rm(path.join(dir, 'result_sign.json'));
    const result = await runCli(['verify', dir, '--delivery', '--endpoint-url', endpoint.url], env);
    expect(result.status).toBe(5);
    expect(result.stdout).toBe("result_sign.json is missing: this is not the folder of one query that Lake delivered, or its delivery did not finish\n");
  });

  it('fails 1 when ListPublicKeys cannot be reached, naming the flag', async () => {
    const dir = queryFolder('no-endpoint');
    await writeDelivery(dir, files(), { key });
    const result = await runCli(['verify', dir, '--endpoint-url', 'http://127.0.0.1:9'], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ListPublicKeys/);
    expect(result.stderr).toMatch(/--endpoint-url/);
  });

  it('exits 5 for a symbolic link in the folder, and never reads through it', async () => {
    const dir = queryFolder('linked');
    await writeDelivery(dir, files(), { key });
    await rm(path.join(dir, 'result_2.csv.gz'));
    await symlink('/etc/passwd', path.join(dir, 'result_2.csv.gz'));
    const result = await runCli(['verify', dir, '--endpoint-url', endpoint.url], env);
    expect(result.status).toBe(5);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('result_2.csv.gz: a symbolic link, which ctlake never reads in a delivery; remove it');
    expect(lines[1]).toMatch(/^result_2\.csv\.gz: missing, or cannot be read \(not a regular file\)/);
  });

  it('checks a delivery on S3, and names what was changed there', async () => {
    const s3 = await startS3('audit');
    try {
      const prefix = `lake/AWSLogs/111122223333/CloudTrail-Lake/Query/2024/05/01/${QUERY_ID}/`;
      const local = queryFolder('for-s3');
      const delivered = files();
      const signFile = await writeDelivery(local, delivered, { key });
      const put = (name: string, body: Buffer | string) => s3.client.send(new PutObjectCommand({ Bucket: 'audit', Key: prefix + name, Body: body }));
      for (const file of delivered) await put(file.name, file.bytes);
      await put('result_sign.json', JSON.stringify(signFile));
      const s3env = { ...env, AWS_ACCESS_KEY_ID: 'AKIDEMULATOR', AWS_SECRET_ACCESS_KEY: 'emulator-secret', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: s3.url };
      const verify = async () => {
        const run = captureIO(s3env);
        const code = await main(['verify', `s3://audit/${prefix}`, '--s3-force-path-style', '--endpoint-url', endpoint.url], run.io);
        return { code, stdout: run.stdout() };
      };
      const good = await verify();
      expect(good.stdout).toMatch(/^OK s3:\/\/audit\/lake\/.*: 2 files, /);
      expect(good.code).toBe(0);
      await put('result_2.csv.gz', resultFiles(['eventname\nnothing\n'])[0]!.bytes);
      const changed = await verify();
      expect(changed.code).toBe(5);
      expect(changed.stdout).toMatch(/^result_2\.csv\.gz: SHA-256 [0-9a-f]{64} differs from the fileHashValue/);
    } finally {
      await s3.close();
    }
  });

  it('--help tells of deliveries', async () => {
    const result = await runCli(['verify', '--help'], env);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('verify DATASET|DELIVERY');
    expect(result.stdout).toContain('--delivery');
    expect(result.stdout).toContain('result_sign.json');
  });
});
