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

describe('examples/ with sinks of their own', () => {
  const run = (name: string) =>
    runShell(`cd "${EXAMPLES}" && "${process.execPath}" "${path.join(EXAMPLES, name)}"`, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });

  it('sink-http-put.mjs exports through an HTTP PUT destination: every row arrives, committed once', async () => {
    const result = await run('sink-http-put.mjs');
    expect(result.stderr).toMatch(/^exported 1500 rows to http:\/\/127\.0\.0\.1:\d+\/exports\/0a1b2c3d-0000-4000-8000-123456789abc\.ndjson \(\d+ bytes\); the server holds 1500 lines\n$/);
    expect(result.status).toBe(0);
  });

  it('store-in-memory.mjs writes a dataset to an in-memory store, and verify passes on it', async () => {
    const result = await run('store-in-memory.mjs');
    expect(result.stderr).toMatch(/^exported 3000 rows to 6 files in memory:\/\/dataset\/, e\.g\. memory:\/\/dataset\/eventdate=2024-05-01\/part-00000-0a1b2c3d-0000-4000-8000-123456789abc\.parquet\n/);
    expect(result.stderr).toMatch(/\nverify: ok, 6 files, 3000 rows; objects: _manifest\.json, _SUCCESS\n$/);
    expect(result.status).toBe(0);
  });
});
