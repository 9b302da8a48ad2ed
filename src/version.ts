import { createRequire } from 'node:module';

/** ctlake's version, from package.json (one level above both src/ and dist/). */
export function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

/** The version of an optional peer dependency that ctlake is tested with (package.json `peerDependencies`), e.g. DuckDB's for the emulator. */
export function peerVersion(name: string): string | undefined {
  const require = createRequire(import.meta.url);
  const peers = (require('../package.json') as { peerDependencies?: Record<string, string> }).peerDependencies ?? {};
  return Object.hasOwn(peers, name) ? peers[name] : undefined;
}
