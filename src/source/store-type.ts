import { GetEventDataStoreCommand, type AdvancedEventSelector, type CloudTrailClient, type GetEventDataStoreCommandOutput } from '@aws-sdk/client-cloudtrail';
import type { LakeStoreType } from '../lake-model.js';
import { withRetry, type RetryEvent, type RetryOptions } from './retry.js';

/**
 * Which published schema an event data store's rows follow, from its
 * GetEventDataStore description. Lake fixes a store's kind by its advanced
 * event selectors: the `eventCategory` field selector says `Management` or
 * `Data` (CloudTrail events; also `NetworkActivity`), `Insight`,
 * `ConfigurationItem`, `Evidence` (Audit Manager) or `ActivityAuditLog`
 * (events from integrations outside AWS).
 */

/** How the store type of an export was settled: given, read from the store, or not known. */
export type StoreTypeSource = 'option' | 'event-data-store' | 'unknown';

export interface StoreTypeAnswer {
  /** Undefined when it is not known. */
  storeType: LakeStoreType | undefined;
  source: StoreTypeSource;
  /** Why it is not known (GetEventDataStore refused, or the selectors name categories of two types). */
  reason?: string | undefined;
}

const CATEGORIES: ReadonlyMap<string, LakeStoreType> = new Map([
  ['management', 'cloudtrail-events'],
  ['data', 'cloudtrail-events'],
  ['networkactivity', 'cloudtrail-events'],
  ['insight', 'cloudtrail-insights'],
  ['configurationitem', 'config-configuration-items'],
  ['evidence', 'audit-manager-evidence'],
  ['activityauditlog', 'integration-events'],
]);

/**
 * The store type that advanced event selectors describe, or undefined when
 * they name no category ctlake knows or name categories of two types.
 * A store with no selectors at all collects CloudTrail management events.
 */
export function storeTypeOfSelectors(selectors: readonly AdvancedEventSelector[] | undefined): LakeStoreType | undefined {
  if (selectors === undefined || selectors.length === 0) return 'cloudtrail-events';
  const found = new Set<LakeStoreType>();
  for (const selector of selectors) {
    for (const field of selector.FieldSelectors ?? []) {
      if (field.Field?.toLowerCase() !== 'eventcategory') continue;
      for (const value of field.Equals ?? []) {
        const type = CATEGORIES.get(String(value).toLowerCase());
        if (type !== undefined) found.add(type);
      }
    }
  }
  if (found.size === 0) return 'cloudtrail-events';
  return found.size === 1 ? [...found][0] : undefined;
}

export interface StoreTypeOptions {
  signal?: AbortSignal | undefined;
  retry: RetryOptions;
  onRetry?: ((event: RetryEvent) => void) | undefined;
}

/**
 * One GetEventDataStore call for the store `ref` (an ARN or id), retried as
 * every call is; its errors are withRetry's CtlakeErrors. The one place the
 * call is made: storeTypeOf and describeEventDataStore
 * (event-data-store.ts) read its answer each their own way.
 */
export async function getEventDataStore(client: CloudTrailClient, ref: string, options: StoreTypeOptions): Promise<GetEventDataStoreCommandOutput> {
  return withRetry(() => client.send(new GetEventDataStoreCommand({ EventDataStore: ref }), { abortSignal: options.signal }), {
    operation: 'GetEventDataStore',
    signal: options.signal,
    retry: options.retry,
    onRetry: options.onRetry,
  });
}

/**
 * Asks GetEventDataStore for the store `ref` (an ARN or id, as the query's
 * FROM names it) and reads its type from the selectors. A refusal (no
 * cloudtrail:GetEventDataStore permission, a store of another account, a
 * selector set of two types) is not a failure: the type is not known, and
 * `reason` says why, for a warning. Never guessed: a wrong guess would type
 * every column of the export wrongly. Retried like every call; an abort
 * rejects with INTERRUPTED.
 */
export async function storeTypeOf(client: CloudTrailClient, ref: string, options: StoreTypeOptions): Promise<StoreTypeAnswer> {
  let selectors: AdvancedEventSelector[] | undefined;
  try {
    selectors = (await getEventDataStore(client, ref, options)).AdvancedEventSelectors;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    // The service's error name says enough (AccessDeniedException, EventDataStoreNotFoundException); its message may advise options that do not apply here.
    const cause = (error as { cause?: { name?: unknown } }).cause;
    const name = typeof cause?.name === 'string' && /^[A-Za-z]{1,80}$/.test(cause.name) ? cause.name : (error as Error).message.split('\n')[0]!.slice(0, 200);
    return { storeType: undefined, source: 'unknown', reason: `GetEventDataStore answered ${name}` };
  }
  const storeType = storeTypeOfSelectors(selectors);
  if (storeType === undefined) return { storeType: undefined, source: 'unknown', reason: 'its advanced event selectors name event categories of more than one store type' };
  return { storeType, source: 'event-data-store' };
}
