import type { LakeStoreType } from '../rows/lake-schema.js';

/**
 * The emulator's one event data store as GetEventDataStore describes it, and
 * its retention: the settings a store has on the service, with the values
 * the emulator gives them.
 */

/** Lake's longest retention for the extendable pricing, and the default of a new store: 7 years. */
export const DEFAULT_RETENTION_DAYS = 2557;

export type BillingMode = 'EXTENDABLE_RETENTION_PRICING' | 'FIXED_RETENTION_PRICING';
export const BILLING_MODES: readonly BillingMode[] = ['EXTENDABLE_RETENTION_PRICING', 'FIXED_RETENTION_PRICING'];

/** The store settings an emulator is started with (EmulatorOptions). */
export interface EventDataStoreOptions {
  /**
   * The store's retention in days, which GetEventDataStore reports as
   * RetentionPeriod. Events whose eventTime is before the start of the UTC
   * day `retentionDays` days before now are gone for every query, as Lake
   * deletes them once a day. 7 to 3653, as the model bounds RetentionPeriod.
   * @default 2557 (7 years)
   */
  retentionDays?: number | undefined;
  /** BillingMode. @default 'EXTENDABLE_RETENTION_PRICING' */
  billingMode?: BillingMode | undefined;
  /** Lake query federation: FederationStatus ENABLED, with a FederationRoleArn, or DISABLED. @default false */
  federation?: boolean | undefined;
}

export interface EventDataStoreInfo {
  arn: string;
  id: string;
  name: string;
  accountId: string;
  /** CreatedTimestamp, and UpdatedTimestamp (the store is never updated). */
  created: Date;
  /** What the store holds; its advanced event selectors say so, as on the service. */
  storeType: LakeStoreType;
  retentionDays: number;
  billingMode: BillingMode;
  federation: boolean;
}

/** Checks the store options and fills in their defaults; a TypeError names a bad one. */
export function storeSettings(options: EventDataStoreOptions): Pick<EventDataStoreInfo, 'retentionDays' | 'billingMode' | 'federation'> {
  const retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
  if (!Number.isInteger(retentionDays) || retentionDays < 7 || retentionDays > 3653) {
    throw new TypeError(`startEmulator: retentionDays must be a whole number of days from 7 to 3653, not ${JSON.stringify(retentionDays)}`);
  }
  const billingMode = options.billingMode ?? 'EXTENDABLE_RETENTION_PRICING';
  if (!BILLING_MODES.includes(billingMode)) {
    throw new TypeError(`startEmulator: billingMode must be one of ${BILLING_MODES.join(', ')}, not ${JSON.stringify(String(billingMode)).slice(0, 80)}`);
  }
  return { retentionDays, billingMode, federation: options.federation === true };
}

/**
 * The oldest eventTime a query can see at `now`: the start of the UTC day
 * `retentionDays` days before now. Lake deletes expired events once a day,
 * so the cutoff moves by whole days.
 */
export function retentionCutoff(retentionDays: number, now = Date.now()): Date {
  const day = 86_400_000;
  return new Date(Math.floor(now / day) * day - retentionDays * day);
}

interface AdvancedEventSelector {
  Name: string;
  FieldSelectors: Array<{ Field: string; Equals: string[] }>;
}

/**
 * The advanced event selectors the service shows for an event data store of
 * each type. A store holds one event category, and its selectors name it with
 * `eventCategory` Equals: `Management` and `Data` (data events also name their
 * `resources.type`, here those of the sample generator: S3 objects and Lambda
 * functions), `Insight`, `ConfigurationItem`, `Evidence`, or `ActivityAuditLog`
 * for events from outside AWS. A reader tells the store's schema by it.
 */
export function advancedEventSelectors(storeType: LakeStoreType): AdvancedEventSelector[] {
  const only = (name: string, category: string): AdvancedEventSelector[] => [{ Name: name, FieldSelectors: [{ Field: 'eventCategory', Equals: [category] }] }];
  const data = (name: string, resourceType: string): AdvancedEventSelector => ({
    Name: name,
    FieldSelectors: [
      { Field: 'eventCategory', Equals: ['Data'] },
      { Field: 'resources.type', Equals: [resourceType] },
    ],
  });
  switch (storeType) {
    case 'cloudtrail-events':
      return [...only('Management events', 'Management'), data('S3 object data events', 'AWS::S3::Object'), data('Lambda invocations', 'AWS::Lambda::Function')];
    case 'cloudtrail-insights':
      return only('Insights events', 'Insight');
    case 'config-configuration-items':
      return only('Config configuration items', 'ConfigurationItem');
    case 'audit-manager-evidence':
      return only('Audit Manager evidence', 'Evidence');
    case 'integration-events':
      return only('Events from integrations', 'ActivityAuditLog');
  }
}

/**
 * GetEventDataStoreResponse, every member but KmsKeyId (the emulator's store
 * is not encrypted with a customer key, and the service leaves KmsKeyId out
 * then). PartitionKeys: Lake partitions a store by eventTime; the service
 * does not document the exact name and type it reports, so the emulator's
 * `eventTime` of type `timestamp` is a plausible stand-in, not a recording.
 * The FederationRoleArn of a federated store is a role in the store's account.
 */
export function describeEventDataStore(eds: EventDataStoreInfo): Record<string, unknown> {
  const created = eds.created.getTime() / 1000; // awsJson1_1 sends timestamps as epoch seconds
  return {
    EventDataStoreArn: eds.arn,
    Name: eds.name,
    Status: 'ENABLED',
    AdvancedEventSelectors: advancedEventSelectors(eds.storeType),
    MultiRegionEnabled: true,
    OrganizationEnabled: false,
    RetentionPeriod: eds.retentionDays,
    TerminationProtectionEnabled: true,
    CreatedTimestamp: created,
    UpdatedTimestamp: created,
    BillingMode: eds.billingMode,
    FederationStatus: eds.federation ? 'ENABLED' : 'DISABLED',
    ...(eds.federation ? { FederationRoleArn: `arn:aws:iam::${eds.accountId}:role/ctlake-emulator-federation` } : {}),
    PartitionKeys: [{ Name: 'eventTime', Type: 'timestamp' }],
  };
}

/**
 * The CreatedTimestamp a store holding events from `oldest` on plausibly
 * has: the start of the UTC day before its oldest event (a store cannot hold
 * events from before it existed, unless imported), and never after `now`.
 */
export function createdBefore(oldest: Date | undefined, now = new Date()): Date {
  if (oldest === undefined || oldest.getTime() > now.getTime()) return now;
  const day = 86_400_000;
  return new Date(Math.floor(oldest.getTime() / day) * day - day);
}
