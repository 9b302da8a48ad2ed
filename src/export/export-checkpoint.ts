import { createHash } from 'node:crypto';
import { CtlakeError, optionError, quoted } from '../errors.js';
import { badObjectName, type ObjectStore } from '../destinations/store.js';
import { isDataFileOf, type ManifestFile } from '../dataset/manifest.js';
import type { WrittenFile } from '../dataset/write-dataset.js';
import { schemaDifference, type ColumnRecord } from '../rows/schema.js';

/**
 * Where a dataset export stands at a checkpoint: every row of the pages
 * before `nextToken` is in `files`, each committed, and nothing else of the
 * export is. A job keeps it (migrate's state) so that an export killed
 * later goes on from there with `resumeFrom`, on the same query, without
 * starting (and paying for) the query again.
 */
export interface ExportCheckpoint {
  queryId: string;
  /** The MaxQueryResults the pages were read with: a NextToken is valid for that size only. */
  pageSize: number;
  /** The NextToken of the first page not yet read. */
  nextToken: string;
  /** Pages read: the next page's index. */
  pages: number;
  /** Rows in `files`. */
  rows: number;
  /** The data files so far, as the manifest will list them. */
  files: ManifestFile[];
  /** The columns of those files: a resume that would settle other columns starts over. */
  schema: ColumnRecord[] | undefined;
  /** When the checkpoint was taken, ISO-8601. */
  at: string;
}

/** A checkpoint's files at most: a checkpoint comes from a state on disk or S3, and is input. */
const MAX_CHECKPOINT_FILES = 100_000;

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Checks a checkpoint field by field before anything acts on it (it was
 * read from a state file, edited or damaged perhaps): the query, page size
 * and key it must match, a token, counts that add up, and file paths that
 * are data files of this key below the dataset's root. Throws TypeError
 * (OptionError) naming the field.
 */
export function checkCheckpoint(value: unknown, expected: { queryId: string | undefined; pageSize: number; key: string | undefined }): ExportCheckpoint {
  const fail = (field: string, got: unknown, want: string): never => {
    throw optionError(`resumeFrom.${field}`, got, want);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('', value, 'a checkpoint from onCheckpoint');
  const cp = value as Record<string, unknown>;
  if (typeof cp.queryId !== 'string' || cp.queryId !== expected.queryId) fail('queryId', cp.queryId, `the queryId of the export (${quoted(expected.queryId)})`);
  if (cp.pageSize !== expected.pageSize) fail('pageSize', cp.pageSize, `the export's pageSize ${expected.pageSize}: a NextToken is valid for the page size it was given for`);
  if (typeof cp.nextToken !== 'string' || cp.nextToken === '' || cp.nextToken.length > 65_536) fail('nextToken', cp.nextToken, 'a NextToken');
  if (!isCount(cp.pages) || cp.pages < 1) fail('pages', cp.pages, 'a whole number of pages from 1');
  if (!isCount(cp.rows)) fail('rows', cp.rows, 'a whole number of rows');
  if (!Array.isArray(cp.files) || cp.files.length > MAX_CHECKPOINT_FILES) fail('files', cp.files, `a list of at most ${MAX_CHECKPOINT_FILES} files`);
  if (cp.schema !== undefined && !Array.isArray(cp.schema)) fail('schema', cp.schema, 'a list of columns');
  const key = expected.key;
  if (key === undefined) fail('', value, 'a datasetKey: a checkpoint belongs to a key');
  const seen = new Set<string>();
  let rows = 0;
  const files = (cp.files as unknown[]).map((entry, i): ManifestFile => {
    const file = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const path = file.path;
    if (typeof path !== 'string' || badObjectName(path) || !isDataFileOf(path, key!) || seen.has(path)) fail(`files[${i}].path`, path, `a data file of ${key} below the dataset's root, listed once`);
    seen.add(path as string);
    if (!isCount(file.rows) || !isCount(file.bytes)) fail(`files[${i}]`, { rows: file.rows, bytes: file.bytes }, 'whole numbers of rows and bytes');
    if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256)) fail(`files[${i}].sha256`, file.sha256, 'a hex SHA-256');
    const partition = file.partition;
    if (typeof partition !== 'object' || partition === null || Array.isArray(partition) || Object.values(partition).some((v) => v !== null && typeof v !== 'string')) {
      fail(`files[${i}].partition`, partition, 'the partition values by key');
    }
    rows += file.rows as number;
    return { path: path as string, partition: { ...(partition as Record<string, string | null>) }, rows: file.rows as number, bytes: file.bytes as number, sha256: file.sha256 as string };
  });
  if (rows !== cp.rows) fail('rows', cp.rows, `the rows of its files (${rows})`);
  return {
    queryId: cp.queryId as string,
    pageSize: cp.pageSize as number,
    nextToken: cp.nextToken as string,
    pages: cp.pages as number,
    rows,
    files,
    schema: cp.schema as ColumnRecord[] | undefined,
    at: typeof cp.at === 'string' ? cp.at : '',
  };
}

/**
 * Why a checkpoint's files cannot be built on, or undefined when they can:
 * each must still be in the store with the bytes and SHA-256 it had (read
 * back whole: the rows of a resumed export are those files' rows, so they
 * are checked, not trusted), and the columns the export settled must be the
 * ones the files have. A reason means the export starts over.
 */
export async function checkpointProblem(store: ObjectStore, checkpoint: ExportCheckpoint, schema: readonly ColumnRecord[] | undefined): Promise<string | undefined> {
  if (checkpoint.schema && schema) {
    const difference = schemaDifference(checkpoint.schema, schema);
    if (difference) return `its files have other columns (${difference})`;
  }
  for (const file of checkpoint.files) {
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of await store.read(file.path)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    } catch {
      return `its file ${quoted(file.path)} cannot be read`;
    }
    if (bytes !== file.bytes || hash.digest('hex') !== file.sha256) return `its file ${quoted(file.path)} is not the one it wrote (size or SHA-256 differs)`;
  }
  return undefined;
}

/** The files of a checkpoint as writeDataset's resumed files. */
export function resumedFiles(checkpoint: ExportCheckpoint): WrittenFile[] {
  return checkpoint.files.map((file) => ({ ...file, schema: undefined }));
}

/** The error of a resume that cannot go on; the export then starts over. */
export function resumeRefused(checkpoint: ExportCheckpoint, why: string): CtlakeError {
  return new CtlakeError('RESUME_REFUSED', `cannot resume query ${checkpoint.queryId} from its checkpoint at page ${checkpoint.pages}: ${why}; it starts over`, { queryId: checkpoint.queryId });
}
