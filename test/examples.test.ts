import { mkdtemp, readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runShell } from './support/cli-process.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

describe('examples/', () => {
  it('library-export.mjs runs as the README says and writes its file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ctlake-example-'));
    const result = await runShell(`cd "${dir}" && "${process.execPath}" "${path.join(EXAMPLES, 'library-export.mjs')}"`, {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    expect(result.stderr).toMatch(/exported 2500 rows in 3 pages to out\/example.ndjson.gz/);
    expect(result.status).toBe(0);
    const lines = gunzipSync(await readFile(path.join(dir, 'out', 'example.ndjson.gz'))).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(2500);
  });
});
