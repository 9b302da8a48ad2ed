/**
 * The shapes of CloudTrail Lake's wire that every layer shares: no logic.
 * The reference for each is the service model
 * (cloudtrail-2013-11-01.service-2.json).
 */

/**
 * A CloudTrail Lake result row as GetQueryResults returns it: a list of
 * single-key maps `{column: value}`, every value a string. A nested field loses
 * its path (`userIdentity.arn` comes back as `arn`), so one row may carry the
 * same key twice, and a null may be a missing key.
 */
export type QueryResultRow = ReadonlyArray<Readonly<Record<string, string>>>;

/** The six QueryStatus values of the service model. Only FINISHED means complete. */
export type QueryStatus = 'QUEUED' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

export const QUERY_STATUSES: readonly QueryStatus[] = Object.freeze(['QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

/**
 * The event data store types whose SQL schema Lake publishes (one file each
 * in src/rows/lake-schemas/). A store's type is fixed by the `eventCategory`
 * of its advanced event selectors.
 */
export type LakeStoreType =
  | 'cloudtrail-events'
  | 'cloudtrail-insights'
  | 'config-configuration-items'
  | 'audit-manager-evidence'
  | 'integration-events';

export const LAKE_STORE_TYPES: readonly LakeStoreType[] = Object.freeze([
  'cloudtrail-events',
  'cloudtrail-insights',
  'config-configuration-items',
  'audit-manager-evidence',
  'integration-events',
]);
