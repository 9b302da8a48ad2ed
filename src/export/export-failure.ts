import { CtlakeError, isCtlakeError } from '../errors.js';
import type { ExportRun } from './export-run.js';
import { callerAborted, datasetKeyOf } from './export-run.js';
import { destinationError } from '../destinations/file.js';
import type { ObjectStore } from '../destinations/store.js';
import { readManifest, withdrawSuccess } from '../dataset/manifest.js';
import type { WrittenFile } from '../dataset/write-dataset.js';
import { cancelStartedQuery } from '../source/start-query.js';

/**
 * The failure path, for a failure at any step: stops the run, calls the
 * destination's `abort()`, removes a dataset's uncommitted files and
 * withdraws its `_SUCCESS` when an earlier export of the key was partly
 * replaced, and cancels a query ctlake started and is leaving unfinished.
 * Resolves with the one CtlakeError the export rejects with; never throws
 * anything else (the clean-ups are best effort, and their own failures do
 * not replace the export's).
 */
export async function failExport(run: ExportRun, error: unknown): Promise<CtlakeError> {
  // Why the run's controller stopped, if it did before this failure: read
  // before the abort below, which stops whatever is still in flight.
  const stoppedBy = run.controller.signal.aborted ? (run.controller.signal.reason as unknown) : undefined;
  run.controller.abort();
  await run.destination?.abort().catch((reason: unknown) => {
    run.options.onWarning?.(`the destination's abort() failed after the export failed: ${reason instanceof Error ? reason.message : String(reason)}`);
  });
  // A run whose key lock was taken over stops, and says why (not "interrupted").
  const lost = run.keyLock?.lost.aborted ? (run.keyLock.lost.reason as CtlakeError) : undefined;
  const failure = run.timedOut ?? lost ?? toExportError(run, error, stoppedBy);
  const store = run.store;
  const key = datasetKeyOf(run);
  // writeDataset removed this export's files; an earlier export of the same
  // key that it overwrote is gone with them, so the dataset must not claim
  // to be complete.
  if (store && run.dataset.uncommitted) await removeUncommitted(store, key, run.dataset.uncommitted);
  if (store && run.dataset.filesStarted && (await withdrawSuccess(store, key).catch(() => false))) {
    failure.message += `; the earlier export ${key} in ${store.root} was partly replaced, so _SUCCESS was removed: rerun`;
  }
  // A query ctlake started and is leaving unfinished is cancelled, so that it
  // stops scanning (and billing) and frees one of the account's 10 slots.
  if (run.startedId !== undefined && run.tally.description === undefined) {
    const status = await cancelStartedQuery(run.client, run.startedId, run.options.retry);
    if (status && run.timedOut) run.timedOut.message += `; cancelled it (${status})`;
  }
  return failure;
}

/**
 * Any failure as the CtlakeError the export rejects with. An abort (an
 * AbortError, or the source's INTERRUPTED) is INTERRUPTED only when the
 * caller's signal stopped the run; an abort for another reason (the run's
 * controller stopped by a CtlakeError such as a lost lock, or an abort
 * carrying one as its cause) is that reason, and an abort of unknown
 * origin is the destination's failure, as any other error.
 */
function toExportError(run: ExportRun, error: unknown, stoppedBy: unknown): CtlakeError {
  const queryId = run.queryId;
  const sink = run.options.sink;
  const named = sink.kind === 'out' ? sink.out : sink.kind === 'store' ? sink.store.root : sink.destination.location;
  const location = run.destination?.location ?? run.store?.root ?? named;
  const isAbort = isCtlakeError(error, 'INTERRUPTED') || (error as Error | undefined)?.name === 'AbortError';
  if (callerAborted(run)) {
    if (!isCtlakeError(error) || isAbort) return new CtlakeError('INTERRUPTED', 'export interrupted; nothing was committed', { queryId, cause: error });
    return error;
  }
  if (isAbort) {
    const reason = [stoppedBy, (error as Error).cause].find((r): r is CtlakeError => isCtlakeError(r) && r.code !== 'INTERRUPTED');
    if (reason) return reason;
  }
  if (isCtlakeError(error) && error.code !== 'INTERRUPTED') return error;
  if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
    return new CtlakeError('DESTINATION_CLOSED', 'stdout closed by its reader', { queryId, cause: error });
  }
  if (typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall) {
    return destinationError(location, error);
  }
  return new CtlakeError('DESTINATION_FAILED', `export to ${location} failed: ${(error as Error).message}`, { queryId, cause: error });
}

/**
 * After a failed commit: removes this export's data files unless the
 * manifest already lists them (the failure came after it was written).
 * Best effort: what cannot be removed is what `verify` reports as extra.
 */
async function removeUncommitted(store: ObjectStore, key: string, files: readonly WrittenFile[]): Promise<void> {
  let manifest;
  try {
    manifest = await readManifest(store);
  } catch {
    // A manifest that cannot be read now may list these very files: removing
    // them could lose the earlier export they replaced. Left for verify.
    return;
  }
  const listed = new Set(manifest?.exports.find((e) => e.key === key)?.files.map((f) => f.path));
  await Promise.allSettled(files.filter((f) => !listed.has(f.path)).map((f) => store.remove(f.path)));
}
