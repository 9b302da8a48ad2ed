import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './support/cli-process.js';
import { docBlocks, exportedVariables, headingAnchors, relativeLinks, requirements, type DocBlock } from './support/doc-blocks.js';
import { withEmulator } from './support/lake.js';

// Every block of README.md and docs/*.md marked `run` (```sh run, ```js run,
// ```python run) runs here as it is written, so the docs cannot rot. The
// convention is in CONTRIBUTING.md, "Runnable blocks".

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const BLOCKS = PAGES.flatMap((page) => docBlocks(page, readFileSync(path.join(ROOT, page), 'utf8')));
const RUNNABLE = BLOCKS.filter((b) => b.words[0] === 'run');
const ENV_BLOCKS = BLOCKS.filter((b) => b.words[0] === 'env');

/** What the README's env block tells a user to set, from the emulator the test started. */
const DOC_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
/** `ctlake emulator`'s default: 1,000 sample events, seed 1. */
const SAMPLE = 1000;
const BLOCK_TIMEOUT_MS = 45_000;

/** A Python with boto3, as test/emulator/boto3.test.ts finds one (Debian's python3-boto3 is for /usr/bin/python3). */
const PYTHON_WITH_BOTO3 = ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0);
const PYTHON = PYTHON_WITH_BOTO3 ?? 'python3';
/** Whether a `requires=` tool is here; checked once, when the file is collected. */
const AVAILABLE: Record<string, boolean> = {
  aws: spawnSync('sh', ['-c', 'command -v aws && aws --version'], { stdio: 'ignore' }).status === 0,
  boto3: PYTHON_WITH_BOTO3 !== undefined,
};
const missing = (block: DocBlock) => requirements(block).filter((tool) => !AVAILABLE[tool]);

let work: string;
let binDir: string;
let moduleDir: string;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  work = await mkdtemp(path.join(tmpdir(), 'ctlake-docs-'));
  // `ctlake` on PATH: the built CLI, as `npm install -g .` would put it there.
  binDir = path.join(work, 'bin');
  await mkdir(binDir);
  const shim = path.join(binDir, 'ctlake');
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  await chmod(shim, 0o755);
  // `import ... from 'ctlake'` resolves to this checkout, through package.json's exports map.
  moduleDir = path.join(work, 'mod');
  await mkdir(path.join(moduleDir, 'node_modules'), { recursive: true });
  await symlink(ROOT, path.join(moduleDir, 'node_modules', 'ctlake'), 'dir');
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one command in its own process group, and kills the group when the
 * command ends or times out, so that a block's background processes (an
 * emulator started with `&`) never outlive it.
 */
function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(killGroup, BLOCK_TIMEOUT_MS - 5_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      killGroup();
      resolve({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const tail = (text: string, lines = 30) => text.trimEnd().split('\n').slice(-lines).join('\n');

async function runBlock(block: DocBlock): Promise<Run> {
  const emulator = await withEmulator({ sample: SAMPLE });
  try {
    const env: Record<string, string> = {
      PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? work,
      AWS_ENDPOINT_URL_CLOUDTRAIL: emulator.url,
      ...DOC_ENV,
      EDS: emulator.eventDataStoreId,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const name = `${block.file.replace(/\W/g, '_')}-${block.line}`;
    // JS blocks live under moduleDir, so that node finds node_modules/ctlake above them.
    const dir = path.join(block.lang === 'js' || block.lang === 'mjs' ? moduleDir : work, name);
    await mkdir(dir, { recursive: true });
    switch (block.lang) {
      case 'sh':
        await writeFile(path.join(dir, '.block.sh'), block.code);
        return await run('sh', ['-e', '.block.sh'], dir, env);
      case 'js':
      case 'mjs':
        await writeFile(path.join(dir, '.block.mjs'), block.code);
        return await run(process.execPath, ['.block.mjs'], dir, env);
      case 'python':
        await writeFile(path.join(dir, '.block.py'), block.code);
        return await run(PYTHON, ['.block.py'], dir, env);
      default:
        throw new Error(`${block.file}:${block.line}: a runnable block must be sh, js, mjs or python, not '${block.lang}'`);
    }
  } finally {
    await emulator.close();
  }
}

describe('the docs’ runnable blocks', () => {
  it('are found: README.md and every docs page have some', () => {
    expect(RUNNABLE.length).toBeGreaterThanOrEqual(15);
    for (const page of PAGES) expect(RUNNABLE.some((b) => b.file === page), `${page} has no runnable block`).toBe(true);
  });

  it('assume only the environment that the README tells a user to set', () => {
    expect(ENV_BLOCKS.length).toBeGreaterThan(0);
    const provided = new Map<string, string>(Object.entries({ ...DOC_ENV, EDS: '00000000-0000-4000-8000-0000000ed500' }));
    for (const block of ENV_BLOCKS) {
      const vars = exportedVariables(block);
      expect([...vars.keys()].sort(), `${block.file}:${block.line}`).toEqual(['AWS_ENDPOINT_URL_CLOUDTRAIL', ...provided.keys()].sort());
      expect(vars.get('AWS_ENDPOINT_URL_CLOUDTRAIL')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      for (const [name, value] of provided) expect(vars.get(name), `${block.file}:${block.line} ${name}`).toBe(value);
    }
  });
});

describe('the docs’ links', () => {
  const pages = [...PAGES, 'CONTRIBUTING.md', 'bench/README.md'];
  it.each(pages)('%s: every relative link reaches a file, and its #anchor a heading', (page) => {
    const broken: string[] = [];
    for (const { line, target } of relativeLinks(readFileSync(path.join(ROOT, page), 'utf8'))) {
      const [file = '', anchor] = target.split('#');
      const resolved = file === '' ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), file);
      if (!existsSync(resolved)) broken.push(`${page}:${line} ${target}: no such file`);
      else if (anchor !== undefined && resolved.endsWith('.md') && !headingAnchors(readFileSync(resolved, 'utf8')).has(anchor))
        broken.push(`${page}:${line} ${target}: no such heading`);
    }
    expect(broken).toEqual([]);
  });
});

describe.concurrent('runnable block', () => {
  for (const block of RUNNABLE) {
    const absent = missing(block);
    const title = `${block.file}:${block.line} ${block.lang}${absent.length ? ` (skipped: needs ${absent.join(', ')})` : ''}`;
    it.skipIf(absent.length > 0)(
      title,
      async () => {
        const result = await runBlock(block);
        const report = [`${block.file}:${block.line} exited ${result.status ?? result.signal}`, '--- block', block.code, '--- stdout', tail(result.stdout), '--- stderr', tail(result.stderr)].join('\n');
        expect(result.status, report).toBe(0);
      },
      BLOCK_TIMEOUT_MS,
    );
  }
});
