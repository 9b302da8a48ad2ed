import { CtlakeError, OptionError, type CtlakeErrorCode } from '../errors.js';

/** The exit codes of the `ctlake` command, as the README documents them. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  QUERY_ENDED: 3,
  /** `ctlake verify`: the dataset does not match its manifest. */
  VERIFY_FAILED: 5,
  /** A windowed or backfill run found nothing to export: no window has closed, or every slice is done. */
  NOTHING_TO_DO: 6,
  /** A windowed or backfill run exported some windows or slices, and others failed. */
  PARTIAL: 7,
  /** Another run of the same job holds its lock. */
  LOCK_HELD: 8,
  /** The rows or the dataset do not fit the export's schema: a column the SQL did not announce, or a dataset whose files have another schema. */
  SCHEMA_CHANGED: 9,
  /** `ctlake migrate`: Lake's per-day counts differ from the rows committed; the next run exports those slices again. */
  RECONCILE_MISMATCH: 10,
  /** Lake did not deliver the query's results to DeliveryS3Uri (DeliveryStatus FAILED, ACCESS_DENIED, ...). */
  DELIVERY_FAILED: 11,
  INTERRUPTED: 130,
} as const;

const BY_CODE: Partial<Record<CtlakeErrorCode, number>> = {
  INVALID_OPTION: EXIT.USAGE,
  INVALID_QUERY: EXIT.USAGE,
  QUERY_FAILED: EXIT.QUERY_ENDED,
  QUERY_CANCELLED: EXIT.QUERY_ENDED,
  QUERY_TIMED_OUT: EXIT.QUERY_ENDED,
  INTERRUPTED: EXIT.INTERRUPTED,
  VERIFY_FAILED: EXIT.VERIFY_FAILED,
  LOCK_HELD: EXIT.LOCK_HELD,
  SCHEMA_CHANGED: EXIT.SCHEMA_CHANGED,
  RECONCILE_MISMATCH: EXIT.RECONCILE_MISMATCH,
  DELIVERY_FAILED: EXIT.DELIVERY_FAILED,
  STATE_INVALID: EXIT.USAGE,
  DESTINATION_CLOSED: EXIT.OK,
};

/**
 * The exit code for an error: usage errors (TypeError from option checks)
 * are 2, unknown errors 1. 130 means a signal stopped the run, and nothing
 * else: given `signalled: false` (main() passes whether its signal was
 * aborted), an INTERRUPTED that no signal caused, an abort from inside such
 * as a sibling's failure, is a failure, 1.
 */
export function exitCodeFor(error: unknown, options: { signalled?: boolean | undefined } = {}): number {
  if (error instanceof CtlakeError && error.code === 'INTERRUPTED' && options.signalled === false) return EXIT.FAILURE;
  if (error instanceof CtlakeError) return BY_CODE[error.code] ?? EXIT.FAILURE;
  if (error instanceof OptionError || (error instanceof TypeError && error.message.startsWith('Invalid option'))) return EXIT.USAGE;
  return EXIT.FAILURE;
}
