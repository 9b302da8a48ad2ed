import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './support/cli-process.js';
import { DIST, resolvedModules, writeResolveHook } from './support/resolve-log.js';

/**
 * `ctlake --version`, `ctlake --help` and a usage error load no command:
 * no AWS SDK, no Parquet writer (parquet-wasm, apache-arrow), no emulator.
 * Proved twice over the built CLI: by the static imports of dist/cli/bin.js
 * (what loads before main() runs), and by a real process whose every module
 * resolution is recorded by a resolve hook (module.register), which also
 * sees the dynamic imports the registry makes.
 */
const HEAVY = /^(@aws-sdk\/|@smithy\/|@duckdb\/|parquet-wasm|apache-arrow|p-retry)/;

/** The modules a built file imports statically (import ... from, export ... from, bare import). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  return found;
}

describe('the ctlake command loads a command only when it runs', () => {
  it('imports, statically from dist/cli/bin.js, only the CLI shell and root files: no library layer, no package', () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of staticImports(file)) {
        if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
        else bare.add(spec);
      }
    };
    visit(path.join(DIST, 'cli', 'bin.js'));
    const files = [...seen].map((f) => path.relative(DIST, f).split(path.sep).join('/')).sort();
    // The shell: bin, main, the registry, the flag table, exit codes, the error printer's helpers, and root files.
    expect(files.filter((f) => f.includes('/') && !f.startsWith('cli/'))).toEqual([]);
    expect(files).toContain('cli/commands.js');
    expect(files.filter((f) => /-command|-commands|export-settings|progress/.test(f))).toEqual([]);
    expect([...bare].filter((s) => !s.startsWith('node:'))).toEqual([]);
  });

  describe('as a process, with every module resolution recorded', () => {
    let dir: string;
    let hook: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'ctlake-lazy-'));
      hook = await writeResolveHook(dir);
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    async function loaded(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; modules: string[] }> {
      const log = path.join(dir, `${args.join('_').replace(/[^a-z_-]/gi, '') || 'bare'}.log`);
      await writeFile(log, '');
      const child = spawn(process.execPath, ['--import', hook, BIN, ...args], {
        env: { PATH: process.env.PATH ?? '', RESOLVE_LOG: log },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      const modules = await resolvedModules(log);
      return { status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), modules };
    }

    /** Only the shell is loaded: files of dist/cli/ and dist/'s root files that are not commands, and node: built-ins. */
    function expectShellOnly(modules: string[]) {
      const outside = modules.filter((m) => !m.startsWith('node:') && !(m.startsWith('cli/') || !m.includes('/')));
      expect(outside).toEqual([]);
      expect(modules.filter((m) => /-command|-commands|export-settings|export-table|progress|emulator/.test(m))).toEqual([]);
      expect(modules.filter((m) => HEAVY.test(m) || m.includes('node_modules'))).toEqual([]);
    }

    it('records the modules an export loads (the hook sees dynamic imports and packages)', async () => {
      const { status, modules } = await loaded(['export', '--help']);
      expect(status).toBe(0);
      expect(modules).toContain('cli/export-command.js');
      expect(modules.some((m) => m.includes('node_modules/@aws-sdk/'))).toBe(true);
      expect(modules.some((m) => m.includes('node_modules/parquet-wasm/') || m.includes('node_modules/apache-arrow/'))).toBe(true);
    });

    it.each([[['--version']], [['--help']], [['-h']], [[]], [['help']], [['frobnicate']], [['help', 'nosuch']]])('loads no command for ctlake %j', async (args) => {
      const { status, stdout, stderr, modules } = await loaded(args);
      expect(modules).toContain('cli/main.js');
      expectShellOnly(modules);
      if (args[0] === '--version') expect({ status, stdout, stderr }).toMatchObject({ status: 0, stderr: '' });
      else if (args.length === 0 || args[0] === 'frobnicate' || args[1] === 'nosuch') expect({ status, stdout }).toEqual({ status: 2, stdout: '' });
      else expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    });
  });
});
