import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtlakeError, createCloudTrailClient, describeQuery, exportQuery } from '../src/index.js';
import type { Emulator } from '../src/emulator/server.js';
import { QUERY_ID, parseNdjson, sampleRows, withEmulator } from './support/lake.js';

/**
 * The library's `profile` option, read as AWS_PROFILE is. The SDK reads
 * the files named by AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE from
 * this process's environment, so this file sets them (vitest runs each
 * test file in a process of its own) and clears every other AWS variable.
 */
describe('the profile option of the library', () => {
  let dir: string;
  let lake: Emulator;
  const saved = { ...process.env };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-library-profiles-'));
    lake = await withEmulator({ queries: [{ queryId: QUERY_ID, rows: sampleRows(2) }], credentials: { accessKeyId: 'AKIDLIB', secretAccessKey: 'lib-secret' } });
    await writeFile(path.join(dir, 'config'), `[profile lib]\nregion = us-east-1\nservices = lib\n\n[services lib]\ncloudtrail =\n  endpoint_url = ${lake.url}\n`);
    await writeFile(path.join(dir, 'credentials'), '[lib]\naws_access_key_id = AKIDLIB\naws_secret_access_key = lib-secret\n');
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_') && name !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED') delete process.env[name];
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterAll(async () => {
    process.env = saved;
    await lake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reaches the endpoint of the profile's services section, with its region and keys", async () => {
    const out = path.join(dir, 'rows.ndjson');
    const summary = await exportQuery({ queryId: QUERY_ID, out, profile: 'lib' });
    expect(summary.rows).toBe(2);
    expect(parseNdjson(await readFile(out, 'utf8')).map((row) => row.seq)).toEqual(['0', '1']);
    const client = createCloudTrailClient({ profile: 'lib' });
    expect((await describeQuery(client, { queryId: QUERY_ID })).QueryStatus).toBe('FINISHED');
    client.destroy();
    expect(lake.requests.filter((r) => r.denied !== undefined)).toEqual([]);
  });

  it('fails with INVALID_OPTION naming the option, the profile and the files, before any request', async () => {
    const before = lake.requests.length;
    const error = await exportQuery({ queryId: QUERY_ID, out: path.join(dir, 'never.ndjson'), profile: 'nosuch' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CtlakeError);
    expect(error).toMatchObject({
      code: 'INVALID_OPTION',
      option: 'profile',
      message: `the AWS profile "nosuch" does not exist: it is in neither "${path.join(dir, 'config')}" (AWS_CONFIG_FILE) nor "${path.join(dir, 'credentials')}" (AWS_SHARED_CREDENTIALS_FILE); check profile`,
    });
    expect(lake.requests.length).toBe(before);
  });
});
