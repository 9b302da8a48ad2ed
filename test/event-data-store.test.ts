/**
 * describeEventDataStore over HTTP with the real SDK: the emulator's store
 * as plain values, a store that does not exist as INVALID_OPTION naming it
 * (cut), and an endpoint that answers values of the wrong type as
 * UNEXPECTED_RESPONSE naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { describeEventDataStore } from '../src/source/event-data-store.js';
import { storeTypeOf } from '../src/source/store-type.js';
import { CtlakeError } from '../src/errors.js';
import { emulatorClient, FAST_RETRY } from './support/lake.js';
import { fakeEndpoint, json, type FakeEndpoint } from './support/fake-endpoint.js';

const call = { retry: FAST_RETRY };

describe('describeEventDataStore against the emulator', () => {
  let emulator: Emulator;
  let client: CloudTrailClient;
  beforeAll(async () => {
    emulator = await startEmulator({ storeType: 'cloudtrail-insights' });
    client = emulatorClient(emulator);
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
  });

  it('describes the store by ARN and by id alike', async () => {
    const byArn = await describeEventDataStore(client, emulator.eventDataStoreArn, call);
    expect(byArn).toMatchObject({
      arn: emulator.eventDataStoreArn,
      name: 'ctlake-emulator',
      status: 'ENABLED',
      storeType: 'cloudtrail-insights',
      retentionDays: 2557,
      billingMode: 'EXTENDABLE_RETENTION_PRICING',
      // The emulator's stand-in for Lake's undocumented partition keys (docs/emulator.md).
      partitionKeys: [{ name: 'eventTime', type: 'timestamp' }],
      federationStatus: 'DISABLED',
      terminationProtection: true,
      multiRegion: true,
      organization: false,
    });
    expect(byArn.created).toBeInstanceOf(Date);
    expect(await describeEventDataStore(client, emulator.eventDataStoreId, call)).toEqual(byArn);
    // storeTypeOf shares the call and keeps its answer.
    expect(await storeTypeOf(client, emulator.eventDataStoreId, call)).toEqual({ storeType: 'cloudtrail-insights', source: 'event-data-store' });
  });

  it('fails with INVALID_OPTION naming a store that does not exist, its name cut', async () => {
    const missing = `11111111-2222-4333-8444-${'5'.repeat(12)}`;
    const error = await describeEventDataStore(client, missing, call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CtlakeError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option: 'eventDataStore', awsErrorName: 'EventDataStoreNotFoundException' });
    expect((error as Error).message).toContain(`event data store "${missing}" not found`);

    const long = `arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/${'x'.repeat(300)}\u0007`;
    const cut = (await describeEventDataStore(client, long, call).catch((e: unknown) => e)) as CtlakeError;
    expect(cut.code).toBe('INVALID_OPTION');
    expect(cut.message).toContain('characters)');
    expect(cut.message.length).toBeLessThan(300);
    expect(cut.message).not.toContain('\u0007');
    // storeTypeOf still treats a refusal as "not known".
    expect((await storeTypeOf(client, missing, call)).source).toBe('unknown');
  });

  it('rejects with INTERRUPTED when aborted', async () => {
    const error = await describeEventDataStore(client, emulator.eventDataStoreId, { ...call, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INTERRUPTED' });
  });
});

describe('describeEventDataStore against an endpoint that answers hostile values', () => {
  const ARN = 'arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/00000000-0000-4000-8000-0000000ed500';
  let endpoint: FakeEndpoint | undefined;
  let client: CloudTrailClient | undefined;
  const answering = async (body: unknown) => {
    endpoint = await fakeEndpoint(() => json(body));
    client = new CloudTrailClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    return describeEventDataStore(client, 'eds', call);
  };
  afterAll(async () => {
    client?.destroy();
    await endpoint?.close();
  });
  const reset = async () => {
    client?.destroy();
    await endpoint?.close();
    endpoint = undefined;
    client = undefined;
  };

  it.each([
    ['RetentionPeriod', { EventDataStoreArn: ARN, RetentionPeriod: 0 }],
    ['RetentionPeriod', { EventDataStoreArn: ARN, RetentionPeriod: 1e300 }],
    ['Name', { EventDataStoreArn: ARN, Name: 'n'.repeat(5000) }],
    ['EventDataStoreArn', { Name: 'no arn' }],
    ['PartitionKeys', { EventDataStoreArn: ARN, PartitionKeys: [{ Name: 'a', Type: 'string' }, { Name: 'b', Type: 'string' }, { Name: 'c', Type: 'string' }] }],
    ['PartitionKeys', { EventDataStoreArn: ARN, PartitionKeys: [{ Name: 'a' }] }],
  ])('names %s when it is not as the model says', async (field, body) => {
    try {
      const error = (await answering(body).catch((e: unknown) => e)) as CtlakeError;
      expect(error).toBeInstanceOf(CtlakeError);
      expect(error.code).toBe('UNEXPECTED_RESPONSE');
      expect(error.message).toContain(`has ${field} `);
      expect(error.message.length).toBeLessThan(400);
    } finally {
      await reset();
    }
  });

  it('reads partition keys and a store of no selectors (management events)', async () => {
    try {
      const described = await answering({ EventDataStoreArn: ARN, PartitionKeys: [{ Name: '__proto__', Type: 'string' }], FederationStatus: 'ENABLED' });
      expect(described).toMatchObject({ arn: ARN, storeType: 'cloudtrail-events', partitionKeys: [{ name: '__proto__', type: 'string' }], federationStatus: 'ENABLED', retentionDays: undefined });
    } finally {
      await reset();
    }
  });
});
