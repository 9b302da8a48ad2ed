import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { exportQuery } from '../src/export/export-query.js';
import { exportWindows } from '../src/jobs/export-windows.js';
import { verifyDataset } from '../src/dataset/verify.js';
import type { Manifest } from '../src/dataset/manifest.js';
import type { Destination } from '../src/destinations/destination.js';
import type { ObjectStore, StoredObject } from '../src/destinations/store.js';
import { CtlakeError, isCtlakeError } from '../src/errors.js';
import { parseNdjson, sampleRows } from './support/lake.js';
import { emulatorOptions, lakeRows } from './support/lake-rows.js';
import { duckdb, query } from './support/duckdb.js';

/**
 * Sinks a library user writes: a Destination and an ObjectStore of the
 * test's own, through the public contracts only. ctlake encodes into them,
 * commits after success and aborts on any failure; the rows are read back
 * (NDJSON parsed, Parquet by DuckDB) and checked value by value.
 */

/** A user's Destination in memory, counting its endings; `failAfter` makes its writable fail at that write. */
function memoryDestination(location: string, options: { failAfter?: number; failWith?: () => Error } = {}) {
  const chunks: Buffer[] = [];
  let writes = 0;
  const calls = { commit: 0, abort: 0 };
  let committed: Buffer | undefined;
  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (options.failAfter !== undefined && ++writes > options.failAfter) return callback((options.failWith ?? (() => new Error('disk on fire')))());
      chunks.push(chunk);
      callback();
    },
  });
  const destination: Destination = {
    location,
    writable,
    bytesWritten: () => chunks.reduce((n, c) => n + c.length, 0),
    async commit() {
      calls.commit++;
      committed = Buffer.concat(chunks);
    },
    async abort() {
      calls.abort++;
      chunks.length = 0;
    },
  };
  return { destination, calls, committed: () => committed };
}

/** A user's ObjectStore in a Map, with tags for putIf; `failPut` fails put() of that name. */
function memoryStore(root: string, options: { failPut?: string } = {}) {
  const objects = new Map<string, { data: Buffer; tag: string }>();
  const aborted: string[] = [];
  let version = 0;
  const set = (name: string, data: Buffer) => {
    const tag = String(++version);
    objects.set(name, { data, tag });
    return tag;
  };
  const store: ObjectStore = {
    root,
    async check() {},
    async create(name) {
      const chunks: Buffer[] = [];
      const writable = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      });
      return {
        location: root + name,
        writable,
        bytesWritten: () => chunks.reduce((n, c) => n + c.length, 0),
        async commit() {
          set(name, Buffer.concat(chunks));
        },
        async abort() {
          aborted.push(name);
        },
      };
    },
    async put(name, data) {
      if (name === options.failPut) throw new Error(`quota exceeded writing ${name}`);
      set(name, Buffer.from(data));
    },
    async get(name) {
      return objects.get(name)?.data;
    },
    async getTagged(name) {
      const object = objects.get(name);
      return object && { data: object.data, tag: object.tag };
    },
    async putIf(name, data, condition) {
      const current = objects.get(name);
      if ('ifAbsent' in condition ? current !== undefined : current?.tag !== condition.ifTag) return undefined;
      return set(name, Buffer.from(data));
    },
    async read(name) {
      const object = objects.get(name);
      if (!object) throw new Error(`no ${name}`);
      return Readable.from([object.data]);
    },
    async *list(): AsyncGenerator<StoredObject> {
      for (const name of [...objects.keys()].sort()) yield { name, size: objects.get(name)!.data.length };
    },
    async remove(name) {
      objects.delete(name);
    },
  };
  return { store, objects, aborted };
}

/** The store's objects as local files under `dir`, for DuckDB to read. */
async function copyOut(objects: Map<string, { data: Buffer }>, names: string[], dir: string): Promise<void> {
  for (const name of names) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, objects.get(name)!.data);
  }
}

describe('exportQuery to sinks of the caller', () => {
  let emulator: Emulator;
  let db: DuckDBConnection;
  let dir: string;
  const source = sampleRows(2500);
  const lake = lakeRows(3000);
  let queryId: string;
  let lakeId: string;
  beforeAll(async () => {
    emulator = await startEmulator({ sample: 2000, seed: 3 });
    queryId = emulator.addQuery({ rows: source });
    lakeId = emulator.addQuery({ rows: lake });
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEMULATOR', AWS_SECRET_ACCESS_KEY: 'emulator-secret' });
    db = await duckdb();
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-user-sinks-'));
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  const expectedRecords = () =>
    source.map((row) => {
      const [t, n, s, a, b] = row.map((cell) => Object.values(cell)[0]!);
      return { eventTime: t, eventName: n, seq: s, arn: a, arn_2: b };
    });

  it('writes NDJSON (the default with a destination) into a destination of the caller, every row once and in order, and commits it once', async () => {
    const sink = memoryDestination('memory://one.ndjson');
    const summary = await exportQuery({ queryId, destination: sink.destination, ...emulatorOptions(emulator) });
    expect(sink.calls).toEqual({ commit: 1, abort: 0 });
    expect(parseNdjson(sink.committed()!.toString('utf8'))).toEqual(expectedRecords());
    expect(summary).toMatchObject({ rows: 2500, pages: 3, format: 'ndjson', compression: 'none', files: ['memory://one.ndjson'], bytes: sink.committed()!.length });
  });

  it('writes Parquet into a destination of the caller when format says so, and DuckDB reads back every value', async () => {
    const sink = memoryDestination('memory://one.parquet');
    const summary = await exportQuery({ queryId, destination: sink.destination, format: 'parquet', rowGroupRows: 700, ...emulatorOptions(emulator) });
    expect(sink.calls).toEqual({ commit: 1, abort: 0 });
    expect(summary).toMatchObject({ format: 'parquet', compression: 'zstd', files: ['memory://one.parquet'] });
    const file = path.join(dir, 'one.parquet');
    await writeFile(file, sink.committed()!);
    const rows = await query(db, `SELECT strftime(eventTime, '%Y-%m-%d %H:%M:%S.%g') AS eventTime, eventName, seq, arn, arn_2 FROM read_parquet('${file}')`);
    expect(rows).toEqual(expectedRecords());
  });

  it('aborts the destination and never commits it when its writable fails, naming its location', async () => {
    const sink = memoryDestination('memory://broken.ndjson', { failAfter: 2 });
    const error = await exportQuery({ queryId, destination: sink.destination, ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CtlakeError);
    expect(error).toMatchObject({ code: 'DESTINATION_FAILED', message: expect.stringMatching(/^export to memory:\/\/broken\.ndjson failed: disk on fire/) });
    expect(sink.calls).toEqual({ commit: 0, abort: 1 });
  });

  it("keeps the export's own error when the destination's abort() rejects too, and warns of it", async () => {
    const sink = memoryDestination('memory://twice-broken.ndjson', { failAfter: 0 });
    sink.destination.abort = async () => {
      sink.calls.abort++;
      throw new Error('cannot delete the staged upload');
    };
    const warnings: string[] = [];
    const error = await exportQuery({ queryId, destination: sink.destination, onWarning: (w) => warnings.push(w), ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESTINATION_FAILED', message: expect.stringContaining('disk on fire') });
    expect(sink.calls).toEqual({ commit: 0, abort: 1 });
    expect(warnings).toEqual(["the destination's abort() failed after the export failed: cannot delete the staged upload"]);
  });

  it("fails before StartQuery when a store's check() rejects, naming the store's root", async () => {
    const { store } = memoryStore('mem://unreachable/');
    store.check = async () => {
      throw new Error('bucket not found');
    };
    const before = emulator.requests.filter((r) => r.operation === 'StartQuery').length;
    const error = await exportQuery({ sql: `SELECT eventID FROM ${emulator.eventDataStoreId}`, store, ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESTINATION_FAILED', message: 'export to mem://unreachable/ failed: bucket not found' });
    expect(emulator.requests.filter((r) => r.operation === 'StartQuery').length).toBe(before);
  });

  it('aborts the destination when the query fails before a byte is written', async () => {
    const failed = emulator.addQuery({ rows: [], final: 'FAILED', errorMessage: 'no such table' });
    const sink = memoryDestination('memory://never.ndjson');
    await expect(exportQuery({ queryId: failed, destination: sink.destination, ...emulatorOptions(emulator) })).rejects.toMatchObject({ code: 'QUERY_FAILED' });
    expect(sink.calls).toEqual({ commit: 0, abort: 1 });
  });

  it('keeps an AbortError that no signal of the caller caused as the destination failure, not INTERRUPTED', async () => {
    const abortError = () => Object.assign(new Error('upload cancelled by the server'), { name: 'AbortError' });
    const sink = memoryDestination('memory://cut.ndjson', { failAfter: 1, failWith: abortError });
    const error = await exportQuery({ queryId, destination: sink.destination, ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESTINATION_FAILED', message: expect.stringContaining('upload cancelled by the server') });
    expect(sink.calls.abort).toBe(1);
  });

  it('is INTERRUPTED when the caller aborts, and aborts the destination', async () => {
    const controller = new AbortController();
    const sink = memoryDestination('memory://stopped.ndjson');
    const run = exportQuery({ queryId, destination: sink.destination, ...emulatorOptions(emulator), signal: controller.signal, onPage: () => controller.abort() });
    await expect(run).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(sink.calls).toEqual({ commit: 0, abort: 1 });
  });

  it('writes a dataset into a store of the caller: partitions, rolled parts, manifest, _SUCCESS, no locks left; verify passes on it', async () => {
    const { store, objects } = memoryStore('mem://lake/');
    const summary = await exportQuery({ queryId: lakeId, store, partitionBy: ['eventTime:day'], maxRowsPerFile: 250, rowGroupRows: 100, ...emulatorOptions(emulator) });
    const parts = [...objects.keys()].filter((n) => n.endsWith('.parquet')).sort();
    // 600 rows a day over five days, 250 a file: three parts a day.
    expect(parts).toHaveLength(15);
    expect(parts[0]).toBe(`eventdate=2024-05-01/part-00000-${lakeId}.parquet`);
    expect([...objects.keys()].filter((n) => !n.endsWith('.parquet')).sort()).toEqual(['_SUCCESS', '_manifest.json']);
    expect(summary.format).toBe('parquet');
    expect([...summary.files].sort()).toEqual(parts.map((p) => `mem://lake/${p}`));
    expect(summary.dataset?.root).toBe('mem://lake/');
    const manifest = JSON.parse(objects.get('_manifest.json')!.data.toString('utf8')) as Manifest;
    expect(manifest.exports[0]!.files.reduce((n, f) => n + f.rows, 0)).toBe(3000);
    // Every file, read back by DuckDB.
    const local = path.join(dir, 'lake');
    await copyOut(objects, parts, local);
    const rows = await query(db, `SELECT seq, eventID, eventName, awsRegion, errorCode, strftime(eventTime, '%Y-%m-%d') AS day, eventdate::VARCHAR AS eventdate FROM read_parquet('${local}/**/*.parquet', hive_partitioning = true) ORDER BY seq::INTEGER`);
    expect(rows).toEqual(
      lake.map((row) => {
        const cells = Object.assign({}, ...row) as Record<string, string>;
        const day = cells.eventTime!.slice(0, 10);
        return { seq: cells.seq, eventID: cells.eventID, eventName: cells.eventName, awsRegion: cells.awsRegion, errorCode: cells.errorCode ?? null, day, eventdate: day };
      }),
    );
    const report = await verifyDataset(store);
    expect(report).toMatchObject({ ok: true, files: 15, rows: 3000, problems: [] });
  });

  it('leaves no data file and no _SUCCESS in a store of the caller when the manifest cannot be written,', async () => {
    const { store, objects } = memoryStore('mem://broken/', { failPut: '_manifest.json' });
    const error = await exportQuery({ queryId: lakeId, store, partitionBy: ['eventTime:day'], ...emulatorOptions(emulator) }).catch((e: unknown) => e);
    expect(isCtlakeError(error, 'DESTINATION_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/^export to mem:\/\/broken\/ failed: quota exceeded writing _manifest\.json/);
    expect([...objects.keys()]).toEqual([]);
  });

  it('runs a scheduled job into a store of the caller: every window, each event once', async () => {
    const { store, objects } = memoryStore('mem://windows/');
    const sqlTemplate = `SELECT eventID, eventTime FROM ${emulator.eventDataStoreId} WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}' ORDER BY eventTime, eventID`;
    const since = Date.parse('2024-05-01T00:00:00Z');
    const result = await exportWindows({ sqlTemplate, store, windowMs: 6 * 3_600_000, since, now: since + 24 * 3_600_000, ...emulatorOptions(emulator) });
    expect(result.status).toBe('exported');
    expect(result.windows).toHaveLength(4);
    const reference = memoryDestination('memory://all.ndjson');
    await exportQuery({ sql: `SELECT eventID FROM ${emulator.eventDataStoreId} WHERE eventTime >= '2024-05-01 00:00:00' AND eventTime < '2024-05-02 00:00:00'`, destination: reference.destination, ...emulatorOptions(emulator) });
    const expectedIds = parseNdjson(reference.committed()!.toString('utf8')).map((r) => r.eventID).sort();
    expect(expectedIds.length).toBeGreaterThan(0);
    const local = path.join(dir, 'windows');
    const parts = [...objects.keys()].filter((n) => n.endsWith('.parquet'));
    await copyOut(objects, parts, local);
    const ids = (await query(db, `SELECT eventID FROM read_parquet('${local}/**/*.parquet')`)).map((r) => r.eventID).sort();
    expect(ids).toEqual(expectedIds);
    expect((await verifyDataset(store)).ok).toBe(true);
  });
});

describe('exportQuery refuses a misused sink before any I/O', () => {
  // Nothing listens here: any request would fail with NETWORK_ERROR, not a TypeError.
  const nowhere = { queryId: '0a1b2c3d-0000-4000-8000-123456789abc', endpointUrl: 'http://127.0.0.1:9', region: 'us-east-1', retry: { retries: 0 } };
  const good = () => memoryDestination('memory://x').destination;

  it.each([
    ['out and destination', { out: '-', destination: good() }, /^Invalid option destination: "out and destination both given"; expected exactly one of out, destination and store$/],
    ['destination and store', { destination: good(), store: memoryStore('mem://x/').store }, /^Invalid option store: "destination and store both given"/],
    ['none of them', {}, /^Invalid option out: undefined; expected '-' for stdout/],
    ['a destination without commit()', { destination: { ...good(), commit: undefined } }, /^Invalid option destination: "an object without commit\(\)"; expected a Destination: \{ location, writable, bytesWritten\(\), commit\(\), abort\(\) \}$/],
    ['a destination whose writable is no stream', { destination: { ...good(), writable: {} } }, /^Invalid option destination: "an object without writable"/],
    ['a destination that is a string', { destination: 'memory://x' }, /^Invalid option destination: "memory:\/\/x"; expected a Destination/],
    ['a store without putIf() and root', { store: { ...memoryStore('mem://x/').store, putIf: undefined, root: undefined } }, /^Invalid option store: "an object without root, putIf\(\)"; expected an ObjectStore/],
    ['partitionBy with a destination', { destination: good(), partitionBy: ['eventTime:day'] }, /^Invalid option partitionBy: .*an out that is a dataset.*or a store/],
  ])('%s', async (_name, options, message) => {
    const error = await exportQuery({ ...nowhere, ...(options as object) } as Parameters<typeof exportQuery>[0]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ name: 'OptionError' });
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a destination for a job, which needs a dataset', async () => {
    const error = await exportWindows({ sqlTemplate: "WHERE eventTime >= '{{start}}' AND eventTime < '{{end}}'", destination: good(), windowMs: 3_600_000, since: 0, now: 3_600_000, ...nowhere }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'OptionError', option: 'destination' });
  });
});

describe('messages name library options, and a caller renders them with its own names', () => {
  it('QUERY_TIMED_OUT names queryTimeoutMs, and describe() names it as the CLI does', async () => {
    const emulator = await startEmulator({ sample: 50, seed: 4, runningMs: 10_000 });
    try {
      const sink = memoryDestination('memory://late.ndjson');
      const error = await exportQuery({ sql: `SELECT eventName FROM ${emulator.eventDataStoreId}`, destination: sink.destination, queryTimeoutMs: 200, ...emulatorOptions(emulator) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'QUERY_TIMED_OUT', option: 'queryTimeoutMs' });
      expect((error as CtlakeError).message).toMatch(/did not finish within queryTimeoutMs 0s; cancelled it \(CANCELLED\)$/);
      const flags: Record<string, string> = { queryTimeoutMs: '--query-timeout' };
      expect((error as CtlakeError).describe((option) => flags[option] ?? option)).toMatch(/did not finish within --query-timeout 0s; cancelled it \(CANCELLED\)$/);
      expect(sink.calls).toEqual({ commit: 0, abort: 1 });
    } finally {
      await emulator.close();
    }
  });
});
