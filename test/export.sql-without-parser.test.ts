import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { lakeSchema } from '../src/rows/lake-schema.js';
import { BIN } from './support/cli-process.js';
import { resolvedModules, writeResolveHook } from './support/resolve-log.js';
import { duckdb, query } from './support/duckdb.js';
import { emulatorEnv } from './support/lake.js';

/**
 * `ctlake export --sql 'SELECT * FROM <store> WHERE ... ORDER BY ...'` types
 * its columns from the store's published schema with the Trino lexer alone
 * (rows/select-star.ts): the parser (1.3 MB of generated code, about 16 MB
 * and 0.06 s to load, 0.1 to 0.2 s on a first parse) is never loaded. A
 * real CLI process, every module resolution recorded by a resolve hook
 * (module.register), against the emulator; the same rows through a query
 * only the parser reads (an OR) make the same Parquet file, read back by
 * DuckDB value by value.
 */
const PARSER = 'vendor/trino-sql/trino/TrinoSqlParser.js';
const LEXER = 'vendor/trino-sql/trino/TrinoSqlLexer.js';

describe('an export of SELECT * FROM <store> ... loads the SQL lexer, not the parser', () => {
  let dir: string;
  let hook: string;
  let emulator: Emulator;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-lexer-only-'));
    emulator = await startEmulator({ sample: 300, seed: 9 });
    hook = await writeResolveHook(dir);
  });
  afterAll(async () => {
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** `ctlake export --sql SQL --out NAME.parquet` in a process of its own; the dist/ files it loaded. */
  async function exportSql(name: string, sql: string): Promise<{ status: number | null; stderr: string; modules: string[]; file: string }> {
    const log = path.join(dir, `${name}.log`);
    const file = path.join(dir, `${name}.parquet`);
    await writeFile(log, '');
    const child = spawn(process.execPath, ['--import', hook, BIN, 'export', '--sql', sql, '--out', file], {
      env: { PATH: process.env.PATH ?? '', ...emulatorEnv(emulator), RESOLVE_LOG: log },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const modules = (await resolvedModules(log)).filter((m) => !m.startsWith('node:'));
    return { status, stderr: Buffer.concat(err).toString('utf8'), modules, file };
  }

  it('types every published column from the tokens, and writes what the parser would have', async () => {
    const where = `eventTime >= '2024-05-02 00:00:00'`;
    const star = await exportSql('star', `SELECT * FROM ${emulator.eventDataStoreId} WHERE ${where} ORDER BY eventTime ASC, eventID`);
    expect({ status: star.status, stderr: star.stderr }).toMatchObject({ status: 0 });
    expect(star.modules).toContain('rows/select-star.js');
    expect(star.modules).toContain(LEXER);
    expect(star.modules.filter((m) => m === PARSER || m === 'rows/select-list.js' || m === 'rows/trino-expression.js')).toEqual([]);

    // An OR of nothing: the same rows, a query only the parser reads.
    const parsed = await exportSql('parsed', `SELECT * FROM ${emulator.eventDataStoreId} WHERE ${where} OR 1 = 0 ORDER BY eventTime ASC, eventID`);
    expect({ status: parsed.status, stderr: parsed.stderr }).toMatchObject({ status: 0 });
    expect(parsed.modules).toContain(PARSER);

    const db = await duckdb();
    const describeFile = async (file: string) => (await query(db, `DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => [r.column_name, r.column_type]);
    const columns = await describeFile(star.file);
    // The store's published columns, in order, typed (a nested one as a STRUCT), not the first page's strings; then the fallback map.
    expect(columns.map(([name]) => name)).toEqual([...lakeSchema('cloudtrail-events').columns.map((c) => c.name), 'ctlake_unparsed']);
    expect(Object.fromEntries(columns)).toMatchObject({ eventtime: 'TIMESTAMP WITH TIME ZONE', useridentity: expect.stringMatching(/^STRUCT\(/) });
    expect(await describeFile(parsed.file)).toEqual(columns);

    const count = async (sql: string) => Number((await query(db, `SELECT count(*) AS n FROM (${sql})`))[0]!.n);
    const a = `SELECT * FROM read_parquet('${star.file}')`;
    const b = `SELECT * FROM read_parquet('${parsed.file}')`;
    const rows = await count(a);
    expect(rows).toBeGreaterThan(50);
    expect(await count(b)).toBe(rows);
    // Value by value, every column, both ways (EXCEPT ALL keeps duplicates apart).
    expect(await count(`${a} EXCEPT ALL ${b}`)).toBe(0);
    expect(await count(`${b} EXCEPT ALL ${a}`)).toBe(0);
  });
});
