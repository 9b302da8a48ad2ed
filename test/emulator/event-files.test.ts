import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { listEventFiles, readEventFiles } from '../../src/emulator/event-files.js';
import { sampleEventArray, type CloudTrailEvent } from '../../src/emulator/sample-events.js';

const events = sampleEventArray(600, { seed: 21 });
const slice = (from: number, to: number) => events.slice(from, to);
const records = (list: CloudTrailEvent[]) => JSON.stringify({ Records: list });
const ndjson = (list: CloudTrailEvent[]) => list.map((e) => `${JSON.stringify(e)}\n`).join('');

let dir: string;
const at = (...parts: string[]) => join(dir, ...parts);

async function put(path: string, content: string | Buffer): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  return path;
}

async function collect(paths: string[]): Promise<CloudTrailEvent[]> {
  const out: CloudTrailEvent[] = [];
  for await (const e of readEventFiles(paths)) out.push(e);
  return out;
}

/** The error `readEventFiles` rejects with; fails the test if it resolves. */
async function failure(paths: string[]): Promise<Error> {
  try {
    await collect(paths);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain('\n');
    return error as Error;
  }
  throw new Error(`expected ${paths.join()} to fail`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctlake-event-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readEventFiles', () => {
  it('reads a trail log file {"Records": [...]}, plain and gzipped', async () => {
    const plain = await put(at('records', 'trail.json'), records(slice(0, 100)));
    const gz = await put(at('records', 'trail.json.gz'), gzipSync(records(slice(100, 200))));
    expect(await collect([plain])).toEqual(slice(0, 100));
    expect(await collect([gz])).toEqual(slice(100, 200));
    expect(await collect([gz, plain])).toEqual([...slice(100, 200), ...slice(0, 100)]);
  });

  it('streams NDJSON (.ndjson, .jsonl, and gzipped)', async () => {
    const plain = await put(at('lines', 'events.ndjson'), ndjson(slice(0, 150)));
    const jsonl = await put(at('lines', 'events.jsonl'), ndjson(slice(150, 200)));
    const gz = await put(at('lines', 'events.ndjson.gz'), gzipSync(ndjson(slice(200, 400))));
    const jgz = await put(at('lines', 'events.jsonl.gz'), gzipSync(ndjson(slice(400, 450))));
    expect(await collect([plain, jsonl, gz, jgz])).toEqual(slice(0, 450));
  });

  it('skips blank lines, tolerates CRLF and a BOM, and unpacks Records documents on a line', async () => {
    const text = `\uFEFF${JSON.stringify(events[0])}\r\n\r\n${records(slice(1, 4))}\r\n   \n${JSON.stringify(events[4])}`;
    expect(await collect([await put(at('lines', 'mixed.ndjson'), text)])).toEqual(slice(0, 5));
  });

  it('detects gzip by its magic bytes, whatever the name says', async () => {
    const json = await put(at('magic', 'trail.json'), gzipSync(records(slice(0, 20))));
    const lines = await put(at('magic', 'events.ndjson'), gzipSync(ndjson(slice(20, 40))));
    const plainGz = await put(at('magic', 'plain.json.gz'), records(slice(40, 60)));
    const other = await put(at('magic', 'download.log'), gzipSync(ndjson(slice(60, 80))));
    expect(await collect([json, lines, plainGz, other])).toEqual(slice(0, 80));
  });

  it('reads NDJSON saved as .json, and a one-event .json', async () => {
    const lines = await put(at('loose', 'events.json'), ndjson(slice(0, 30)));
    const one = await put(at('loose', 'one.json'), JSON.stringify(events[30]));
    expect(await collect([lines, one])).toEqual(slice(0, 31));
  });

  it('walks a directory recursively in sorted order, skipping digests and other files', async () => {
    const root = at('AWSLogs');
    const day = (d: string) => join(root, '111122223333', 'CloudTrail', 'us-east-1', '2024', '05', d);
    await put(join(day('02'), '111122223333_CloudTrail_us-east-1_20240502T0000Z_b.json.gz'), gzipSync(records(slice(200, 300))));
    await put(join(day('01'), '111122223333_CloudTrail_us-east-1_20240501T0005Z_b.json.gz'), gzipSync(records(slice(100, 200))));
    await put(join(day('01'), '111122223333_CloudTrail_us-east-1_20240501T0000Z_a.json.gz'), gzipSync(records(slice(0, 100))));
    await put(join(root, '222233334444', 'extra.jsonl'), ndjson(slice(300, 320)));
    const digest = join(root, '111122223333', 'CloudTrail-Digest', 'us-east-1', '2024', '05', '01', '111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T000000Z.json.gz');
    await put(digest, gzipSync(JSON.stringify({ awsAccountId: '111122223333', digestStartTime: '2024-05-01T00:00:00Z', logFiles: [] })));
    await put(join(root, 'README.txt'), 'not events');
    await mkdir(join(root, 'empty.json'), { recursive: true }); // a directory with an event file's name

    expect(await listEventFiles([root])).toHaveLength(4);
    expect(await collect([root])).toEqual(slice(0, 320));
    expect(await failure([digest])).toHaveProperty('message', expect.stringMatching(/digest file/));
  });

  it('stops reading when the consumer stops', async () => {
    const big = await put(at('early', 'big.ndjson.gz'), gzipSync(ndjson(events)));
    const seen: CloudTrailEvent[] = [];
    for await (const e of readEventFiles([big])) {
      seen.push(e);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(slice(0, 3));
  });
});

describe('readEventFiles errors name the file and the fix', () => {
  it('rejects a missing path before yielding anything', async () => {
    const good = await put(at('errors', 'good.json'), records(slice(0, 5)));
    const missing = at('errors', 'nope.json.gz');
    const seen: CloudTrailEvent[] = [];
    const error = await (async () => {
      try {
        for await (const e of readEventFiles([good, missing])) seen.push(e);
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error?.message).toBe(`${missing}: no such file or directory; check the path`);
    expect(seen).toEqual([]);
  });

  it('rejects a file that is neither format', async () => {
    const text = await put(at('errors', 'notes.json'), 'these are not events\nat all\n');
    expect((await failure([text])).message).toMatch(new RegExp(`^${escape(text)}: not valid JSON \\(.*\\); expected a CloudTrail log file`));
    const noRecords = await put(at('errors', 'config.json'), JSON.stringify({ version: 1, items: [1, 2] }));
    expect((await failure([noRecords])).message).toMatch(new RegExp(`^${escape(noRecords)}: JSON without a "Records" array`));
    const pretty = await put(at('errors', 'pretty.ndjson'), JSON.stringify({ Records: slice(0, 2) }, null, 2));
    expect((await failure([pretty])).message).toMatch(new RegExp(`^${escape(pretty)}:1: not valid JSON .*one complete event object per line`));
    const empty = await put(at('errors', 'empty.json'), '');
    expect((await failure([empty])).message).toMatch(new RegExp(`^${escape(empty)}: the file is empty`));
  });

  it('names the line of a bad NDJSON line, plain and gzipped', async () => {
    const lines = `${ndjson(slice(0, 2))}{"eventVersion": "1.08",\n${ndjson(slice(2, 3))}`;
    const plain = await put(at('errors', 'bad.ndjson'), lines);
    expect((await failure([plain])).message).toMatch(new RegExp(`^${escape(plain)}:3: not valid JSON`));
    const gz = await put(at('errors', 'bad.jsonl.gz'), gzipSync(lines));
    expect((await failure([gz])).message).toMatch(new RegExp(`^${escape(gz)}:3: not valid JSON`));
    const scalar = await put(at('errors', 'scalar.ndjson'), `${ndjson(slice(0, 1))}42\n`);
    expect((await failure([scalar])).message).toMatch(new RegExp(`^${escape(scalar)}:2: expected an event object, got 42`));
  });

  it('names a record that is not an event object', async () => {
    const file = await put(at('errors', 'records.json'), JSON.stringify({ Records: [events[0], 'oops'] }));
    expect((await failure([file])).message).toMatch(new RegExp(`^${escape(file)}: Records\\[1\\]: expected an event object, got "oops"`));
  });

  it('rejects corrupt gzip, whole and streamed', async () => {
    const corrupt = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('definitely not deflate data')]);
    const whole = await put(at('errors', 'corrupt.json.gz'), corrupt);
    expect((await failure([whole])).message).toMatch(new RegExp(`^${escape(whole)}: starts like gzip but does not decompress`));
    const truncated = gzipSync(ndjson(slice(0, 50))).subarray(0, 500);
    const streamed = await put(at('errors', 'truncated.ndjson.gz'), truncated);
    expect((await failure([streamed])).message).toMatch(new RegExp(`^${escape(streamed)}: reading failed after line \\d+ .*gzip data is corrupt or truncated`));
  });

  it('rejects a directory without event files', async () => {
    const empty = at('errors', 'no-events');
    await put(join(empty, 'notes.txt'), 'hello');
    expect((await failure([empty])).message).toBe(`${empty}: no event files in this directory or below; expected names ending in .json, .ndjson or .jsonl (optionally .gz)`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
