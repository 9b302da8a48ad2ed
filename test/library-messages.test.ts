import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtlakeError } from '../src/errors.js';
import { destinationError, fileDestination } from '../src/destinations/file.js';
import { s3Error } from '../src/destinations/s3.js';
import { openStateFile, continueState, type JobState } from '../src/jobs/job-state.js';
import { exportWindows } from '../src/jobs/export-windows.js';
import { backfill } from '../src/jobs/backfill.js';
import { optionNamer } from '../src/cli/flag-table.js';
import { BACKFILL_SPEC, EXPORT_SPEC } from '../src/cli/export-table.js';

/**
 * Library errors name library options (`out`, `partitionBy`, `state`,
 * `windowMs`) in their `message`, and the CLI's flags only when rendered
 * with its table (`describe(optionNamer(SPEC))`): one message, two sets of
 * names, no rewriting.
 */

async function rejection(promise: Promise<unknown>): Promise<CtlakeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CtlakeError);
  return error as CtlakeError;
}

const SQL = "SELECT eventID FROM eds WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'";
const asExport = optionNamer(EXPORT_SPEC);
const asBackfill = optionNamer(BACKFILL_SPEC);

describe('library messages name options; the CLI renders them with its flags', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-messages-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('out: a directory named as a file', async () => {
    const error = await rejection(fileDestination(dir));
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'out' });
    expect(error.message).toBe(`out ${dir} is a directory; add a trailing / to export a dataset into it, or name a file`);
    expect(error.describe(asExport)).toBe(`--out ${dir} is a directory; add a trailing / to export a dataset into it, or name a file`);
  });

  it('out: an errno hint', () => {
    const error = destinationError('/full/x.ndjson', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    expect(error).toMatchObject({ code: 'DESTINATION_FAILED', option: 'out' });
    expect(error.message).toBe('cannot write /full/x.ndjson: ENOSPC; free some space or choose another out');
    expect(error.describe(asExport)).toBe('cannot write /full/x.ndjson: ENOSPC; free some space or choose another --out');
    // A hint that names no option sets none.
    expect(destinationError('/x', Object.assign(new Error('many'), { code: 'EMFILE' })).option).toBeUndefined();
  });

  it('partitionBy: a partition value too long for a folder name', () => {
    const error = destinationError(`/d/region=${'x'.repeat(300)}/part.parquet`, Object.assign(new Error('long'), { code: 'ENAMETOOLONG' }));
    expect(error.option).toBe('partitionBy');
    expect(error.message).toMatch(/: use another partitionBy$/);
    expect(error.describe(asExport)).toMatch(/: use another --partition-by$/);
  });

  it('profile and s3EndpointUrl: S3 hints', () => {
    const denied = s3Error('s3://b/k', Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    expect(denied.option).toBe('profile');
    expect(denied.message).toMatch(/; check the credentials \(profile\) and the bucket policy/);
    expect(denied.describe(asExport)).toMatch(/; check the credentials \(--profile\) and the bucket policy/);
    const refused = s3Error('s3://b/k', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(refused.option).toBe('s3EndpointUrl');
    expect(refused.describe(asExport)).toMatch(/; check --s3-endpoint-url$/);
  });

  it('state: a folder given for the state file', async () => {
    const error = await rejection(openStateFile(`${dir}/`, undefined));
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'state' });
    expect(error.message).toBe(`state must be a file, not the folder '${dir}/'`);
    expect(error.describe(asExport)).toBe(`--state must be a file, not the folder '${dir}/'`);
    expect(error.describe(asBackfill)).toBe(`--state must be a file, not the folder '${dir}/'`);
  });

  it('state and out: a state of another job', () => {
    const state = (out: string): JobState => ({ stateVersion: 1, job: 'backfill', sqlSha256: 'a', out, runs: {}, updatedAt: '2026-01-01T00:00:00Z' });
    let error: CtlakeError | undefined;
    try {
      continueState(state('/a/'), state('/b/'), 'job.json');
    } catch (e) {
      error = e as CtlakeError;
    }
    expect(error?.message).toBe('state job.json belongs to another job (its out differs); give this job its own state');
    expect(error?.describe(asBackfill)).toBe('--state job.json belongs to another job (its --out differs); give this job its own --state');
  });

  it('windowMs: a window shorter than a minute', async () => {
    const error = await rejection(exportWindows({ sqlTemplate: SQL, out: `${dir}/ds/`, windowMs: 5 }));
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'windowMs' });
    expect(error.message).toBe('windowMs must be from 1m to 366d, not 5 ms');
    expect(error.describe(asExport)).toBe('--window must be from 1m to 366d, not 5 ms');
  });

  it('out: a job whose out is no dataset', async () => {
    const error = await rejection(exportWindows({ sqlTemplate: SQL, out: `${dir}/x.parquet`, windowMs: 60_000 }));
    expect(error.message).toMatch(/^out must be a dataset /);
    expect(error.describe(asExport)).toMatch(/^--out must be a dataset /);
  });

  it('from, to and sliceMs: a backfill range', async () => {
    const reversed = await rejection(backfill({ sqlTemplate: SQL, out: `${dir}/ds/`, from: 2, to: 1, sliceMs: 60_000 }));
    expect(reversed.message).toBe('from must be before to');
    expect(reversed.describe(asBackfill)).toBe('--from must be before --to');
    const slice = await rejection(backfill({ sqlTemplate: SQL, out: `${dir}/ds/`, from: 0, to: 86_400_000, sliceMs: 10 }));
    expect(slice.message).toBe('sliceMs must be from 1m to 366d, not 10 ms');
    expect(slice.describe(asBackfill)).toBe('--slice must be from 1m to 366d, not 10 ms');
  });

  it('every option these messages name is set by a flag of its table', () => {
    const sets = (spec: typeof EXPORT_SPEC | typeof BACKFILL_SPEC, option: string) =>
      Object.values(spec.flags).some((flag) => {
        const options = (flag as { option?: string | readonly string[] }).option;
        return options === option || (Array.isArray(options) && options.includes(option));
      });
    for (const option of ['out', 'partitionBy', 'profile', 'region', 's3EndpointUrl', 'state', 'since', 'now', 'windowMs', 'lagMs']) {
      expect(sets(EXPORT_SPEC, option), `export sets ${option}`).toBe(true);
    }
    for (const option of ['out', 'state', 'from', 'to', 'sliceMs', 'concurrency']) expect(sets(BACKFILL_SPEC, option), `backfill sets ${option}`).toBe(true);
  });
});

/**
 * The string and template literals of a TypeScript source, comments left
 * out: enough of a tokenizer to tell `'--out'` in code from `--out` in a
 * comment. Template literals are returned with their `${...}` parts, and
 * literals nested inside those parts are returned too.
 */
function literals(source: string): Array<{ text: string; line: number }> {
  const found: Array<{ text: string; line: number }> = [];
  const lineAt = (i: number) => source.slice(0, i).split('\n').length;
  // A stack of open template literals; each frame counts the braces open in its current `${`.
  const templates: Array<{ start: number; depth: number }> = [];
  let i = 0;
  const readTemplate = (from: number): number => {
    // Reads template text from `from` up to its end or its next `${`.
    let j = from;
    while (j < source.length) {
      const c = source[j];
      if (c === '\\') j += 2;
      else if (c === '`') {
        const frame = templates.pop()!;
        found.push({ text: source.slice(frame.start, j + 1), line: lineAt(frame.start) });
        return j + 1;
      } else if (c === '$' && source[j + 1] === '{') {
        templates[templates.length - 1]!.depth = 0;
        return j + 2;
      } else j++;
    }
    return j;
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') i = source.indexOf('\n', i) === -1 ? source.length : source.indexOf('\n', i);
    else if (c === '/' && next === '*') i = source.indexOf('*/', i + 2) === -1 ? source.length : source.indexOf('*/', i + 2) + 2;
    else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      found.push({ text: source.slice(i, j + 1), line: lineAt(i) });
      i = j + 1;
    } else if (c === '`') {
      templates.push({ start: i, depth: 0 });
      i = readTemplate(i + 1);
    } else if (templates.length && c === '{') {
      templates[templates.length - 1]!.depth++;
      i++;
    } else if (templates.length && c === '}') {
      const frame = templates[templates.length - 1]!;
      if (frame.depth === 0) i = readTemplate(i + 1);
      else {
        frame.depth--;
        i++;
      }
    } else i++;
  }
  return found;
}

/** A flag name as a message would say it: `--out`, at the start or after a space, quote or bracket. */
const FLAG = /(?:^|[\s('"`])--[a-z][a-z0-9-]*/;

/**
 * What may still name a CLI flag in library code, each with its reason:
 * `file: the literal's text, or a part of it`.
 */
const ALLOWED: ReadonlyArray<{ file: string; text: string; reason: string }> = [
  {
    file: 'src/export/take-query.ts',
    text: 'check ctlake list --status RUNNING',
    reason: 'a warning that names a CLI command, which a library user can run as well (listQueries is its library form)',
  },
  {
    file: 'src/rows/parse-value.ts',
    text: '--column ${label}:string',
    reason: "--column NAME:TYPE is the CLI's syntax (the library's is columns: { NAME: 'string' }); src/rows is not this part's to change",
  },
  {
    file: 'src/rows/schema.ts',
    text: '--column ${label}:string',
    reason: "as parse-value.ts: the CLI's NAME:TYPE syntax, in the late-column error that Parquet and typed NDJSON share",
  },
];

const LIBRARY_DIRS = ['destinations', 'dataset', 'jobs', 'export', 'formats', 'rows', 'source'];

describe('library code names no CLI flag in a message', () => {
  it('finds literals and skips comments', () => {
    const found = literals("// '--no'\nconst a = `x ${b ? `--in ${c}` : '--quoted'} y`; /* --gone */ f('--plain');").map((l) => l.text);
    expect(found).toContain("'--quoted'");
    expect(found).toContain("'--plain'");
    expect(found.some((t) => t.startsWith('`--in '))).toBe(true);
    expect(found.some((t) => t.includes('--no') || t.includes('--gone'))).toBe(false);
  });

  it('no string in src/{destinations,dataset,jobs,export,formats,rows,source} says --FLAG, but those allowed', async () => {
    const offenders: string[] = [];
    const used = new Set<(typeof ALLOWED)[number]>();
    for (const folder of LIBRARY_DIRS) {
      const root = path.join('src', folder);
      for (const entry of await readdir(root, { recursive: true })) {
        if (!entry.endsWith('.ts')) continue;
        const file = path.join(root, entry).split(path.sep).join('/');
        const source = await readFile(file, 'utf8');
        for (const { text, line } of literals(source)) {
          if (!FLAG.test(text)) continue;
          const allowed = ALLOWED.find((a) => a.file === file && text.includes(a.text));
          if (allowed) used.add(allowed);
          else offenders.push(`${file}:${line}: ${text.slice(0, 120)}`);
        }
      }
    }
    expect(offenders).toEqual([]);
    // An allowance that matches nothing any more goes too.
    expect(ALLOWED.filter((a) => !used.has(a)).map((a) => a.file)).toEqual([]);
  });
});
