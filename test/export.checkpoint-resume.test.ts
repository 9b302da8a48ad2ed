import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Emulator } from '../src/emulator/server.js';
import { exportQuery } from '../src/export/export-query.js';
import type { ExportCheckpoint } from '../src/export/export-checkpoint.js';
import type { Manifest } from '../src/dataset/manifest.js';
import { isCtlakeError } from '../src/errors.js';
import { emulatorClient, FAST_RETRY, withEmulator } from './support/lake.js';
import { duckdb, query } from './support/duckdb.js';

const SQL = (eds: string) => `SELECT eventID, eventTime, eventName, awsRegion FROM ${eds} ORDER BY eventTime, eventID`;

describe('checkpoints and resume of a dataset export', () => {
  let emulator: Emulator;
  let dir: string;
  let db: DuckDBConnection;
  beforeAll(async () => {
    emulator = await withEmulator({ sample: 2500 });
    dir = await mkdtemp(path.join(tmpdir(), 'ctlake-resume-'));
    db = await duckdb();
  });
  afterAll(async () => {
    db.closeSync();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  const base = () => ({ client: emulatorClient(emulator), retry: FAST_RETRY, pollMinMs: 1, pageSize: 100 });

  it('takes checkpoints at page ends, and a resumed export writes every row once, in order, reading only the pages after the checkpoint', async () => {
    const full = path.join(dir, 'full') + '/';
    const whole = await exportQuery({ ...base(), sql: SQL(emulator.eventDataStoreId), out: full, datasetKey: 'slice-1' });
    expect(whole.rows).toBe(2500);

    const killed = path.join(dir, 'killed') + '/';
    let kept: ExportCheckpoint | undefined;
    let started = '';
    const controller = new AbortController();
    const pending = exportQuery({
      ...base(),
      sql: SQL(emulator.eventDataStoreId),
      out: killed,
      datasetKey: 'slice-1',
      checkpointRows: 250,
      maxRowsPerFile: 400,
      signal: controller.signal,
      onQueryStarted: (id) => (started = id),
      onCheckpoint: async (cp) => {
        if (cp.rows >= 1000 && !kept) {
          kept = structuredClone(cp);
          // Copy the files aside: the interrupt below removes them, a kill would not.
          for (const f of cp.files) await writeFile(path.join(dir, `keep-${f.path.replace(/\//g, '_')}`), await readFile(path.join(killed, f.path)));
          controller.abort(new Error('killed'));
        }
      },
    });
    await expect(pending).rejects.toSatisfy((error) => isCtlakeError(error, 'INTERRUPTED'));
    for (const f of kept!.files) {
      const target = path.join(killed, f.path);
      await writeFile(target, await readFile(path.join(dir, `keep-${f.path.replace(/\//g, '_')}`)));
    }

    const pages = () => emulator.requests.filter((r) => r.operation === 'GetQueryResults' && r.input.QueryId === started).length;
    const pagesBefore = pages();
    const startsBefore = emulator.requests.filter((r) => r.operation === 'StartQuery').length;
    let more = 0;
    const summary = await exportQuery({
      ...base(),
      queryId: started,
      out: killed,
      datasetKey: 'slice-1',
      checkpointRows: 250,
      maxRowsPerFile: 400,
      resumeFrom: kept,
      onCheckpoint: () => void more++,
    });
    // Checkpoints come at page ends (300, 600, 900, 1200 rows): the chain goes on from page 12's token, and no new query.
    expect(kept!.rows).toBe(1200);
    expect(kept!.pages).toBe(12);
    expect(pages() - pagesBefore).toBe(25 - 12);
    expect(emulator.requests.filter((r) => r.operation === 'StartQuery').length).toBe(startsBefore);
    expect(summary.rows).toBe(2500);
    expect(more).toBeGreaterThan(0);
    const manifest = JSON.parse(await readFile(path.join(killed, '_manifest.json'), 'utf8')) as Manifest;
    const entry = manifest.exports[0]!;
    expect(entry.rows).toBe(2500);
    expect(entry.files.map((f) => f.path)).toEqual(expect.arrayContaining(kept!.files.map((f) => f.path)));
    const names = (await readdir(killed)).filter((n) => n.endsWith('.parquet')).sort();
    expect(names).toEqual(entry.files.map((f) => f.path).sort());
    // Value for value, the same rows as the export that ran through.
    const read = (dir: string) => query(db, `SELECT eventID, eventTime, eventName, awsRegion FROM read_parquet('${dir}*.parquet') ORDER BY eventTime, eventID`);
    const [a, b] = [await read(full), await read(killed)];
    expect(b).toHaveLength(2500);
    expect(b).toEqual(a);
    const ids = await query(db, `SELECT COUNT(DISTINCT eventID) AS n FROM read_parquet('${killed}*.parquet')`);
    expect(Number(ids[0]!.n)).toBe(2500);
  });

  it('refuses a checkpoint whose files changed (RESUME_REFUSED) and one for another query or page size (TypeError)', async () => {
    const out = path.join(dir, 'tampered') + '/';
    let kept: ExportCheckpoint | undefined;
    let started = '';
    const summary = await exportQuery({
      ...base(),
      sql: SQL(emulator.eventDataStoreId),
      out,
      datasetKey: 'slice-2',
      checkpointRows: 500,
      onQueryStarted: (id) => (started = id),
      onCheckpoint: (cp) => void (kept ??= structuredClone(cp)),
    });
    expect(summary.rows).toBe(2500);
    const file = path.join(out, kept!.files[0]!.path);
    const bytes = await readFile(file);
    bytes[bytes.length - 20]! ^= 1;
    await writeFile(file, bytes);
    await expect(exportQuery({ ...base(), queryId: started, out, datasetKey: 'slice-2', resumeFrom: kept })).rejects.toSatisfy((error) => isCtlakeError(error, 'RESUME_REFUSED'));
    await expect(exportQuery({ ...base(), queryId: '0a1b2c3d-0000-4000-8000-00000000beef', out, datasetKey: 'slice-2', resumeFrom: kept })).rejects.toThrow(/resumeFrom.queryId/);
    await expect(exportQuery({ ...base(), pageSize: 50, queryId: started, out, datasetKey: 'slice-2', resumeFrom: kept })).rejects.toThrow(/resumeFrom.pageSize/);
    await expect(exportQuery({ ...base(), queryId: started, out, datasetKey: 'slice-2', resumeFrom: { ...kept!, files: [{ ...kept!.files[0]!, path: '../escape.parquet' }] } })).rejects.toThrow(
      /resumeFrom.files\[0\].path/,
    );
  });

  it('a token the service no longer accepts fails with INVALID_NEXT_TOKEN, so the caller starts over', async () => {
    const out = path.join(dir, 'badtoken') + '/';
    let kept: ExportCheckpoint | undefined;
    let started = '';
    await exportQuery({
      ...base(),
      sql: SQL(emulator.eventDataStoreId),
      out,
      datasetKey: 'slice-3',
      checkpointRows: 500,
      onQueryStarted: (id) => (started = id),
      onCheckpoint: (cp) => void (kept ??= structuredClone(cp)),
    });
    await expect(exportQuery({ ...base(), queryId: started, out, datasetKey: 'slice-3', resumeFrom: { ...kept!, nextToken: 'bm90LWEtdG9rZW4' } })).rejects.toSatisfy((error) =>
      isCtlakeError(error, 'INVALID_NEXT_TOKEN'),
    );
  });
});
