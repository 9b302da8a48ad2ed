import { createRequire } from 'node:module';

/** ctlake's version, from package.json (one level above both src/ and dist/). */
export function version(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}
