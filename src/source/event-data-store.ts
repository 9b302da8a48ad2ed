import type { CloudTrailClient, GetEventDataStoreCommandOutput } from '@aws-sdk/client-cloudtrail';
import { CtlakeError, quoted } from '../errors.js';
import type { LakeStoreType } from '../lake-model.js';
import { getEventDataStore, storeTypeOfSelectors, type StoreTypeOptions } from './store-type.js';

/**
 * What a migration needs to know of an event data store before it plans:
 * GetEventDataStore's answer, checked against the service model and
 * reduced to plain values. `retentionDays` matters most: Lake deletes
 * events by eventTime every day once they are older than it, so the plan
 * (src/jobs/migrate-plan.ts) projects which days would be gone before
 * their turn.
 */
export interface EventDataStoreDescription {
  arn: string;
  name: string | undefined;
  /** EventDataStoreStatus: ENABLED, STOPPED_INGESTION, PENDING_DELETION, ... as the service sent it. */
  status: string | undefined;
  /** The published schema its rows follow (storeTypeOfSelectors), or undefined when its selectors name categories of two types. */
  storeType: LakeStoreType | undefined;
  /** RetentionPeriod, in days (7 to 3653 in the service model). */
  retentionDays: number | undefined;
  /** EXTENDABLE_RETENTION_PRICING or FIXED_RETENTION_PRICING. */
  billingMode: string | undefined;
  created: Date | undefined;
  /** Lake federation's partition keys (at most 2 in the model), in the service's order. */
  partitionKeys: Array<{ name: string; type: string }>;
  /** ENABLING, ENABLED, DISABLING or DISABLED. */
  federationStatus: string | undefined;
  terminationProtection: boolean | undefined;
  multiRegion: boolean | undefined;
  organization: boolean | undefined;
}

export type DescribeEventDataStoreOptions = StoreTypeOptions;

/** The store errors GetEventDataStore answers for a reference that names no store ctlake may read. */
const NOT_FOUND = new Set(['EventDataStoreNotFoundException', 'EventDataStoreARNInvalidException']);

/**
 * GetEventDataStore for `ref` (an ARN or id), retried as every call is. A
 * store that does not exist (EventDataStoreNotFoundException,
 * EventDataStoreARNInvalidException) fails with INVALID_OPTION naming the
 * store as given (quoted and cut) and `eventDataStore`; other failures are
 * withRetry's (ACCESS_DENIED, THROTTLED, INTERRUPTED, ...). Unlike
 * storeTypeOf, a refusal is a failure: a migration cannot be planned
 * without the store. Every value the service sent is type-checked: one of
 * the wrong type, or outside the model's bounds, fails with
 * UNEXPECTED_RESPONSE naming the field and quoting the value, cut.
 */
export async function describeEventDataStore(client: CloudTrailClient, ref: string, options: DescribeEventDataStoreOptions): Promise<EventDataStoreDescription> {
  let output: GetEventDataStoreCommandOutput;
  try {
    output = await getEventDataStore(client, ref, options);
  } catch (error) {
    if (error instanceof CtlakeError && error.awsErrorName !== undefined && NOT_FOUND.has(error.awsErrorName)) {
      throw new CtlakeError(
        'INVALID_OPTION',
        (n) => `event data store ${quoted(ref)} not found (GetEventDataStore answered ${error.awsErrorName}); check ${n('eventDataStore')} and ${n('region')}`,
        { option: 'eventDataStore', awsErrorName: error.awsErrorName, cause: error },
      );
    }
    throw error;
  }
  return descriptionOf(output, ref);
}

/** GetEventDataStore's answer, checked field by field (see describeEventDataStore). */
export function descriptionOf(output: GetEventDataStoreCommandOutput, ref: string): EventDataStoreDescription {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new CtlakeError(
      'UNEXPECTED_RESPONSE',
      (n) => `GetEventDataStore: the answer for ${quoted(ref)} has ${field} ${quoted(value)}, not ${expected}, which CloudTrail never sends; check ${n('endpointUrl')}`,
      { option: 'endpointUrl' },
    );
  };
  const text = (field: keyof GetEventDataStoreCommandOutput, max: number): string | undefined => {
    const value: unknown = output[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value.length > max) fail(field, value, `a string of at most ${max} characters`);
    return value as string;
  };
  const flag = (field: keyof GetEventDataStoreCommandOutput): boolean | undefined => {
    const value: unknown = output[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') fail(field, value, 'true or false');
    return value as boolean;
  };
  const arn = text('EventDataStoreArn', 256);
  if (arn === undefined || arn === '') return fail('EventDataStoreArn', output.EventDataStoreArn, 'an ARN');
  const retention: unknown = output.RetentionPeriod;
  if (retention !== undefined && retention !== null && !(Number.isSafeInteger(retention) && (retention as number) >= 7 && (retention as number) <= 3653)) {
    fail('RetentionPeriod', retention, 'a whole number of days from 7 to 3653');
  }
  const created: unknown = output.CreatedTimestamp;
  if (created !== undefined && created !== null && !(created instanceof Date && Number.isFinite(created.getTime()))) fail('CreatedTimestamp', created, 'a timestamp');
  const selectors: unknown = output.AdvancedEventSelectors;
  if (selectors !== undefined && selectors !== null && !Array.isArray(selectors)) fail('AdvancedEventSelectors', selectors, 'a list');
  return {
    arn,
    name: text('Name', 128),
    status: text('Status', 64),
    storeType: storeTypeOfSelectors(output.AdvancedEventSelectors),
    retentionDays: (retention ?? undefined) as number | undefined,
    billingMode: text('BillingMode', 64),
    created: (created ?? undefined) as Date | undefined,
    partitionKeys: partitionKeysOf(output.PartitionKeys, fail),
    federationStatus: text('FederationStatus', 64),
    terminationProtection: flag('TerminationProtectionEnabled'),
    multiRegion: flag('MultiRegionEnabled'),
    organization: flag('OrganizationEnabled'),
  };
}

/** PartitionKeys: a list of at most 2 `{Name, Type}` of strings, as the model says. */
function partitionKeysOf(value: unknown, fail: (field: string, value: unknown, expected: string) => never): Array<{ name: string; type: string }> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 2) return fail('PartitionKeys', value, 'a list of at most 2 keys');
  return value.map((key: unknown) => {
    const { Name: name, Type: type } = (typeof key === 'object' && key !== null ? key : {}) as { Name?: unknown; Type?: unknown };
    if (typeof name !== 'string' || typeof type !== 'string' || name.length > 255 || type.length > 255) fail('PartitionKeys', key, 'a {Name, Type} of strings');
    return { name: name as string, type: type as string };
  });
}
