import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** dist/, where the built CLI and library load from. */
export const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * Writes into `dir` a module to pass to `node --import`: it registers a
 * resolve hook (module.register) that appends every module URL the process
 * resolves, dynamic imports and packages included, to the file named by the
 * RESOLVE_LOG environment variable. Resolve hooks run on a thread of their
 * own (Node 20), so each line is appended synchronously. Returns its URL.
 */
export async function writeResolveHook(dir: string): Promise<string> {
  const recorder = path.join(dir, 'record.mjs');
  await writeFile(
    recorder,
    `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}
`,
  );
  const hook = path.join(dir, 'hook.mjs');
  await writeFile(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(recorder).href)}, { data: { log: process.env.RESOLVE_LOG } });\n`);
  return pathToFileURL(hook).href;
}

/** The modules a RESOLVE_LOG file lists: files as paths relative to dist/ (with `/`), anything else (node:...) as resolved. */
export async function resolvedModules(log: string): Promise<string[]> {
  return (await readFile(log, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((url) => (url.startsWith('file:') ? path.relative(DIST, fileURLToPath(url)).split(path.sep).join('/') : url));
}
