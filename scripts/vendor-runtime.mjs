#!/usr/bin/env node
/**
 * Ships the one build ctlake loads of two runtime packages inside the packed
 * package, at dist/node_modules/<name>/, instead of installing them as
 * dependencies:
 *
 * - parquet-wasm ships the same 4.9 MB WebAssembly module three times
 *   (bundler/, esm/, node/); Node loads only node/ (its "node" export).
 *   Copying node/ alone saves 10 MB of the installed size.
 * - antlr4ng 2.0.11 (the runtime the vendored Trino parser was generated
 *   for; 3.x drops APIs ctlake and the parser use) declares a required peer,
 *   antlr4ng-cli, a 2 MB ANTLR jar that npm installs and nothing runs. Its
 *   ESM build alone is 0.4 MB of its 1.6.
 *
 * Node (and TypeScript) find dist/node_modules/<name> by the ordinary
 * node_modules lookup from dist/**, so `import ... from 'antlr4ng'` in
 * dist/rows/ and dist/vendor/trino-sql/ and `from 'parquet-wasm'` in
 * dist/formats/ resolve to these copies in an installed ctlake, with no
 * change to the sources. Both packages are devDependencies pinned exactly;
 * the copy is taken from node_modules and must match the pin.
 *
 * Each copy keeps the package's licence files, a package.json cut to its
 * name, version, licence and the one export used, and a README.md saying
 * what was taken. Type declarations are left out: no declaration reachable
 * from ctlake's public entry points (`ctlake`, `ctlake/emulator`,
 * `ctlake/s3`) imports either package, which the install test's TypeScript
 * consumers (skipLibCheck off) would reveal.
 *
 * Steps: `add` runs at `prepack` (after the manifest is stripped), `remove`
 * at `postpack` and at the start of `npm run build`. In a checkout dist/
 * therefore resolves both packages from the root node_modules, the one copy
 * the tests from src/ also load; only the tarball carries the cut copies,
 * which test/package.install.test.ts installs and runs.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'dist', 'node_modules');

/**
 * What is taken of each package: its files (relative to the package root)
 * and the `exports` of the cut package.json, which name only those files.
 */
const PACKAGES = [
  {
    name: 'antlr4ng',
    files: ['LICENSE.txt', 'dist/index.mjs'],
    exports: { '.': './dist/index.mjs' },
    why: 'with its ES module build (dist/index.mjs) only: no CommonJS build, no type declarations, no antlr4ng-cli peer',
  },
  {
    name: 'parquet-wasm',
    files: ['LICENSE_APACHE', 'LICENSE_MIT', 'node/package.json', 'node/parquet_wasm.js', 'node/parquet_wasm_bg.wasm'],
    exports: { '.': './node/parquet_wasm.js' },
    why: 'with its Node build (node/, what its "node" export condition loads) only: no bundler/ or esm/ build, no type declarations',
  },
];

/** The exact version package.json pins for `name` (a devDependency). */
function pinned(manifest, name) {
  const version = manifest.devDependencies?.[name] ?? manifest.dependencies?.[name];
  if (!/^\d+\.\d+\.\d+$/.test(version ?? '')) throw new Error(`package.json must pin ${name} to an exact version, found ${version}`);
  return version;
}

function add() {
  rmSync(OUT, { recursive: true, force: true });
  // At prepack the manifest is already stripped of devDependencies: read the pins from the kept original.
  const original = path.join(ROOT, '.package.json.orig');
  const manifest = JSON.parse(readFileSync(existsSync(original) ? original : path.join(ROOT, 'package.json'), 'utf8'));
  for (const { name, files, exports, why } of PACKAGES) {
    const from = path.join(ROOT, 'node_modules', name);
    const pkg = JSON.parse(readFileSync(path.join(from, 'package.json'), 'utf8'));
    const version = pinned(manifest, name);
    if (pkg.version !== version) throw new Error(`node_modules/${name} is ${pkg.version}, package.json pins ${version}: run npm ci`);
    const to = path.join(OUT, name);
    for (const file of files) {
      if (!existsSync(path.join(from, file))) throw new Error(`${name} ${version} has no ${file}: update scripts/vendor-runtime.mjs`);
      mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
      cpSync(path.join(from, file), path.join(to, file));
    }
    const cut = { name, version, license: pkg.license, type: pkg.type, exports };
    writeFileSync(path.join(to, 'package.json'), `${JSON.stringify(cut, null, 2)}\n`);
    writeFileSync(
      path.join(to, 'README.md'),
      [
        `# ${name} ${version} (cut)`,
        '',
        `A copy of ${name} ${version} (${pkg.license}; see the licence file here) ${why}.`,
        "Put here by ctlake's scripts/vendor-runtime.mjs when ctlake is packed. Upstream:",
        `${typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url}.`,
        '',
      ].join('\n'),
    );
  }
}

const step = process.argv[2];
if (step === 'add') add();
else if (step === 'remove') rmSync(OUT, { recursive: true, force: true });
else {
  console.error('usage: node scripts/vendor-runtime.mjs add|remove');
  process.exit(2);
}
