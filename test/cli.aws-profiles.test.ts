import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { runCli } from './support/cli-process.js';
import { QUERY_ID, parseNdjson, sampleRows, withEmulator } from './support/lake.js';
import { startS3, type TestS3 } from './support/s3.js';
import { startSts, type TestSts } from './support/sts-server.js';

/**
 * Profiles as the AWS CLI reads them, through the real CLI: a temporary HOME
 * with real ~/.aws/config and ~/.aws/credentials files, emulators that take
 * only one access key each (so that a test sees which credentials reached
 * CloudTrail), a test STS for role assumption, and credential_process
 * scripts. The environment holds only what each test sets: no real AWS
 * credentials, no endpoint variables unless the test is about them.
 */
describe('ctlake with AWS profiles', () => {
  let home: string;
  let env: Record<string, string>;
  let staticLake: Emulator;
  let roleLake: Emulator;
  let processLake: Emulator;
  let openLake: Emulator;
  let sts: TestSts;
  let s3: TestS3;
  let configFile: string;
  let credentialsFile: string;
  const queries = [{ queryId: QUERY_ID, rows: sampleRows(3) }];
  const exportArgs = ['export', '--query-id', QUERY_ID, '--out', '-', '--quiet'];
  const denied = (lake: Emulator) => lake.requests.filter((r) => r.denied !== undefined);

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'ctlake-profiles-'));
    await mkdir(path.join(home, '.aws'));
    [staticLake, roleLake, processLake, openLake, sts, s3] = await Promise.all([
      withEmulator({ queries, credentials: { accessKeyId: 'AKIDSTATIC', secretAccessKey: 'static-secret' } }),
      withEmulator({ queries, credentials: { accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret' } }),
      withEmulator({ queries, credentials: { accessKeyId: 'AKIDPROC', secretAccessKey: 'proc-secret' } }),
      withEmulator({ queries }),
      startSts({ accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role-session-token' }),
      startS3(),
    ]);
    const script = async (name: string, text: string) => {
      const file = path.join(home, name);
      await writeFile(file, text);
      return `"${process.execPath}" "${file}"`;
    };
    const ok = await script('ok.mjs', `console.log(JSON.stringify({ Version: 1, AccessKeyId: 'AKIDPROC', SecretAccessKey: 'proc-secret' }));\n`);
    const failing = await script('fail.mjs', `process.stderr.write('token broker unreachable\\naws_secret_access_key=hunter2hunter2\\n');\nprocess.exit(3);\n`);
    configFile = path.join(home, '.aws', 'config');
    credentialsFile = path.join(home, '.aws', 'credentials');
    await writeFile(
      configFile,
      [
        '[profile static]',
        'region = us-east-1',
        `endpoint_url = ${staticLake.url}`,
        '',
        '[profile svc]',
        'region = us-east-1',
        // The services section wins over the profile's own endpoint_url.
        'endpoint_url = http://127.0.0.1:9',
        'services = local-lake',
        '',
        '[services local-lake]',
        'cloudtrail =',
        `  endpoint_url = ${staticLake.url}`,
        '',
        '[profile ignoring]',
        'region = us-east-1',
        `endpoint_url = ${staticLake.url}`,
        'ignore_configured_endpoint_urls = true',
        '',
        '[profile base]',
        'region = us-east-1',
        '',
        '[profile role]',
        'region = us-east-1',
        'role_arn = arn:aws:iam::123456789012:role/ctlake-reader',
        'source_profile = base',
        `endpoint_url = ${roleLake.url}`,
        '',
        '[profile role-services]',
        'region = us-east-1',
        'role_arn = arn:aws:iam::123456789012:role/ctlake-reader',
        'source_profile = base',
        'services = role-endpoints',
        '',
        '[services role-endpoints]',
        'sts =',
        `  endpoint_url = ${sts.url}`,
        'cloudtrail =',
        `  endpoint_url = ${roleLake.url}`,
        '',
        '[profile proc-ok]',
        'region = us-east-1',
        `credential_process = ${ok}`,
        `endpoint_url = ${processLake.url}`,
        '',
        '[profile proc-fail]',
        'region = us-east-1',
        `credential_process = ${failing}`,
        `endpoint_url = ${processLake.url}`,
        '',
        '[profile lake-and-s3]',
        'region = us-east-1',
        'services = lake-and-s3',
        '',
        '[services lake-and-s3]',
        'cloudtrail =',
        `  endpoint_url = ${openLake.url}`,
        's3 =',
        `  endpoint_url = ${s3.url}`,
        '',
      ].join('\n'),
    );
    await writeFile(
      credentialsFile,
      [
        '[static]',
        'aws_access_key_id = AKIDSTATIC',
        'aws_secret_access_key = static-secret',
        '[svc]',
        'aws_access_key_id = AKIDSTATIC',
        'aws_secret_access_key = static-secret',
        '[ignoring]',
        'aws_access_key_id = AKIDSTATIC',
        'aws_secret_access_key = static-secret',
        '[base]',
        'aws_access_key_id = AKIDBASE',
        'aws_secret_access_key = base-secret',
        '[lake-and-s3]',
        'aws_access_key_id = AKIDEMULATOR',
        'aws_secret_access_key = emulator-secret',
        '',
      ].join('\n'),
    );
    env = {
      HOME: home,
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      CTLAKE_LOG_FORMAT: 'text',
    };
  });
  afterAll(async () => {
    await Promise.all([staticLake, roleLake, processLake, openLake, sts, s3].map((server) => server?.close()));
    await rm(home, { recursive: true, force: true });
  });

  const expectRows = (result: { status: number | null; stdout: string; stderr: string }) => {
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(parseNdjson(result.stdout).map((row) => row.seq)).toEqual(['0', '1', '2']);
  };

  it("--profile reads the profile's region, keys and endpoint_url, as AWS_PROFILE does", async () => {
    const before = staticLake.requests.length;
    const flag = await runCli([...exportArgs, '--profile', 'static'], env);
    expectRows(flag);
    expect(await runCli(exportArgs, { ...env, AWS_PROFILE: 'static' })).toEqual(flag);
    expect(staticLake.requests.length).toBeGreaterThan(before);
    expect(denied(staticLake)).toEqual([]);
  });

  it("--profile reads the profile's services section, which wins over its endpoint_url", async () => {
    expectRows(await runCli([...exportArgs, '--profile', 'svc'], env));
    expectRows(await runCli(exportArgs, { ...env, AWS_PROFILE: 'svc' }));
    expect(denied(staticLake)).toEqual([]);
  });

  it('an endpoint from the environment wins over the profile, and --endpoint-url over both', async () => {
    const before = staticLake.requests.length;
    expectRows(await runCli([...exportArgs, '--profile', 'svc'], { ...env, AWS_ENDPOINT_URL_CLOUDTRAIL: staticLake.url, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }));
    expectRows(await runCli([...exportArgs, '--profile', 'static', '--endpoint-url', staticLake.url], { ...env, AWS_ENDPOINT_URL_CLOUDTRAIL: 'http://127.0.0.1:9' }));
    expect(staticLake.requests.length).toBeGreaterThan(before);
  });

  it('ignore_configured_endpoint_urls and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS leave the configured endpoints out, not --endpoint-url', async () => {
    const before = staticLake.requests.length;
    const ignored = await runCli([...exportArgs, '--profile', 'ignoring', '--query-timeout', '5s'], env);
    expect(ignored.status).not.toBe(0);
    const byEnv = await runCli([...exportArgs, '--profile', 'svc'], { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', AWS_ENDPOINT_URL_CLOUDTRAIL: staticLake.url });
    expect(byEnv.status).not.toBe(0);
    expect(staticLake.requests.length).toBe(before);
    expectRows(await runCli([...exportArgs, '--profile', 'ignoring', '--endpoint-url', staticLake.url], env));
  });

  it('--profile nosuch says that the profile does not exist and where it looked, exit 2', async () => {
    const files = `"${configFile}" (AWS_CONFIG_FILE) nor "${credentialsFile}" (AWS_SHARED_CREDENTIALS_FILE)`;
    expect(await runCli([...exportArgs, '--profile', 'nosuch'], env)).toEqual({
      status: 2,
      stdout: '',
      stderr: `ctlake: error: the AWS profile "nosuch" does not exist: it is in neither ${files}; check --profile\n`,
    });
    const viaEnv = await runCli(exportArgs, { ...env, AWS_PROFILE: 'nosuch', AWS_REGION: 'us-east-1' });
    expect(viaEnv.status).toBe(2);
    expect(viaEnv.stderr).toBe(`ctlake: error: the AWS profile "nosuch" does not exist: it is in neither ${files}; check AWS_PROFILE\n`);
    const json = await runCli([...exportArgs, '--profile', 'nosuch'], { ...env, CTLAKE_LOG_FORMAT: 'json' });
    expect(JSON.parse(json.stderr)).toMatchObject({ level: 'error', code: 'INVALID_OPTION', option: 'profile', flag: '--profile', exitCode: 2 });
  });

  it('without AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE the files under HOME are read, and a missing profile names ~/.aws', async () => {
    const { AWS_CONFIG_FILE: _c, AWS_SHARED_CREDENTIALS_FILE: _s, ...plain } = env;
    const result = await runCli([...exportArgs, '--profile', 'nosuch'], plain);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('ctlake: error: the AWS profile "nosuch" does not exist: it is in neither ~/.aws/config nor ~/.aws/credentials; check --profile\n');
    // With HOME's own files the named profiles are found there.
    expectRows(await runCli([...exportArgs, '--profile', 'static'], plain));
  });

  it('source_profile with role_arn assumes the role through STS and signs CloudTrail calls with the role', async () => {
    sts.failWith(undefined);
    const before = sts.calls.length;
    expectRows(await runCli([...exportArgs, '--profile', 'role'], { ...env, AWS_ENDPOINT_URL_STS: sts.url }));
    expect(sts.calls.slice(before)).toEqual([{ action: 'AssumeRole', roleArn: 'arn:aws:iam::123456789012:role/ctlake-reader', signedWith: 'AKIDBASE' }]);
    expect(denied(roleLake)).toEqual([]);
  });

  it("the role's STS endpoint comes from the profile's services section with --profile as with AWS_PROFILE", async () => {
    sts.failWith(undefined);
    const before = sts.calls.length;
    expectRows(await runCli([...exportArgs, '--profile', 'role-services'], env));
    expectRows(await runCli(exportArgs, { ...env, AWS_PROFILE: 'role-services' }));
    expect(sts.calls.slice(before).map((call) => call.signedWith)).toEqual(['AKIDBASE', 'AKIDBASE']);
    expect(denied(roleLake)).toEqual([]);
  });

  it('a refused role assumption names the profile, the step and STS error, not the CloudTrail endpoint', async () => {
    sts.failWith({ code: 'AccessDenied', message: 'User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole' });
    try {
      const before = roleLake.requests.length;
      const result = await runCli([...exportArgs, '--profile', 'role'], { ...env, AWS_ENDPOINT_URL_STS: sts.url });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        'ctlake: error: the AWS profile "role" (--profile) could not get credentials: its role assumption (role_arn with source_profile "base") failed: ' +
          '"AccessDenied: User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole"; ' +
          `check the profile in "${configFile}" (AWS_CONFIG_FILE) and "${credentialsFile}" (AWS_SHARED_CREDENTIALS_FILE)\n`,
      );
      expect(roleLake.requests.length).toBe(before);
      const json = await runCli([...exportArgs, '--profile', 'role'], { ...env, AWS_ENDPOINT_URL_STS: sts.url, CTLAKE_LOG_FORMAT: 'json' });
      expect(JSON.parse(json.stderr)).toMatchObject({ code: 'ACCESS_DENIED', option: 'profile', exitCode: 1 });
    } finally {
      sts.failWith(undefined);
    }
  });

  it('an STS that cannot be reached is a failed role assumption too', async () => {
    const result = await runCli([...exportArgs, '--profile', 'role'], { ...env, AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ctlake: error: the AWS profile "role" \(--profile\) could not get credentials: its role assumption \(role_arn with source_profile "base"\) failed: ".*ECONNREFUSED.*"; check the profile in /);
    expect(result.stderr).not.toMatch(/CloudTrail endpoint/);
  });

  it('credential_process credentials reach CloudTrail', async () => {
    expectRows(await runCli([...exportArgs, '--profile', 'proc-ok'], env));
    expectRows(await runCli(exportArgs, { ...env, AWS_PROFILE: 'proc-ok' }));
    expect(denied(processLake)).toEqual([]);
  });

  it('a failing credential_process names the profile and credential_process and keeps its stderr, masked', async () => {
    const before = processLake.requests.length;
    const result = await runCli([...exportArgs, '--profile', 'proc-fail'], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ctlake: error: the AWS profile "proc-fail" \(--profile\) could not get credentials: its credential_process failed: "Command failed: .*fail\.mjs.* token broker unreachable aws_secret_access_key=\*\*\*"; check the profile in /);
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(processLake.requests.length).toBe(before);
  });

  it('ctlake verify, which calls S3 only, says the same of a missing profile and a failed credential step', async () => {
    const missing = await runCli(['verify', `s3://${s3.bucket}/nowhere/`, '--profile', 'nosuch'], env);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^ctlake: error: the AWS profile "nosuch" does not exist: it is in neither .* \(AWS_CONFIG_FILE\) nor .* \(AWS_SHARED_CREDENTIALS_FILE\); check --profile\n$/);
    const failing = await runCli(['verify', `s3://${s3.bucket}/nowhere/`, '--profile', 'proc-fail'], env);
    expect(failing.status).toBe(1);
    expect(failing.stderr).toMatch(/^ctlake: error: the AWS profile "proc-fail" \(--profile\) could not get credentials: its credential_process failed: ".*token broker unreachable aws_secret_access_key=\*\*\*"; /);
  });

  it("--profile reads the S3 endpoint from the profile's services section for an s3:// output", async () => {
    const key = 'profiles/out.ndjson';
    const result = await runCli(['export', '--query-id', QUERY_ID, '--out', `s3://${s3.bucket}/${key}`, '--quiet', '--profile', 'lake-and-s3', '--s3-force-path-style'], env);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(parseNdjson((await s3.get(key)).toString('utf8')).map((row) => row.seq)).toEqual(['0', '1', '2']);
  });
});
