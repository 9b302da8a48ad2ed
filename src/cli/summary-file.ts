import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CtlakeError, quoted } from '../errors.js';
import { usage } from './args.js';

/** A temporary name beside `file`, in the same folder so that a rename is atomic. */
function temporaryName(file: string): string {
  return path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Checks, before any query starts, that `--summary-json FILE` can be
 * written: its folder exists, FILE is not a folder, and a file can be
 * created there (a probe created and removed, which is what the final
 * write needs, and which also catches a read-only file system that an
 * access() check misses for root). So an export that commits never ends in
 * exit 1 only because its summary has nowhere to go. Throws INVALID_OPTION
 * (exit 2) naming the flag and the reason.
 */
export async function checkSummaryPath(file: string): Promise<void> {
  if (file === '') throw usage('--summary-json needs a file name');
  const folder = path.dirname(path.resolve(file));
  const refuse = (why: string) => usage(`--summary-json ${quoted(file)} cannot be written: ${why}; give a file in a folder this user can write`);
  const info = await stat(folder).catch((error: NodeJS.ErrnoException) => {
    throw refuse(error.code === 'ENOENT' ? `its folder ${quoted(folder)} does not exist` : `its folder ${quoted(folder)}: ${error.code ?? error.message}`);
  });
  if (!info.isDirectory()) throw refuse(`${quoted(folder)} is not a folder`);
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw refuse('it is a folder');
  const probe = temporaryName(file);
  try {
    await (await open(probe, 'wx')).close();
  } catch (error) {
    throw refuse(`${(error as NodeJS.ErrnoException).code ?? (error as Error).message} in ${quoted(folder)}`);
  }
  await unlink(probe).catch(() => undefined);
}

/**
 * Writes the summary whole: a temporary file beside it, then a rename, so
 * that a reader (a monitoring job) sees the previous summary or this one,
 * never half of one. A failure is DESTINATION_FAILED that says the export
 * itself is committed.
 */
export async function writeSummary(file: string, record: unknown): Promise<void> {
  const temporary = temporaryName(file);
  try {
    await writeFile(temporary, JSON.stringify(record, null, 2) + '\n', { flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CtlakeError('DESTINATION_FAILED', `cannot write --summary-json ${quoted(file)}: ${code}; the export itself is committed`, { cause: error });
  }
}
