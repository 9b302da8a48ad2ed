import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CtlakeError, isCtlakeError, type OptionNamer } from '../errors.js';
import type { Destination } from '../destinations/destination.js';
import type { ObjectStore } from '../destinations/store.js';
import { encodeStages, fileExtension, type Encoding } from '../formats/encode.js';
import type { FlatRecord } from '../rows/flatten-row.js';
import { columnLabel } from '../rows/parse-value.js';
import type { ColumnSchema } from '../rows/schema.js';
import { BatchChannel } from './batch-channel.js';
import { NULL_PARTITION, partitionPath, type PartitionLevel } from './partition.js';

/** How a dataset's files are cut; resolved by normalizeExportOptions. */
export interface DatasetLayout {
  partitionBy: PartitionLevel[];
  /** A file is closed when it holds this many rows; the next rows go to the next part. */
  maxRowsPerFile: number | undefined;
  /**
   * A file is closed at the first batch after it reached this many bytes.
   * Parquet grows a row group at a time, so a file may pass it by up to one
   * row group (--row-group-rows).
   */
  maxFileBytes: number | undefined;
  /**
   * Files open at once, whatever the number of partitions: past it the file
   * used least recently is finished, and its partition's later rows go to a
   * new part. Memory is bounded by maxOpenFiles × (one Parquet row group, or
   * one NDJSON batch, + for S3 partSize × queueSize).
   * @default 8
   */
  maxOpenFiles: number;
}

/** A data file this export wrote, as the manifest records it. */
export interface WrittenFile {
  /** Relative to the dataset's root: `eventdate=2024-05-01/part-00000-KEY.parquet`. */
  path: string;
  /** The partition's key-value pairs, unescaped. */
  partition: Record<string, string | null>;
  rows: number;
  bytes: number;
  sha256: string;
  /** Parquet: the file's schema. */
  schema: ColumnSchema[] | undefined;
}

/**
 * Checkpoints of a long export: at a batch boundary the caller chooses, every
 * open file is finished and committed, and `save` is told of every file
 * finished so far, so that an export killed later can go on from that batch
 * with the files it lists (`resumed`) instead of from the start.
 */
export interface DatasetCheckpoints {
  /**
   * Files an earlier run of this export committed before its last
   * checkpoint: listed first in the result, and their part numbers are not
   * used again. They are removed with the others if this export fails.
   */
  resumed: readonly WrittenFile[];
  /** Asked after each batch is routed, with the rows routed since the last checkpoint: whether to checkpoint after it. */
  due(batch: readonly FlatRecord[], rowsSince: number): boolean;
  /** Every file finished so far (resumed ones first), all committed; the next batch waits for it. */
  save(files: readonly WrittenFile[], batch: readonly FlatRecord[]): Promise<void>;
}

interface OpenFile {
  path: string;
  partition: Record<string, string | null>;
  channel: BatchChannel<FlatRecord[]>;
  /** Rows routed to the file so far. */
  counted: { rows: number };
  bytes: () => number;
  /** Settles when the file is finished and committed (or failed). */
  finished: Promise<WrittenFile>;
  lastUsed: number;
}

/**
 * Writes record batches as the data files of one export into `store`:
 * partitioned by `layout.partitionBy`, rolled by rows and bytes, named
 * `PARTITION/part-NNNNN-KEY.EXT` with NNNNN counting the parts of each
 * partition, so the same rows in the same order give the same names (a
 * rerun replaces its own files). Rows keep their order within a partition.
 *
 * Each file streams through its own encoder into a Destination and is
 * committed when it is finished; the SHA-256 and size are taken from the
 * bytes as they go out. On any failure every file of this export, finished
 * or not, is aborted or removed before the promise rejects, so an export
 * that fails leaves none of its files behind. Writing the manifest and
 * `_SUCCESS` is the caller's step (commitDataset).
 */
export async function writeDataset(
  batches: AsyncIterable<FlatRecord[]>,
  store: ObjectStore,
  layout: DatasetLayout,
  encoding: Encoding,
  key: string,
  signal?: AbortSignal,
  checkpoints?: DatasetCheckpoints,
): Promise<WrittenFile[]> {
  const open = new Map<string, OpenFile>();
  const parts = new Map<string, number>();
  const resumed = checkpoints?.resumed ?? [];
  const finished: Array<Promise<WrittenFile>> = resumed.map((file) => Promise.resolve(file));
  const destinations: Destination[] = [];
  /** Files committed so far: removed again if the export fails. */
  const committed: string[] = resumed.map((file) => file.path);
  // A resumed export numbers its parts on from the files it had.
  for (const file of resumed) {
    const slash = file.path.lastIndexOf('/');
    const folder = slash < 0 ? '' : file.path.slice(0, slash);
    const part = Number(/part-(\d+)-/.exec(file.path.slice(slash + 1))?.[1] ?? -1);
    parts.set(folder, Math.max(parts.get(folder) ?? 0, part + 1));
  }
  let sinceCheckpoint = 0;
  let clock = 0;
  let failure: unknown;

  const startFile = async (folder: string, partition: Record<string, string | null>): Promise<OpenFile> => {
    if (open.size >= layout.maxOpenFiles) {
      const oldest = [...open.entries()].reduce((a, b) => (b[1].lastUsed < a[1].lastUsed ? b : a));
      await finish(oldest[0], oldest[1]);
    }
    const part = parts.get(folder) ?? 0;
    parts.set(folder, part + 1);
    const path = `${folder ? `${folder}/` : ''}part-${String(part).padStart(5, '0')}-${key}${fileExtension(encoding)}`;
    const destination = await store.create(path);
    destinations.push(destination);
    const channel = new BatchChannel<FlatRecord[]>();
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    let schema: ColumnSchema[] | undefined;
    const run = async (): Promise<WrittenFile> => {
      try {
        await pipeline([...encodeStages(channel, encoding, (columns) => (schema = [...columns])), tap, destination.writable], signal ? { signal } : {});
        await destination.commit();
        committed.push(path);
      } catch (error) {
        failure ??= error;
        channel.fail(error);
        throw error;
      }
      return { path, partition, rows: counted.rows, bytes, sha256: hash.digest('hex'), schema };
    };
    // The router counts rows as it routes them; `run` reads the count when the file is done.
    const counted = { rows: 0 };
    const file: OpenFile = {
      path,
      partition,
      channel,
      counted,
      bytes: () => bytes,
      lastUsed: clock,
      finished: run(),
    };
    // Observed through `finished` (and by finish()); never an unhandled rejection.
    file.finished.catch(() => undefined);
    finished.push(file.finished);
    return file;
  };

  const finish = async (folder: string, file: OpenFile) => {
    open.delete(folder);
    file.channel.close();
    await file.finished;
  };

  const route = async (folder: string, partition: Record<string, string | null>, records: FlatRecord[]) => {
    let rest = records;
    while (rest.length > 0) {
      let file = open.get(folder);
      if (!file) {
        file = await startFile(folder, partition);
        open.set(folder, file);
      }
      file.lastUsed = ++clock;
      const room = layout.maxRowsPerFile === undefined ? rest.length : layout.maxRowsPerFile - file.counted.rows;
      const chunk = room >= rest.length ? rest : rest.slice(0, room);
      rest = chunk === rest ? [] : rest.slice(room);
      file.counted.rows += chunk.length;
      await file.channel.push(chunk);
      const full = layout.maxRowsPerFile !== undefined && file.counted.rows >= layout.maxRowsPerFile;
      if (full || (layout.maxFileBytes !== undefined && file.bytes() >= layout.maxFileBytes)) await finish(folder, file);
    }
  };

  // Records carry every column seen so far (ColumnSet), so the last one's keys are all the columns.
  let columns: string[] = [];
  try {
    for await (const batch of batches) {
      if (failure !== undefined) throw failure;
      if (batch.length) columns = Object.keys(batch[batch.length - 1]!);
      for (const [folder, records] of splitByPartition(layout.partitionBy, batch)) {
        await route(folder, partitionValues(folder), records);
      }
      sinceCheckpoint += batch.length;
      if (checkpoints?.due(batch, sinceCheckpoint)) {
        for (const [folder, file] of [...open]) await finish(folder, file);
        await checkpoints.save(await Promise.all(finished), batch);
        sinceCheckpoint = 0;
      }
    }
    // A column no row had is a misspelt --partition-by, not a column of nulls.
    const unknown = columns.length ? layout.partitionBy.find((level) => !columns.includes(level.column)) : undefined;
    if (unknown) {
      // Names from the data, quoted and cut, and at most 20 of them: the message stays one bounded line.
      const shown = columns.slice(0, 20).map(columnLabel).join(', ') + (columns.length > 20 ? ` and ${columns.length - 20} more` : '');
      const label = columnLabel(unknown.column);
      throw new CtlakeError('INVALID_OPTION', (n) => `${n('partitionBy')} ${label}: the query has no column ${label}; its columns are ${shown}`, {
        column: unknown.column,
        option: 'partitionBy',
      });
    }
    for (const [folder, file] of [...open]) await finish(folder, file);
    return await Promise.all(finished);
  } catch (error) {
    const cause = failure ?? error;
    for (const file of open.values()) file.channel.fail(cause);
    await Promise.allSettled(finished);
    await Promise.allSettled(destinations.map((d) => d.abort()));
    const removed = await Promise.allSettled(committed.map((path) => store.remove(path)));
    const left = committed.filter((_, i) => removed[i]!.status === 'rejected');
    if (left.length) {
      // The cause's message as it names options: the caller's names, through `n`.
      const said = (n: OptionNamer) => (isCtlakeError(cause) ? cause.describe(n) : (cause as Error).message);
      throw new CtlakeError(
        'DESTINATION_FAILED',
        (n) => `${said(n)}; and ${left.length} finished file(s) could not be removed (${left.slice(0, 3).join(', ')}); there is no _SUCCESS for this export, rerun it`,
        { cause, option: isCtlakeError(cause) ? cause.option : undefined },
      );
    }
    throw cause;
  }
}

/** The batch's records grouped by partition folder, each group in the batch's order. */
function splitByPartition(levels: readonly PartitionLevel[], batch: readonly FlatRecord[]): Map<string, FlatRecord[]> {
  const groups = new Map<string, FlatRecord[]>();
  if (levels.length === 0) {
    if (batch.length) groups.set('', [...batch]);
    return groups;
  }
  for (const record of batch) {
    let folder: string;
    try {
      folder = partitionPath(levels, record);
    } catch (error) {
      throw new CtlakeError('VALUE_INVALID', (n) => `${(error as Error).message}; choose another ${n('partitionBy')}`, { cause: error, option: 'partitionBy' });
    }
    let group = groups.get(folder);
    if (!group) groups.set(folder, (group = []));
    group.push(record);
  }
  return groups;
}

/** `a=1/b=x%2Fy` to `{ a: '1', b: 'x/y' }`. */
export function partitionValues(folder: string): Record<string, string | null> {
  if (folder === '') return {};
  return Object.fromEntries(
    folder.split('/').map((level) => {
      const at = level.indexOf('=');
      const value = level.slice(at + 1);
      // Hive's default partition is a null (or empty) value; the text `__HIVE_DEFAULT_PARTITION__` is escaped, so never this.
      return [level.slice(0, at), value === NULL_PARTITION ? null : decodeURIComponent(value)];
    }),
  );
}
