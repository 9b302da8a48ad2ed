import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { LAKE_STORE_TYPES, isLakeStoreType, type LakeStoreType } from '../rows/lake-schema.js';
import { Deliveries, type DeliveryOptions } from './delivery.js';
import { createdBefore, storeSettings, type EventDataStoreInfo, type EventDataStoreOptions } from './event-data-store.js';
import { FaultPlan, type FaultOptions } from './faults.js';
import { Lake, type LifecycleOptions, type SqlRunner } from './lake.js';
import type { SqlEngine } from './sql-engine.js';
import type { CannedQuery } from './query-store.js';
import { RequestLimits, RequestStats, type EmulatorStats, type RateLimitOptions } from './request-limits.js';
import { checkSignature, type EmulatorCredentials } from './request-signature.js';
import type { SampleOptions } from './sample-events.js';
import { ServiceError } from './service-error.js';

/**
 * DeliveryOptions: with `s3EndpointUrl`, StartQuery takes a DeliveryS3Uri
 * and a query that finishes writes its results and a signed
 * `result_sign.json` there (src/emulator/delivery.ts); ListPublicKeys
 * publishes the key that signs them.
 */
export interface EmulatorOptions extends LifecycleOptions, RateLimitOptions, EventDataStoreOptions, DeliveryOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number | undefined;
  /** @default 'us-east-1' */
  region?: string | undefined;
  /** @default '123456789012' */
  accountId?: string | undefined;
  /** Result sets to serve, as if queries had produced them (no SQL engine needed). */
  queries?: CannedQuery[] | undefined;
  /**
   * What the event data store holds: its table has the columns CloudTrail Lake
   * publishes for that type (src/rows/lake-schemas/), and GetEventDataStore
   * describes it with that type's advanced event selectors. Any of
   * LAKE_STORE_TYPES; samples are generated for `cloudtrail-events` and
   * `integration-events`, the other types take their records from `events`.
   * @default 'cloudtrail-events'
   */
  storeType?: LakeStoreType | undefined;
  /** Load this many generated sample events of the store's type into the event data store. */
  sample?: number | undefined;
  /** Seed of the sample generator: the same seed gives the same events. @default 1 */
  seed?: number | undefined;
  /** The sample events' eventTimes start here (a Date, or text Date.parse reads, such as `2023-01-01T00:00:00Z`). @default 2024-05-01T00:00:00Z, or 7 days before `eventsTo` */
  eventsFrom?: Date | string | undefined;
  /** ... and end before this. @default 7 days after `eventsFrom` */
  eventsTo?: Date | string | undefined;
  /** Spread the sample events unevenly over the days of [eventsFrom, eventsTo): quiet weekends, busy days, one day in 25 with none. @default false: evenly */
  unevenDays?: boolean | undefined;
  /**
   * Load CloudTrail log files (`{"Records": [...]}`, plain or .gz), NDJSON of
   * events, or directories of them. Keys match the published columns without
   * regard to case; keys the published schema lacks are dropped.
   */
  events?: string[] | undefined;
  faults?: FaultOptions | undefined;
  /**
   * Check every request's SigV4 credentials as the service does: another
   * access key id gets HTTP 400 UnrecognizedClientException, and with
   * `secretAccessKey` a signature that does not match gets InvalidSignatureException.
   * @default any credentials, signed or not
   */
  credentials?: EmulatorCredentials | undefined;
}

/** One request as the emulator saw it, for tests that count calls. */
export interface RequestRecord {
  operation: string;
  input: Record<string, unknown>;
  fault: string | undefined;
  /** The error the request got for its credentials (`credentials` option), e.g. `UnrecognizedClientException`. */
  denied?: string | undefined;
  /** True when the request was over `tpsRead` or `tpsWrite` and answered ThrottlingException, and did nothing else. */
  throttled?: boolean | undefined;
}

export interface Emulator {
  /** The endpoint, e.g. `http://127.0.0.1:41234`. */
  url: string;
  storeType: LakeStoreType;
  eventDataStoreArn: string;
  eventDataStoreId: string;
  /** Events loaded into the event data store. */
  eventCount: number;
  /** Serves another result set; returns its QueryId. */
  addQuery(query: CannedQuery): string;
  /** Replaces the injected faults. */
  setFaults(faults: FaultOptions): void;
  /** Every request so far, in arrival order. */
  readonly requests: RequestRecord[];
  /** Requests answered and throttled, by operation, and the most queries QUEUED or RUNNING at once. */
  stats(): EmulatorStats;
  close(): Promise<void>;
}

const JSON_11 = 'application/x-amz-json-1.1';

/**
 * A local CloudTrail Lake endpoint speaking the awsJson1_1 protocol:
 * `POST /` with `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Operation>`
 * (the short `CloudTrail_20131101.<Operation>` is accepted too), JSON in and
 * out, errors as HTTP 400 or 5xx with `{"__type", "message"}`. Signatures are
 * checked only with the `credentials` option, and before any fault is drawn,
 * as the service authenticates a request before it does anything else.
 * Listens on 127.0.0.1 only.
 *
 * SQL runs on an embedded DuckDB (src/emulator/sql-engine.ts), loaded only
 * when events are loaded or a query is started, so that canned result sets
 * and the export path never need the optional @duckdb/node-api.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const eventDataStoreId = '00000000-0000-4000-8000-0000000ed500';
  const eventDataStoreArn = `arn:aws:cloudtrail:${region}:${accountId}:eventdatastore/${eventDataStoreId}`;
  const storeType = options.storeType ?? 'cloudtrail-events';
  if (!isLakeStoreType(storeType)) {
    throw new TypeError(`startEmulator: storeType must be one of ${LAKE_STORE_TYPES.join(', ')}, not ${JSON.stringify(String(storeType)).slice(0, 80)}`);
  }
  if (options.sample && storeType !== 'cloudtrail-events' && storeType !== 'integration-events') {
    throw new TypeError(`startEmulator: no sample events for storeType ${storeType}; load its records with events, or use cloudtrail-events or integration-events`);
  }
  const eds: EventDataStoreInfo = { arn: eventDataStoreArn, id: eventDataStoreId, name: 'ctlake-emulator', accountId, created: new Date(), storeType, ...storeSettings(options) };
  const limits = new RequestLimits(options);

  let engine: Promise<SqlRunner & Pick<SqlEngine, 'load' | 'oldestEventTime'>> | undefined;
  const getEngine = () => {
    engine ??= import('./sql-engine.js').then(({ createSqlEngine }) => createSqlEngine({ eventDataStoreId, eventDataStoreArn, storeType }));
    return engine;
  };
  // Built before any events load, so that a bad option is refused before DuckDB starts.
  const faults = new FaultPlan(options.faults);
  const deliveries = new Deliveries(options, { region, accountId }, () => faults.options.deliveryFailure);
  const lake = new Lake(eds, getEngine, options, faults, deliveries);
  let eventCount = 0;
  if (options.sample) {
    const sample = sampleSpan(options);
    if (storeType === 'cloudtrail-events') {
      const { sampleEvents } = await import('./sample-events.js');
      eventCount += await (await getEngine()).load(sampleEvents(options.sample, sample));
    } else {
      const { sampleIntegrationEvents } = await import('./sample-integration-events.js');
      eventCount += await (await getEngine()).load(sampleIntegrationEvents(options.sample, sample));
    }
  }
  if (options.events?.length) {
    const { readEventFiles } = await import('./event-files.js');
    eventCount += await (await getEngine()).load(readEventFiles(options.events));
  }

  // A store cannot hold events from before it was created: its CreatedTimestamp is the day before the oldest.
  if (engine) eds.created = createdBefore(await (await engine).oldestEventTime());

  for (const query of options.queries ?? []) lake.store.add(query);
  const handlers = lake.operations;
  const requests: RequestRecord[] = [];
  const stats = new RequestStats();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { __type: 'InternalServerError', message: String(error) }, 'InternalServerError');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.lastIndexOf('.') + 1);
    if (options.credentials) {
      try {
        checkSignature(options.credentials, { method: req.method ?? '', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) });
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        requests.push({ operation, input: {}, fault: undefined, denied: error.type });
        return sendError(res, error);
      }
    }
    let input: Record<string, unknown>;
    try {
      input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return sendError(res, new ServiceError('SerializationException', 'The request body is not valid JSON.'));
    }
    // Over the rate limit: answered ThrottlingException before anything else, faults included.
    if (!limits.admit(operation)) {
      requests.push({ operation, input, fault: undefined, throttled: true });
      stats.count(operation, true);
      return sendError(res, new ServiceError('ThrottlingException', 'Rate exceeded'));
    }
    const fault = faults.next(operation);
    requests.push({ operation, input, fault });
    stats.count(operation, fault === 'throttle');
    const delay = faults.latencyMs + (fault === 'slow' ? faults.slowMs : 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (res.destroyed) return;
    if (fault === 'throttle') return sendError(res, new ServiceError('ThrottlingException', 'Rate exceeded'));
    if (fault === 'server-error') return sendError(res, new ServiceError('InternalServerError', 'We encountered an internal error. Please try again.', 500));

    const handler = req.method === 'POST' && target.includes('CloudTrail_20131101.') && Object.hasOwn(handlers, operation) ? handlers[operation] : undefined;
    if (!handler) return sendError(res, new ServiceError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`));
    let output: unknown;
    try {
      output = await handler(input);
    } catch (error) {
      if (error instanceof ServiceError) return sendError(res, error);
      throw error;
    }
    if (fault === 'reset') return sendHalfThenReset(res, output);
    if (fault === 'trickle') return sendTrickle(res, output, faults.trickle);
    send(res, 200, output);
  }

  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    storeType,
    eventDataStoreArn,
    eventDataStoreId,
    eventCount,
    addQuery: (query) => lake.store.add(query).queryId,
    setFaults: (next) => faults.set(next),
    requests,
    stats: () => stats.snapshot(lake.maxActiveQueries),
    close: async () => {
      await lake.close();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      if (engine) await (await engine.catch(() => undefined))?.close();
    },
  };
}

/** The sample generator's seed and time span, from the emulator's options; a TypeError for a bad time. */
function sampleSpan(options: EmulatorOptions): SampleOptions {
  const day = 86_400_000;
  const time = (name: string, value: Date | string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const ms = value instanceof Date ? value.getTime() : Date.parse(value);
    if (!Number.isFinite(ms)) throw new TypeError(`startEmulator: ${name} must be a Date or a time such as 2023-01-01T00:00:00Z, not ${JSON.stringify(String(value)).slice(0, 80)}`);
    return ms;
  };
  const to = time('eventsTo', options.eventsTo);
  const from = time('eventsFrom', options.eventsFrom) ?? (to === undefined ? Date.UTC(2024, 4, 1) : to - 7 * day);
  const end = to ?? from + 7 * day;
  if (end <= from) throw new TypeError(`startEmulator: eventsTo must be after eventsFrom (${new Date(from).toISOString()})`);
  return { seed: options.seed ?? 1, start: new Date(from), spanMs: end - from, unevenDays: options.unevenDays === true };
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': JSON_11,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
    ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: ServiceError): void {
  send(res, error.status, { __type: error.type, message: error.message }, error.type);
}

/**
 * Announces the whole body and sends it `bytes` at a time, one piece every
 * `everyMs`: the socket is never idle for long, so only a deadline on the
 * whole request ends the wait. Stops when the client goes away.
 */
function sendTrickle(res: ServerResponse, body: unknown, { bytes, everyMs }: { bytes: number; everyMs: number }): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(200, { 'Content-Type': JSON_11, 'Content-Length': text.length, 'x-amzn-RequestId': randomUUID() });
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    const piece = text.subarray(sent, sent + bytes);
    sent += piece.length;
    if (sent >= text.length) {
      clearInterval(timer);
      res.end(piece);
    } else res.write(piece);
  }, everyMs);
  res.once('close', () => clearInterval(timer));
}

/** Announces the whole body, sends half of it, then resets the connection. */
function sendHalfThenReset(res: ServerResponse, body: unknown): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(200, { 'Content-Type': JSON_11, 'Content-Length': text.length, 'x-amzn-RequestId': randomUUID() });
  res.write(text.subarray(0, Math.floor(text.length / 2)), () => res.socket?.resetAndDestroy());
}
