import { GetEventDataStoreCommand, type AdvancedEventSelector, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
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

/** How the store type of an export was settled. */
export type StoreTypeSource = 'option' | 'event-data-store' | 'assumed';

export interface StoreTypeAnswer {
  storeType: LakeStoreType;
  source: StoreTypeSource;
  /** Why the type was assumed (GetEventDataStore refused, or the selectors named no known category). */
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
 * Asks GetEventDataStore for the store `ref` (an ARN or id, as the query's
 * FROM names it) and reads its type from the selectors. A refusal (no
 * cloudtrail:GetEventDataStore permission, a store of another account, a
 * selector set of two types) is not a failure: the type is assumed to be
 * CloudTrail events, and `reason` says why, for a warning. Retried like
 * every call; an abort rejects with INTERRUPTED.
 */
export async function storeTypeOf(client: CloudTrailClient, ref: string, options: StoreTypeOptions): Promise<StoreTypeAnswer> {
  let selectors: AdvancedEventSelector[] | undefined;
  try {
    const output = await withRetry(() => client.send(new GetEventDataStoreCommand({ EventDataStore: ref }), { abortSignal: options.signal }), {
      operation: 'GetEventDataStore',
      signal: options.signal,
      retry: options.retry,
      onRetry: options.onRetry,
    });
    selectors = output.AdvancedEventSelectors;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { storeType: 'cloudtrail-events', source: 'assumed', reason: `GetEventDataStore failed (${(error as Error).message.split('\n')[0]!.slice(0, 200)})` };
  }
  const storeType = storeTypeOfSelectors(selectors);
  if (storeType === undefined) return { storeType: 'cloudtrail-events', source: 'assumed', reason: 'its advanced event selectors name event categories of more than one store type' };
  return { storeType, source: 'event-data-store' };
}
