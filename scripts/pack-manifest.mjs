// The package.json that `npm pack` and `npm publish` ship: the checkout's,
// without the `prepare` script. In a checkout, `npm ci` runs `prepare` to
// build dist/; in the published package dist/ is already built, and a
// script there would make npm 11 warn on every install (and run nothing
// useful). `prepack` strips it (keeping the original beside it), `postpack`
// puts the original back; a stale `.package.json.orig` from a pack that died
// is put back first.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const MANIFEST = 'package.json';
const ORIGINAL = '.package.json.orig';
const step = process.argv[2];

if (step === 'strip') {
  if (existsSync(ORIGINAL)) renameSync(ORIGINAL, MANIFEST);
  const text = readFileSync(MANIFEST, 'utf8');
  const manifest = JSON.parse(text);
  writeFileSync(ORIGINAL, text);
  delete manifest.scripts.prepare;
  delete manifest.devDependencies;
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
} else if (step === 'restore') {
  if (existsSync(ORIGINAL)) renameSync(ORIGINAL, MANIFEST);
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore');
  process.exit(2);
}
