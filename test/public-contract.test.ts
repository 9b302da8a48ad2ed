import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The public contract, pinned: the names each entry point exports (values at
 * run time, types from the source), and the package's `exports` map. A change
 * here is a change of the API a library user relies on; make it on purpose.
 */
const source = (file: string) => readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');

/** The names of `export type { ... }` lines of an entry file. */
function typeNames(file: string): string[] {
  return [...source(file).matchAll(/^export type \{([^}]+)\}/gm)].flatMap((m) => m[1]!.split(',').map((n) => n.trim())).sort();
}

describe('the public contract', () => {
  it("'ctlake' exports these values", async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'CallStats',
      'CtlakeError',
      'RateLimiter',
      'backfill',
      'cancelQuery',
      'createCloudTrailClient',
      'createRowStream',
      'describeQuery',
      'exportQuery',
      'exportWindows',
      'isCtlakeError',
      'limitClient',
      'listQueries',
      'localStore',
      'migrate',
      'verifyDataset',
    ]);
  });

  it("'ctlake' exports these types", () => {
    expect(typeNames('index.ts')).toEqual([
      'BackfillOptions',
      'BackfillProgress',
      'BackfillSummary',
      'CallStatsSnapshot',
      'CancelQueryOptions',
      'CancelQueryResult',
      'ClientOptions',
      'ColumnSchema',
      'ColumnType',
      'Compression',
      'CtlakeErrorCode',
      'CtlakeErrorContext',
      'DescribeQueryOptions',
      'DescribedQuery',
      'Destination',
      'ExportCheckpoint',
      'ExportOptions',
      'ExportSummary',
      'FlatRecord',
      'JobOptions',
      'JobState',
      'ListQueriesOptions',
      'ListedQuery',
      'Manifest',
      'ManifestExport',
      'ManifestFile',
      'MigrateOptions',
      'MigrateProgress',
      'MigrateSlice',
      'MigrateState',
      'MigrateSummary',
      'MigrationPlan',
      'NestedMode',
      'ObjectStore',
      'OutputFormat',
      'PageEvent',
      'QueryStatisticsSummary',
      'QueryStatus',
      'RateLimiterOptions',
      'ReconcileResult',
      'RetryEvent',
      'RetryOptions',
      'RunRecord',
      'RunResult',
      'SourceOptions',
      'StoredObject',
      'VerifyReport',
      'WindowOptions',
      'WindowRunSummary',
    ]);
  });

  it("'ctlake/emulator' and 'ctlake/s3' export these", async () => {
    expect(Object.keys(await import('../src/emulator/index.js')).sort()).toEqual(['startEmulator']);
    expect(typeNames('emulator/index.ts')).toEqual(['CannedQuery', 'Emulator', 'EmulatorCredentials', 'EmulatorOptions', 'FaultOptions', 'LifecycleOptions', 'RequestRecord']);
    expect(Object.keys(await import('../src/destinations/s3-entry.js')).sort()).toEqual(['createS3Client', 's3Store']);
    expect(typeNames('destinations/s3-entry.ts')).toEqual(['S3ClientOptions', 'S3WriteOptions', 'ServerSideEncryption']);
  });

  it('package.json has these entry points, types first', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown>; bin: unknown };
    expect(pkg.exports).toEqual({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './emulator': { types: './dist/emulator/index.d.ts', default: './dist/emulator/index.js' },
      './s3': { types: './dist/destinations/s3-entry.d.ts', default: './dist/destinations/s3-entry.js' },
      './package.json': './package.json',
    });
    for (const entry of Object.values(pkg.exports)) if (typeof entry === 'object') expect(Object.keys(entry as object)[0]).toBe('types');
    expect(pkg.bin).toEqual({ ctlake: 'dist/cli/bin.js' });
  });
});
