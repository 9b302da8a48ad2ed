import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CtlakeError } from '../errors.js';
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
  /** Aborted if the lock is lost (another run took it over after our lease ran out). */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface LockOptions {
  /**
   * How long the lock holds without renewal. The holder renews it every
   * third of this, so only a holder that is gone (or frozen) lets it expire.
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
 * gives up if it does not hold its own record.
 */
export async function acquireLock(store: ObjectStore, name: string, options: LockOptions = {}): Promise<LockHandle> {
  const leaseMs = options.leaseMs ?? 600_000;
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
    if (current && held && !isStale(held, clock())) throw lockHeld(store, name, held);
    // Unreadable (a crashed writer) or stale: take it over, if nobody did first.
    mine = current ? await store.putIf(name, encode(record()), { ifTag: current.tag }) : await store.putIf(name, encode(record()), { ifAbsent: true });
    if (mine === undefined) throw lockHeld(store, name, undefined);
    tookOver = held;
  }
  const check = await store.getTagged(name);
  if (!check || parseLock(check.data)?.owner !== owner) throw lockHeld(store, name, check && parseLock(check.data));

  const lost = new AbortController();
  let current = parseLock(check.data)!;
  const renew = async () => {
    const now = await store.getTagged(name);
    if (!now || parseLock(now.data)?.owner !== owner) {
      lost.abort(new CtlakeError('LOCK_HELD', `lost the lock ${store.root}${name} to another run; this run stops`));
      return;
    }
    const next = record();
    if ((await store.putIf(name, encode(next), { ifTag: now.tag })) !== undefined) current = next;
  };
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(1000, Math.floor(leaseMs / 3)));
  timer.unref();
  return {
    get record() {
      return current;
    },
    tookOver,
    lost: lost.signal,
    async release() {
      clearInterval(timer);
      const now = await store.getTagged(name).catch(() => undefined);
      if (now && parseLock(now.data)?.owner === owner) await store.remove(name);
    },
  };
}

export function parseLock(data: Buffer): LockRecord | undefined {
  try {
    const value = JSON.parse(data.toString('utf8')) as LockRecord;
    return typeof value?.owner === 'string' && typeof value.expiresAt === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
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
  const who = held ? ` (host ${held.host}, pid ${held.pid}, since ${held.acquiredAt}, lease until ${held.expiresAt})` : '';
  return new CtlakeError(
    'LOCK_HELD',
    `another run holds the lock ${store.root}${name}${who}; let it finish, or if it is gone, wait for its lease to end or remove the lock`,
  );
}
