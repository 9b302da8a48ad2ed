import { quoted } from '../errors.js';
import type { ResolvedExportOptions } from './export-options.js';
import type { ExportRun } from './export-run.js';
import { fileDestination } from '../destinations/file.js';
import { stdoutDestination } from '../destinations/stdout.js';
import { localStore } from '../destinations/store.js';
import { lockExportKey, readManifest, removeLeftovers } from '../dataset/manifest.js';

/**
 * Step 1, before StartQuery, so that an unwritable output fails before a
 * query is started and billed: sets `run.destination` (one file, object,
 * stdout, or the caller's destination) or `run.store` (a dataset), checked
 * for writing. A caller's store is checked with its own `check()`; a
 * caller's destination is used as given. For a dataset, then
 * prepareDataset().
 */
export async function openTarget(run: ExportRun): Promise<void> {
  const options = run.options;
  const sink = options.sink;
  if (sink.kind === 'destination') {
    run.destination = sink.destination;
    return;
  }
  if (sink.kind === 'store') {
    await sink.store.check();
    run.store = sink.store;
    return;
  }
  const target = sink.target;
  switch (target.kind) {
    case 'stdout':
      run.destination = stdoutDestination(options.stdout);
      return;
    case 'file':
      run.destination = await fileDestination(target.path);
      return;
    case 's3':
    case 'dataset': {
      if (target.kind === 'dataset' && target.store.kind === 'local') {
        const store = localStore(target.store.dir);
        await store.check();
        run.store = store;
        return;
      }
      // Loaded only for S3 outputs: the S3 SDK is large.
      const s3Module = await import('../destinations/s3.js');
      const s3 = options.s3Client ?? s3Module.createS3Client({ region: options.region, profile: options.profile, endpointUrl: options.s3EndpointUrl, forcePathStyle: options.s3ForcePathStyle });
      // Set at once: endRun destroys a client ctlake built, whatever fails next.
      run.s3 = s3;
      const { bucket, prefix } = target.kind === 's3' ? { bucket: target.bucket, prefix: target.key.slice(0, target.key.lastIndexOf('/') + 1) } : (target.store as { bucket: string; prefix: string });
      const store = s3Module.s3Store(s3, bucket, prefix, options.s3);
      await store.check();
      if (target.kind === 'dataset') run.store = store;
      else run.destination = s3Module.s3Destination(s3, bucket, target.key, options.s3);
      return;
    }
  }
}

/**
 * Step 1b, for a dataset, before anything is started or written: a manifest
 * that cannot be trusted stops the export (VERIFY_FAILED, with the repair),
 * as the commit would act on the paths it lists; and the key is locked when
 * it is known, so that two runs of one export never interleave their files.
 * A local folder also loses the temporary files of killed runs.
 */
export async function prepareDataset(run: ExportRun): Promise<void> {
  const store = run.store!;
  run.dataset.manifest = await readManifest(store);
  const known = run.options.datasetKey ?? run.queryId;
  if (known !== undefined) await lockKey(run, known);
  if (isLocalDataset(run.options)) {
    const removed = await removeLeftovers(store);
    if (removed.length) run.options.onWarning?.(`removed ${removed.length} temporary file${removed.length === 1 ? '' : 's'} left in ${store.root} by killed runs (${removed.slice(0, 3).map((n) => quoted(n)).join(', ')}${removed.length > 3 ? ', ...' : ''})`);
  }
}

/** Takes `_locks/KEY.lock` into `run.keyLock`; a lock lost later aborts the run with the lock's reason (LOCK_HELD). */
export async function lockKey(run: ExportRun, key: string): Promise<void> {
  const lock = await lockExportKey(run.store!, key);
  run.keyLock = lock;
  const before = lock.tookOver;
  if (before) run.options.onWarning?.(`took over the lock of export ${quoted(key)} from a run that is gone (host ${quoted(before.host)}, pid ${before.pid}, since ${quoted(before.acquiredAt)})`);
  lock.lost.addEventListener('abort', () => run.controller.abort(lock.lost.reason), { once: true });
}

/** A dataset in a local folder that `out` named: the one store whose leftovers ctlake knows how to find. */
function isLocalDataset(options: ResolvedExportOptions): boolean {
  return options.sink.kind === 'out' && options.sink.target.kind === 'dataset' && options.sink.target.store.kind === 'local';
}
