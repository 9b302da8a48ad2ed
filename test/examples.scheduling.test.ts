import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { sampleEvents } from '../src/emulator/sample-events.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { captureIO, emulatorEnv } from './support/lake.js';
import { duckdb, query } from './support/duckdb.js';
import { startS3, type TestS3 } from './support/s3.js';

// The examples under examples/scheduled/ are configuration that users copy,
// so nothing runs them by accident: these checks hold them to the code. Each
// `ctlake` command in them must parse with the real CLI and use only flags
// its --help documents; the IAM policy must grant what ctlake calls; and the
// job, as the systemd unit runs it, must export against the emulator.

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const EXAMPLES = path.join(ROOT, 'examples', 'scheduled');
const example = (name: string) => readFile(path.join(EXAMPLES, name), 'utf8');

/** What `main` writes to stdout for these arguments, and its exit code. */
async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const captured = captureIO(env);
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/**
 * Every `ctlake export|backfill|verify ...` in shell-like text, as argv:
 * `#` comment lines dropped, backslash-newline continuations joined, each
 * command ending at `;`, `&`, `|`, a redirection or the end of its line.
 * Words are split on blanks; the examples quote no argument.
 */
function ctlakeCommands(text: string): string[][] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n\s*/g, ' ');
  const commands: string[][] = [];
  for (const match of joined.matchAll(/(?:^|[\s=/])ctlake[ \t]+((?:export|backfill|verify)\b[^\n;&|]*)/g)) {
    const words = match[1]!.split(/\s\d*[<>]/)[0]!.trim().split(/\s+/);
    commands.push(words);
  }
  return commands;
}

/** The fenced ```sh blocks of a Markdown file. */
function shellBlocks(markdown: string): string {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

/** `--flag` or `--flag=value` to `--flag`; short flags as they are. */
function flagsOf(argv: string[]): string[] {
  return argv.filter((word) => word.startsWith('-')).map((word) => word.replace(/=.*$/, ''));
}

/** The value after `flag` in argv. */
function valueOf(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] : undefined;
}

/** A YAML block scalar (`key: |`) by its key: the lines indented deeper than the key, de-indented. */
function blockScalar(yaml: string, key: string): string {
  const lines = yaml.split('\n');
  const at = lines.findIndex((line) => new RegExp(`^\\s*(- )?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\|\\s*$`).test(line));
  if (at < 0) throw new Error(`no block scalar '${key}: |' in the YAML`);
  const keyIndent = lines[at]!.search(/\S/);
  const body: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() !== '' && line.search(/\S/) <= keyIndent) break;
    body.push(line);
  }
  while (body.length && body[body.length - 1]!.trim() === '') body.pop();
  const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.search(/\S/)));
  return body.map((l) => l.slice(indent)).join('\n') + '\n';
}

/** `Key=value` lines of a systemd unit (every occurrence), continuations joined. */
function unitValues(unit: string, key: string): string[] {
  return unit
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1).trim());
}

/** The ctlake command of every scheduler example, by file. */
async function scheduledCommands(): Promise<Record<string, string[]>> {
  const byFile: Record<string, string[]> = {};
  for (const file of ['crontab', 'ctlake-logins.service', 'cronjob.yaml']) {
    const commands = ctlakeCommands(await example(file));
    expect(commands, `${file} runs ctlake once`).toHaveLength(1);
    byFile[file] = commands[0]!;
  }
  return byFile;
}

/** Runs `sh -c script` with a fake `ctlake` first on PATH that exits with FAKE_RC (or waits for a signal). */
function runWithFakeCtlake(script: string, fakeDir: string, env: Record<string, string>) {
  const child = spawn('sh', ['-c', script], { env: { ...process.env, PATH: `${fakeDir}:${process.env.PATH ?? ''}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout: () => stdout }));
  return { child, done };
}

describe('examples/scheduled/', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-scheduled-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has only ctlake commands that the real CLI parses, with flags its --help documents', async () => {
    const exportHelp = (await run(['export', '--help'])).stdout;
    const backfillHelp = (await run(['backfill', '--help'])).stdout;
    const verifyHelp = (await run(['verify', '--help'])).stdout;
    // backfill takes every export option too, as its --help says.
    const documented: Record<string, string> = { export: exportHelp, backfill: backfillHelp + exportHelp, verify: verifyHelp };
    const sources: Record<string, string> = {
      crontab: await example('crontab'),
      'ctlake-logins.service': await example('ctlake-logins.service'),
      'cronjob.yaml': await example('cronjob.yaml'),
      'README.md': shellBlocks(await example('README.md')),
    };
    const seen = new Set<string>();
    for (const [file, text] of Object.entries(sources)) {
      const commands = ctlakeCommands(text);
      expect(commands.length, `${file} has a ctlake command`).toBeGreaterThan(0);
      for (const argv of commands) {
        const [command] = argv;
        seen.add(command!);
        for (const flag of flagsOf(argv)) {
          const escaped = flag.replace(/[-]/g, '\\-');
          expect(documented[command!], `${file}: ctlake ${command} --help documents ${flag}`).toMatch(new RegExp(`(^|[\\s,])${escaped}[\\s=,]`, 'm'));
        }
        // Parsing is strict: an unknown flag, or one without its value, is exit 2 before --help is looked at.
        const parsed = await run([...argv, '--help']);
        expect(parsed.stderr, `${file}: ${argv.join(' ')}`).toBe('');
        expect(parsed.code, `${file}: ${argv.join(' ')}`).toBe(0);
      }
    }
    expect([...seen].sort()).toEqual(['backfill', 'export']);
  });

  it('runs one and the same export from cron, systemd and Kubernetes', async () => {
    const commands = await scheduledCommands();
    const withoutSummary = (argv: string[]) => {
      const at = argv.indexOf('--summary-json');
      return at < 0 ? argv : [...argv.slice(0, at), ...argv.slice(at + 2)];
    };
    const [first, ...others] = Object.values(commands).map(withoutSummary);
    for (const argv of others) expect(argv).toEqual(first);
    expect(first).toEqual(expect.arrayContaining(['--window', '--lag', '--since', '--state', '--out', '--log-format']));
    expect(valueOf(first!, '--log-format')).toBe('json');
    expect(valueOf(first!, '--sql-file')).toBe('/etc/ctlake/logins.sql');
  });

  it('keeps the SQL Lake-shaped: placeholders in the WHERE clause, the example store, the same text in the ConfigMap', async () => {
    const sql = await example('logins.sql');
    const code = sql.split('\n').filter((line) => !line.startsWith('--')).join('\n');
    expect(code).toMatch(/WHERE[\s\S]*eventTime >= '\{\{start\}\}' AND eventTime < '\{\{end\}\}'/);
    expect(code).toMatch(/FROM EXAMPLE_EVENT_DATA_STORE_ID\b/);
    expect(code).toMatch(/^SELECT\b[\s\S]*\beventTime\b/m); // --partition-by eventTime:day needs it
    const yaml = await example('cronjob.yaml');
    expect(blockScalar(yaml, 'logins.sql:')).toBe(sql);
  });

  it('grants in iam-policy.json exactly the calls ctlake makes, on the places the job uses', async () => {
    const policy = JSON.parse(await example('iam-policy.json')) as {
      Version: string;
      Statement: Array<{ Sid: string; Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: { StringLike?: Record<string, string[]> } }>;
    };
    expect(policy.Version).toBe('2012-10-17');
    const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      for (const action of list(s.Action)) expect(action, 'no wildcard actions').toMatch(/^(cloudtrail|s3):[A-Z][A-Za-z]+$/);
    }
    const actions = new Set(policy.Statement.flatMap((s) => list(s.Action)));

    // CloudTrail: every operation the export path sends, and nothing else.
    const sourceDir = path.join(ROOT, 'src', 'source');
    const sent = new Set<string>();
    for (const file of await readdir(sourceDir)) {
      for (const m of (await readFile(path.join(sourceDir, file), 'utf8')).matchAll(/new (\w+)Command\(/g)) sent.add(`cloudtrail:${m[1]}`);
    }
    expect([...actions].filter((a) => a.startsWith('cloudtrail:')).sort()).toEqual([...sent].sort());
    expect(sent).toEqual(
      new Set(['cloudtrail:StartQuery', 'cloudtrail:DescribeQuery', 'cloudtrail:GetQueryResults', 'cloudtrail:CancelQuery', 'cloudtrail:ListQueries', 'cloudtrail:GetEventDataStore', 'cloudtrail:ListPublicKeys']),
    );
    // ListPublicKeys (a delivery's signature, --delivery-s3-uri and verify) names no resource: its own statement, on "*".
    expect(policy.Statement.find((s) => s.Sid === 'VerifyLakeDeliveries')).toMatchObject({ Action: 'cloudtrail:ListPublicKeys', Resource: '*' });
    const cloudtrail = policy.Statement.find((s) => list(s.Action).some((a) => a.startsWith('cloudtrail:')))!;
    // The service authorization reference's form: arn:${Partition}:cloudtrail:${Region}:${Account}:eventdatastore/${EventDataStoreId}
    expect(list(cloudtrail.Resource)).toEqual([expect.stringMatching(/^arn:aws:cloudtrail:[a-z]{2}-[a-z]+-\d:\d{12}:eventdatastore\/EXAMPLE_EVENT_DATA_STORE_ID$/)]);

    // S3: the IAM action of every S3 command the destination sends, and of lib-storage's Upload.
    const S3_ACTION: Record<string, string> = {
      PutObject: 's3:PutObject',
      GetObject: 's3:GetObject',
      DeleteObject: 's3:DeleteObject',
      ListObjectsV2: 's3:ListBucket',
      HeadBucket: 's3:ListBucket',
    };
    const s3Source = await readFile(path.join(ROOT, 'src', 'destinations', 's3.ts'), 'utf8');
    const needed = new Set<string>();
    for (const m of s3Source.matchAll(/new (\w+)Command\(/g)) {
      expect(S3_ACTION, `${m[1]}Command is sent: add its IAM action to iam-policy.json and to S3_ACTION`).toHaveProperty(m[1]!);
      needed.add(S3_ACTION[m[1]!]!);
    }
    // Upload: CreateMultipartUpload, UploadPart and CompleteMultipartUpload are s3:PutObject.
    if (/new Upload\(/.test(s3Source)) needed.add('s3:PutObject').add('s3:AbortMultipartUpload');
    expect([...actions].filter((a) => a.startsWith('s3:')).sort()).toEqual([...needed].sort());

    // ... on the places the scheduled job names.
    const argv = (await scheduledCommands())['ctlake-logins.service']!;
    const out = /^s3:\/\/([^/]+)\/(.+\/)$/.exec(valueOf(argv, '--out')!)!;
    const state = /^s3:\/\/([^/]+)\/(.+)$/.exec(valueOf(argv, '--state')!)!;
    const allowed = (action: string, arn: string) =>
      policy.Statement.some((s) => list(s.Action).includes(action) && list(s.Resource).some((r) => new RegExp(`^${r.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(arn)));
    const dataFile = `arn:aws:s3:::${out[1]}/${out[2]}eventdate=2026-01-01/part-00000-20260101T000000Z-20260101T010000Z.parquet`;
    for (const action of ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload']) expect(allowed(action, dataFile), `${action} on the dataset`).toBe(true);
    for (const action of ['s3:PutObject', 's3:GetObject']) expect(allowed(action, `arn:aws:s3:::${state[1]}/${state[2]}`), `${action} on the state`).toBe(true);
    for (const action of ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']) expect(allowed(action, `arn:aws:s3:::${state[1]}/${state[2]}.lock`), `${action} on the lock`).toBe(true);
    const listing = policy.Statement.find((s) => list(s.Action).includes('s3:ListBucket'))!;
    expect(listing.Resource).toBe(`arn:aws:s3:::${out[1]}`);
    const prefixes = listing.Condition?.StringLike?.['s3:prefix'] ?? [];
    const listable = (prefix: string) => prefixes.some((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(prefix));
    expect(listable(out[2]!), 'ListBucket on the dataset prefix').toBe(true);
    expect(listable(state[2]!), 'ListBucket on the state, for a 404 before the first run').toBe(true);
  });

  it('has a systemd oneshot service for which exit 6 is success, hardened, and a 15-minute timer', async () => {
    const service = await example('ctlake-logins.service');
    const timer = await example('ctlake-logins.timer');
    expect(unitValues(service, 'Type')).toEqual(['oneshot']);
    expect(unitValues(service, 'SuccessExitStatus').join(' ').split(/\s+/)).toContain('6');
    expect(unitValues(service, 'Environment').some((e) => /^AWS_REGION=[a-z]{2}-[a-z]+-\d$/.test(e))).toBe(true);
    expect(unitValues(service, 'ProtectSystem')).toEqual(['strict']);
    expect(unitValues(service, 'NoNewPrivileges')).toEqual(['yes']);
    expect(unitValues(service, 'DynamicUser')).toEqual(['yes']);
    // V8 writes, then executes, its compiled code: this would kill node.
    expect(unitValues(service, 'MemoryDenyWriteExecute')).toEqual([]);
    // The one local write, --summary-json, goes to the unit's StateDirectory.
    const [stateDirectory] = unitValues(service, 'StateDirectory');
    const summary = valueOf((await scheduledCommands())['ctlake-logins.service']!, '--summary-json');
    expect(summary).toMatch(new RegExp(`^/var/lib/${stateDirectory}/[^/]+\\.json$`));

    expect(unitValues(timer, 'OnCalendar')).toEqual(['*:0/15']);
    expect(unitValues(timer, 'Persistent')).toEqual(['true']);
    expect(Number(unitValues(timer, 'RandomizedDelaySec')[0])).toBeLessThanOrEqual(120);
    expect(unitValues(timer, 'Unit')).toEqual(['ctlake-logins.service']);
  });

  it('has a CronJob that never overlaps, runs as the IRSA service account and mounts the SQL where the command reads it', async () => {
    const yaml = await example('cronjob.yaml');
    expect(yaml).toMatch(/^\s+concurrencyPolicy: Forbid$/m);
    expect(yaml).toMatch(/^\s+schedule: "\*\/15 \* \* \* \*"$/m);
    expect(yaml).toMatch(/^\s+eks\.amazonaws\.com\/role-arn: arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/m);
    const account = /^\s+name: (\S+)\n\s+namespace: \S+\n\s+annotations:\n\s+eks\.amazonaws\.com\/role-arn:/m.exec(yaml)?.[1];
    expect(yaml).toMatch(new RegExp(`^\\s+serviceAccountName: ${account}$`, 'm'));
    const mountPath = /^\s+mountPath: (\S+)$/m.exec(yaml)?.[1];
    expect(valueOf((await scheduledCommands())['cronjob.yaml']!, '--sql-file')).toBe(`${mountPath}/logins.sql`);
  });

  describe('exit-code handling, run with a stand-in ctlake', () => {
    let fakeDir: string;
    beforeAll(async () => {
      fakeDir = path.join(dir, 'bin');
      await mkdir(fakeDir);
      // Exits with FAKE_RC; with FAKE_RC=wait, says so and waits for SIGTERM, then exits 130 as ctlake does.
      await writeFile(
        path.join(fakeDir, 'ctlake'),
        [
          '#!/bin/sh',
          'echo "stderr of ctlake" >&2',
          'if [ "$FAKE_RC" = wait ]; then',
          '  sleep 30 & s=$!',
          `  trap 'kill $s; echo TERM > "$FAKE_SIGNALS"; exit 130' TERM`,
          '  echo ready > "$FAKE_READY"',
          '  wait $s',
          'fi',
          'exit "$FAKE_RC"',
          '',
        ].join('\n'),
      );
      await chmod(path.join(fakeDir, 'ctlake'), 0o755);
    });

    it('the CronJob wrapper reports exit 6 as success and passes every other code on', async () => {
      const script = blockScalar(await example('cronjob.yaml'), '-');
      for (const [rc, expected] of [[0, 0], [6, 0], [7, 7], [8, 8], [1, 1], [2, 2], [3, 3]] as const) {
        const { done } = runWithFakeCtlake(script, fakeDir, { FAKE_RC: String(rc) });
        expect((await done).code, `ctlake exit ${rc}`).toBe(expected);
      }
    });

    it('the CronJob wrapper, as PID 1 gets SIGTERM, passes it to ctlake and exits with its code', async () => {
      const script = blockScalar(await example('cronjob.yaml'), '-');
      const ready = path.join(dir, 'ready');
      const signals = path.join(dir, 'signals');
      const { child, done } = runWithFakeCtlake(script, fakeDir, { FAKE_RC: 'wait', FAKE_READY: ready, FAKE_SIGNALS: signals });
      for (let i = 0; i < 500 && !(await readFile(ready, 'utf8').catch(() => '')); i++) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGTERM');
      expect((await done).code).toBe(130);
      expect(await readFile(signals, 'utf8')).toBe('TERM\n');
    });

    it('the crontab line prints (cron mails) only for exits other than 0 and 6, and appends stderr to its log', async () => {
      const crontab = await example('crontab');
      const line = crontab.split('\n').find((l) => /^[*\d]/.test(l))!;
      expect(line.split(/\s+/).slice(0, 5).join(' ')).toBe('*/15 * * * *');
      expect(line).not.toContain('%');
      expect(line).not.toMatch(/\bflock\b/);
      const logFile = /2>>(\S+);/.exec(line)?.[1];
      expect(logFile).toBeDefined();
      const log = path.join(dir, 'cron.log');
      const command = line.split(/\s+/).slice(5).join(' ').replaceAll(logFile!, log);
      for (const rc of [0, 6, 7, 8, 1]) {
        const { done } = runWithFakeCtlake(command, fakeDir, { FAKE_RC: String(rc) });
        const result = await done;
        if (rc === 0 || rc === 6) expect(result.stdout(), `exit ${rc}`).toBe('');
        else expect(result.stdout()).toBe(`ctlake-logins exited ${rc}; see ${log}\n`);
      }
      expect((await readFile(log, 'utf8')).split('\n').filter(Boolean)).toHaveLength(5);
    });
  });

  describe('the job against the emulator and a local S3', () => {
    let emulator: Emulator;
    let s3: TestS3;
    let logins: number;
    beforeAll(async () => {
      // The sample's events moved to the job's --since: 3000 over four hours, about 100 sign-ins.
      const events = [...sampleEvents(3000, { seed: 11, start: new Date('2026-01-01T00:00:00Z'), spanMs: 4 * 3_600_000 })];
      logins = events.filter((e) => e.eventName === 'ConsoleLogin' && (e.eventTime as string) < '2026-01-01T03:00:00Z').length;
      await writeFile(path.join(dir, 'events.ndjson'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      emulator = await startEmulator({ events: [path.join(dir, 'events.ndjson')] });
      s3 = await startS3('example-bucket');
    });
    afterAll(async () => {
      await emulator?.close();
      await s3?.close();
    });

    it('exports the closed hours with the systemd unit\'s command, exits 6 on the next run, and verifies', async () => {
      const argv = [...(await scheduledCommands())['ctlake-logins.service']!];
      // Only what must differ on a test machine: the SQL's store, the summary's folder, the clock and the S3 endpoint.
      const sqlFile = path.join(dir, 'logins.sql');
      await writeFile(sqlFile, (await example('logins.sql')).replaceAll('EXAMPLE_EVENT_DATA_STORE_ID', emulator.eventDataStoreId));
      const summaryFile = path.join(dir, 'summary.json');
      argv[argv.indexOf('--sql-file') + 1] = sqlFile;
      argv[argv.indexOf('--summary-json') + 1] = summaryFile;
      const env = { ...emulatorEnv(emulator), AWS_ENDPOINT_URL_S3: s3.url };
      const args = [...argv, '--now', '2026-01-01T03:20:00Z', '--s3-force-path-style'];

      const first = await run(args, env);
      expect(first.code, first.stderr).toBe(0);
      const lines = first.stderr.trim().split('\n').map((l) => JSON.parse(l) as { event: string; level: string });
      expect(lines.filter((l) => l.event === 'window-done')).toHaveLength(3);
      const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as { status: string; exportedUntil: string; windows: Array<{ rows: number }> };
      expect(summary).toMatchObject({ status: 'exported', exportedUntil: '2026-01-01T03:00:00Z' });
      expect(summary.windows.reduce((n, w) => n + w.rows, 0)).toBe(logins);
      expect(logins).toBeGreaterThan(20);

      const second = await run(args, env);
      expect(second.code).toBe(6);
      expect(JSON.parse(second.stderr.trim().split('\n').pop()!)).toMatchObject({ event: 'summary', status: 'nothing', exportedUntil: '2026-01-01T03:00:00Z' });

      const verify = await run(['verify', valueOf(argv, '--out')!, '--s3-force-path-style'], env);
      expect(verify.code, verify.stdout).toBe(0);

      // The rows are sign-ins, with the columns the SQL names.
      const keys = (await s3.keys('lake/logins/')).filter((k) => k.endsWith('.parquet'));
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.startsWith('lake/logins/eventdate=2026-01-01/'))).toBe(true);
      for (const [i, key] of keys.entries()) await writeFile(path.join(dir, `part-${i}.parquet`), await s3.get(key));
      const db = await duckdb();
      try {
        const rows = await query(db, `SELECT loginResult, count(*)::INTEGER AS n, count(DISTINCT eventID)::INTEGER AS ids FROM read_parquet('${dir}/part-*.parquet') GROUP BY ALL ORDER BY 1`);
        expect(rows.map((r) => r.loginResult)).toEqual(['Failure', 'Success']);
        expect(rows.reduce((n, r) => n + (r.n as number), 0)).toBe(logins);
        expect(rows.reduce((n, r) => n + (r.ids as number), 0)).toBe(logins);
      } finally {
        db.closeSync();
      }
    });
  });
});
