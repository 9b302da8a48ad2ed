import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CtlakeError, optionError, quoted } from '../errors.js';
import type { ObjectStore } from './store.js';

/** What a lock object holds: who, and until when without a renewal. */
export interface LockRecord {
  owner: string;
  host: string;
  pid: number;
  acquiredAt: string;
  expiresAt: string;
}

export interface LockHandle {
  readonly record: LockRecord;
  /** Whether an earlier holder's stale lock was taken over. */
  readonly tookOver: LockRecord | undefined;
  /**
   * Aborted if the lock is lost (another run took it over after our lease
   * ran out); its reason is the LOCK_HELD error that says so, which a job
   * reports instead of the INTERRUPTED its exports end with.
   */
  readonly lost: AbortSignal;
  /**
   * Re-reads the lock now and throws that LOCK_HELD error (aborting `lost`)
   * if it is no longer this run's; a read that fails does not throw. A job calls it before each window or
   * slice and before each state write, so that a takeover is seen at the
   * next step, not only at the next renewal.
   */
  check(): Promise<void>;
  release(): Promise<void>;
}

/**
 * The shortest lease the library accepts. The holder renews every third of
 * the lease (and at most once a second), so a lease shorter than this
 * leaves no time for one slow renewal. The CLI asks for more
 * (MIN_CLI_LOCK_LEASE_MS in src/cli), because there the lease is also judged
 * by other hosts' clocks.
 */
export const MIN_LOCK_LEASE_MS = 3000;
/**
 * The longest lease: a day. Beyond it a crashed holder would keep its job
 * out for longer than anyone waits, and a third of the lease would pass
 * setInterval's limit (2^31 ms), which Node turns into 1 ms: a renewal loop.
 */
export const MAX_LOCK_LEASE_MS = 86_400_000;

/** Throws a TypeError naming `lockLeaseMs` unless it is a whole number of ms from MIN_LOCK_LEASE_MS to MAX_LOCK_LEASE_MS. */
export function checkLease(leaseMs: number | undefined): number {
  const lease = leaseMs ?? 600_000;
  if (!Number.isInteger(lease) || lease < MIN_LOCK_LEASE_MS || lease > MAX_LOCK_LEASE_MS) {
    throw optionError('lockLeaseMs', leaseMs, `a whole number of milliseconds from ${MIN_LOCK_LEASE_MS} to ${MAX_LOCK_LEASE_MS}`);
  }
  return lease;
}

export interface LockOptions {
  /**
   * How long the lock holds without renewal. The holder renews it every
   * third of this, so only a holder that is gone (or frozen) lets it expire.
   * From MIN_LOCK_LEASE_MS to MAX_LOCK_LEASE_MS.
   * @default 600000 (10 minutes)
   */
  leaseMs?: number | undefined;
  /** The wall clock (not a job's --now: a lease is real time). */
  clock?: (() => number) | undefined;
}

/**
 * Takes the lock object `name` in `store`, or throws LOCK_HELD naming its
 * holder. Creation is a conditional write (S3 If-None-Match, a local
 * link()), so of two runs that start together exactly one gets it. A lock
 * whose lease expired, or whose holder's process is gone from this host,
 * is stale and is taken over with a conditional write on the stale
 * object's tag (S3 If-Match), so of two runs taking over, one wins. Local
 * files have no compare-and-swap, so the winner re-reads the lock and
 * gives up if it does not hold its own record. A lock object that is not a
 * lock record (not JSON, or of another shape) was not written by ctlake,
 * whose writes are whole: it is refused (STATE_INVALID) rather than taken
 * over or waited for, since neither its holder nor its lease can be known.
 */
export async function acquireLock(store: ObjectStore, name: string, options: LockOptions = {}): Promise<LockHandle> {
  const leaseMs = checkLease(options.leaseMs);
  const clock = options.clock ?? Date.now;
  const record = (): LockRecord => ({
    owner,
    host: hostname(),
    pid: process.pid,
    acquiredAt: new Date(acquiredAt).toISOString(),
    expiresAt: new Date(clock() + leaseMs).toISOString(),
  });
  const owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const acquiredAt = clock();
  const encode = (r: LockRecord) => Buffer.from(JSON.stringify(r, null, 2) + '\n');
  let tookOver: LockRecord | undefined;

  let mine = await store.putIf(name, encode(record()), { ifAbsent: true });
  if (mine === undefined) {
    const current = await store.getTagged(name);
    const held = current ? parseLock(current.data) : undefined;
    if (current && !held) throw notALock(store, name, current.data);
    if (current && held && !isStale(held, clock())) throw lockHeld(store, name, held);
    // Stale, or removed meanwhile: take it over, if nobody did first.
    mine = current ? await store.putIf(name, encode(record()), { ifTag: current.tag }) : await store.putIf(name, encode(record()), { ifAbsent: true });
    if (mine === undefined) throw lockHeld(store, name, undefined);
    tookOver = held;
  }
  const check = await store.getTagged(name);
  if (!check || parseLock(check.data)?.owner !== owner) throw lockHeld(store, name, check && parseLock(check.data));

  const lost = new AbortController();
  let current = parseLock(check.data)!;
  /** The lock as it is now, or undefined (after aborting `lost`) when it is not this run's any more. */
  const stillMine = async () => {
    if (lost.signal.aborted) return undefined;
    const now = await store.getTagged(name);
    const holder = now ? parseLock(now.data) : undefined;
    if (now && holder?.owner === owner) return now;
    const how = holder
      ? `was taken over by host ${quoted(holder.host)}, pid ${holder.pid}, since ${quoted(holder.acquiredAt)}`
      : now
        ? 'was overwritten with something that is not a ctlake lock'
        : 'was removed by someone else';
    lost.abort(new CtlakeError('LOCK_HELD', `lock lost: ${store.root}${name} ${how}; this run stops, and the next one continues from the state`));
    return undefined;
  };
  const renew = async () => {
    const now = await stillMine();
    if (!now) return;
    const next = record();
    if ((await store.putIf(name, encode(next), { ifTag: now.tag })) !== undefined) current = next;
  };
  // A renewal that fails (the network) is tried again at the next tick; a
  // lease outlasts two failed renewals.
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(1000, Math.floor(leaseMs / 3)));
  timer.unref();
  return {
    get record() {
      return current;
    },
    tookOver,
    lost: lost.signal,
    async check() {
      // A failed read (the network) is no sign of a takeover: the run goes
      // on, its renewals keep trying, and its state writes are conditional.
      await stillMine().catch(() => undefined);
      if (lost.signal.aborted) throw lost.signal.reason;
    },
    async release() {
      clearInterval(timer);
      const now = await store.getTagged(name).catch(() => undefined);
      if (now && parseLock(now.data)?.owner === owner) await store.remove(name);
    },
  };
}

/**
 * A lock record, or undefined when `data` is not one: not JSON, or any
 * field missing or of the wrong type (a pid that is not a positive whole
 * number, a time that does not parse). Fields of another writer's record
 * are data: a message quotes them.
 */
export function parseLock(data: Buffer): LockRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  const time = (v: unknown) => typeof v === 'string' && Number.isFinite(Date.parse(v));
  if (typeof r.owner !== 'string' || typeof r.host !== 'string' || !time(r.acquiredAt) || !time(r.expiresAt)) return undefined;
  if (!Number.isInteger(r.pid) || (r.pid as number) < 1 || (r.pid as number) > 2 ** 31 - 1) return undefined;
  return { owner: r.owner, host: r.host, pid: r.pid as number, acquiredAt: r.acquiredAt as string, expiresAt: r.expiresAt as string };
}

/** Expired, or held by a process of this host that no longer exists. */
export function isStale(lock: LockRecord, now: number): boolean {
  if (Date.parse(lock.expiresAt) < now) return true;
  if (lock.host === hostname() && Number.isInteger(lock.pid)) {
    try {
      process.kill(lock.pid, 0);
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return false;
}

function lockHeld(store: ObjectStore, name: string, held: LockRecord | undefined): CtlakeError {
  const who = held ? ` (host ${quoted(held.host)}, pid ${held.pid}, since ${quoted(held.acquiredAt)}, lease until ${quoted(held.expiresAt)})` : '';
  return new CtlakeError(
    'LOCK_HELD',
    `another run holds the lock ${store.root}${name}${who}; let it finish, or if it is gone, wait for its lease to end or remove the lock`,
  );
}

function notALock(store: ObjectStore, name: string, data: Buffer): CtlakeError {
  let what = data.length === 0 ? 'empty (a flock or touch of that name?)' : 'not JSON';
  try {
    if (data.length > 0) JSON.parse(data.toString('utf8'));
    if (data.length > 0) what = 'JSON, but not a lock record (owner, host, pid, acquiredAt, expiresAt)';
  } catch {
    // not JSON
  }
  return new CtlakeError(
    'STATE_INVALID',
    `the lock ${store.root}${name} is ${what}, so no ctlake run wrote it; if no run of this job is going, remove it`,
  );
}
