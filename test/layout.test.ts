import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house rules of src/ (STYLE.md), checked over the source tree: the data
 * takes one path and the folders follow it in order, so a folder imports only
 * the folders before it; no files import each other in a circle, type imports
 * included; nothing but the CLI imports the emulator; and loading `ctlake`
 * loads neither the emulator, DuckDB nor the S3 client until they are used.
 */
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/** The layers in the order the data takes; root files (errors, version, lake-model) are below them all. */
const LAYERS = ['source', 'rows', 'formats', 'destinations', 'dataset', 'export', 'jobs', 'emulator', 'cli'];

function walk(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? walk(full, ext) : ext.test(e.name) ? [full] : [];
  });
}

/** Every module a file names in an import or export, static or dynamic, type-only included. */
function imports(file: string, staticOnly = false): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  if (!staticOnly) for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

function resolveLocal(from: string, spec: string, ext: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return path.resolve(path.dirname(from), spec).replace(/\.js$/, ext);
}

/** The layer of a file in src/: its folder's rank, -1 for root files, LAYERS.length for index.ts. */
function rank(file: string): number {
  const rel = path.relative(SRC, file);
  const folder = rel.includes(path.sep) ? rel.split(path.sep)[0]! : undefined;
  if (folder === undefined) return rel === 'index.ts' ? LAYERS.length : -1;
  const r = LAYERS.indexOf(folder);
  if (r < 0) throw new Error(`src/${rel}: folder ${folder} is not one of the layers ${LAYERS.join(', ')}; add it to STYLE.md and here`);
  return r;
}

const files = walk(SRC, /\.ts$/);
const graph = new Map(files.map((f) => [f, imports(f).map((s) => resolveLocal(f, s, '.ts')).filter((t): t is string => t !== undefined)]));
const rel = (f: string) => path.relative(path.join(SRC, '..'), f);

describe('the layout of src/', () => {
  it('has no upward import: a folder imports only the folders before it', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const [a, b] = [rank(file), rank(target)];
        if (b > a && !(file.endsWith(`${path.sep}index.ts`) && a === LAYERS.length)) upward.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files, type imports included', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const target of graph.get(file) ?? []) {
        if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target].map(rel).join(' -> '));
        else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it('lets only the CLI import the emulator; index.ts does not', () => {
    const importers = [...graph].flatMap(([file, targets]) =>
      targets.some((t) => rank(t) === LAYERS.indexOf('emulator')) && ![LAYERS.indexOf('emulator'), LAYERS.indexOf('cli')].includes(rank(file)) ? [rel(file)] : [],
    );
    expect(importers).toEqual([]);
  });

  it("loads neither the emulator, DuckDB nor the S3 client when 'ctlake' is imported (static imports of dist/index.js)", () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of imports(file, true)) {
        const local = resolveLocal(file, spec, '.js');
        if (local) visit(local);
        else bare.add(spec);
      }
    };
    visit(path.join(DIST, 'index.js'));
    const loaded = [...seen].map((f) => path.relative(DIST, f));
    expect(loaded.filter((f) => f.startsWith(`emulator${path.sep}`))).toEqual([]);
    expect([...bare].filter((s) => s.startsWith('@duckdb/') || s === '@aws-sdk/client-s3' || s === '@aws-sdk/lib-storage')).toEqual([]);
  });
});
