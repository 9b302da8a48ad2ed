import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/server.js';

/**
 * The package as a user gets it: `npm pack` of this checkout (dist/ built by
 * `npm test`), installed globally into an empty prefix and into fresh
 * projects, with npm's cache first (`--prefer-offline`: `npm ci` has put
 * every dependency there, so nothing is fetched unless the registry has a
 * newer patch in range).
 */
const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const NPM_ENV = { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' };

let dir: string;
let tarball: string;
let prefix: string;
let emulator: Emulator;

async function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return run('npm', args, { cwd, env: NPM_ENV, maxBuffer: 64 << 20 });
}

/**
 * The bytes of every file under `path`, and its size as `du` counts it on a
 * file system of 4 KiB blocks: each file and each directory rounded up to
 * whole blocks. The install is some 5,000 small files, so the second is the
 * figure a user sees (`du -sh`), about half again the first; it is computed
 * here rather than read from `du` so that it does not depend on the file
 * system the test runs on.
 */
async function sizeOf(path: string): Promise<{ bytes: number; blocks: number }> {
  const info = await stat(path);
  const own = { bytes: info.isDirectory() ? 0 : info.size, blocks: Math.max(1, Math.ceil(info.size / 4096)) * 4096 };
  if (!info.isDirectory()) return own;
  for (const entry of await readdir(path)) {
    const child = await sizeOf(join(path, entry));
    own.bytes += child.bytes;
    own.blocks += child.blocks;
  }
  return own;
}

async function findAll(path: string, name: string, found: string[] = []): Promise<string[]> {
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const child = join(path, entry.name);
    if (child.endsWith(name)) found.push(child);
    else await findAll(child, name, found);
  }
  return found;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctlake-install-'));
  const { stdout } = await npm(['pack', '--json', '--pack-destination', dir], ROOT);
  tarball = join(dir, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
  prefix = join(dir, 'prefix');
  await npm(['install', '--global', '--prefer-offline', '--prefix', prefix, tarball], dir);
  emulator = await startEmulator({ sample: 50 });
}, 240_000);

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds dist/, the licence and the manifest fields, with no install-time script and no source map without its source', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n');
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/cli/bin.js');
    expect(files.some((f) => f.startsWith('package/src/'))).toBe(false);
    const { stdout: manifest } = await run('tar', ['-xzOf', tarball, 'package/package.json']);
    const pkg = JSON.parse(manifest) as Record<string, unknown> & { scripts?: Record<string, string> };
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts?.[script]).toBeUndefined();
    expect(pkg.repository).toBeTruthy();
    expect(pkg.homepage).toBeTruthy();
    expect(pkg.bugs).toBeTruthy();
    expect(pkg.types).toBe('./dist/index.d.ts');
    // A map is shipped only with its sources inside it.
    const { stdout: map } = await run('tar', ['-xzOf', tarball, 'package/dist/index.js.map']).catch(() => ({ stdout: '' }));
    if (map) expect((JSON.parse(map) as { sourcesContent?: unknown[] }).sourcesContent?.length).toBeGreaterThan(0);
  });

  it('installs globally in well under 60 MB, with one copy of each SDK core package and without DuckDB', async () => {
    const modules = join(prefix, 'lib/node_modules');
    // With the AWS SDK 3.1137.0: 47.2 MiB as du counts it and 27.8 MiB of file bytes (60.2 and 40.4 before the
    // cut copies of parquet-wasm and antlr4ng); the rest is headroom for SDK patches within range.
    const { bytes, blocks } = await sizeOf(prefix);
    expect(blocks).toBeLessThan(50 * 1024 * 1024);
    expect(bytes).toBeLessThan(31 * 1024 * 1024);
    expect(await findAll(modules, join('@smithy', 'core'))).toHaveLength(1);
    expect(await findAll(modules, join('@aws-sdk', 'core'))).toHaveLength(1);
    expect(await findAll(modules, '@duckdb')).toHaveLength(0);
  });

  it('carries its own cut copies of antlr4ng and parquet-wasm, with their licences, and installs neither nor the antlr4ng-cli jar', async () => {
    const modules = join(prefix, 'lib/node_modules');
    const vendored = join(modules, 'ctlake/dist/node_modules');
    for (const name of ['antlr4ng', 'antlr4ng-cli', 'parquet-wasm']) {
      const installed = (await findAll(modules, join('node_modules', name))).filter((at) => !at.startsWith(vendored));
      expect(installed).toEqual([]);
    }
    expect((await readdir(vendored)).sort()).toEqual(['antlr4ng', 'parquet-wasm']);
    expect(await readdir(join(vendored, 'antlr4ng'))).toContain('LICENSE.txt');
    expect(await readdir(join(vendored, 'parquet-wasm'))).toEqual(expect.arrayContaining(['LICENSE_APACHE', 'LICENSE_MIT']));
    expect((await readdir(join(vendored, 'parquet-wasm/node'))).sort()).toEqual(['package.json', 'parquet_wasm.js', 'parquet_wasm_bg.wasm']);
    const { stdout } = await run('tar', ['-xzOf', tarball, 'package/package.json']);
    const pkg = JSON.parse(stdout) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('antlr4ng');
    expect(Object.keys(pkg.dependencies)).not.toContain('parquet-wasm');
  });

  it('runs --help, --version and an export against the emulator from the installed bin', async () => {
    const bin = join(prefix, 'bin/ctlake');
    const help = await run(bin, ['--help']);
    expect(help.stdout).toMatch(/^Usage: ctlake <command>/);
    expect(help.stdout).toContain('export');
    const version = await run(bin, ['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const env = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_CLOUDTRAIL: emulator.url };
    const { stdout } = await run(bin, ['export', '--sql', `SELECT eventName FROM ${emulator.eventDataStoreId} ORDER BY eventTime LIMIT 7`, '--out', '-'], { env });
    expect(stdout.trim().split('\n')).toHaveLength(7);
    // Parquet goes through both cut copies: the Trino parser (antlr4ng) types the SELECT list, parquet-wasm writes.
    const file = join(dir, 'seven.parquet');
    await run(bin, ['export', '--sql', `SELECT eventName, eventTime FROM ${emulator.eventDataStoreId} ORDER BY eventTime LIMIT 7`, '--out', file], { env });
    const bytes = await readFile(file);
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    expect(bytes.subarray(-4).toString()).toBe('PAR1');
  });

  it('says how to add DuckDB for the emulator, and the emulator runs after that one command', async () => {
    const bin = join(prefix, 'bin/ctlake');
    const failed = await run(bin, ['emulator', '--sample', '1']).then(
      () => undefined,
      (error: { stderr: string; code: number }) => error,
    );
    expect(failed?.stderr).toMatch(/npm install --global @duckdb\/node-api@\S+/);
    const command = /npm install --global (@duckdb\/node-api@\S+)/.exec(failed!.stderr)![1]!;
    await npm(['install', '--global', '--prefer-offline', '--prefix', prefix, command], dir);
    const child = execFile(bin, ['emulator', '--sample', '3']);
    const header = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('events')) resolve(text);
      });
      child.on('exit', () => reject(new Error(`the emulator exited: ${text}`)));
    });
    child.kill('SIGTERM');
    expect(header).toMatch(/endpoint\s+http:\/\/127\.0\.0\.1:\d+/);
  }, 120_000);
});

describe('TypeScript and CommonJS consumers', () => {
  let project: string;

  beforeAll(async () => {
    project = join(dir, 'consumers');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), '{"name":"consumers","private":true}\n');
    await npm(['install', '--prefer-offline', tarball, '@types/node@20'], project);
  }, 240_000);

  /** A fresh project in a folder of its own, resolving ctlake from the shared install above it. */
  async function setup(name: string, type: 'module' | 'commonjs', compilerOptions: Record<string, unknown>, source: string, file: string) {
    const at = join(project, name);
    await mkdir(at);
    await writeFile(join(at, 'package.json'), JSON.stringify({ name, private: true, type }));
    await writeFile(join(at, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, outDir: 'out', types: ['node'], skipLibCheck: false, ...compilerOptions }, files: [file] }));
    await writeFile(join(at, file), source);
    return at;
  }

  const ESM = `import { exportQuery, CtlakeError } from 'ctlake';\nimport { startEmulator } from 'ctlake/emulator';\nconst f: typeof exportQuery = exportQuery;\nconsole.log(typeof f, typeof startEmulator, CtlakeError.name);\n`;
  const CJS = `import { exportQuery, CtlakeError } from 'ctlake';\nconst f: typeof exportQuery = exportQuery;\nconsole.log(typeof f, CtlakeError.name);\n`;

  it('compiles and runs as ESM under module nodenext', async () => {
    const at = await setup('esm-nodenext', 'module', { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022' }, ESM, 'main.ts');
    await run(process.execPath, [TSC, '-p', at]);
    const { stdout } = await run(process.execPath, [join(at, 'out/main.js')]);
    expect(stdout.trim()).toBe('function function CtlakeError');
  });

  it('finds the types under moduleResolution node10 (top-level types, typesVersions for the subpaths)', async () => {
    const at = await setup('cjs-node10', 'commonjs', { module: 'commonjs', moduleResolution: 'node10', target: 'es2022', noEmit: true }, ESM, 'main.ts');
    await run(process.execPath, [TSC, '-p', at]);
  });

  it('compiles and runs as CommonJS under module node20 (require of an ES module, Node 20.19 or later)', async () => {
    const at = await setup('cjs-node20', 'commonjs', { module: 'node20', moduleResolution: 'node16', target: 'es2022' }, CJS, 'main.cts');
    await run(process.execPath, [TSC, '-p', at]);
    const { stdout } = await run(process.execPath, [join(at, 'out/main.cjs')]);
    expect(stdout.trim()).toBe('function CtlakeError');
  });

  it('fails under module node16 as CommonJS with the TS1479 that the README documents', async () => {
    const at = await setup('cjs-node16', 'commonjs', { module: 'node16', moduleResolution: 'node16', target: 'es2022', noEmit: true }, CJS, 'main.cts');
    const error = await run(process.execPath, [TSC, '-p', at]).then(
      () => undefined,
      (e: { stdout: string }) => e,
    );
    expect(error?.stdout).toContain('TS1479');
    const readme = await import('node:fs/promises').then((fs) => fs.readFile(join(ROOT, 'README.md'), 'utf8'));
    expect(readme).toContain('TS1479');
  });
});
