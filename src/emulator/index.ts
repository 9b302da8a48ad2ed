/**
 * The local CloudTrail Lake, as its own entry point: `import { startEmulator }
 * from 'ctlake/emulator'`. Nothing in the exporter imports it, so
 * `import 'ctlake'` never loads it, nor DuckDB, which its SQL engine loads
 * only when a query runs.
 */
export { startEmulator } from './server.js';
export type { Emulator, EmulatorOptions, RequestRecord } from './server.js';
export type { CannedQuery } from './query-store.js';
export type { LifecycleOptions } from './lake.js';
export type { FaultOptions } from './faults.js';
export type { EmulatorCredentials } from './request-signature.js';
