/**
 * The cross-process lock behind `FileStore.lock()` (Node).
 *
 * `<key>.lock` is created with O_CREAT|O_EXCL (`wx`): exactly one process
 * succeeds, and its file records `{ pid, host, ns, boot, owner, expiresAt }`
 * with a random owner token. A lock is stale once `expiresAt` has passed, or
 * at once when its holder's pid is gone — judged only when the holder ran on
 * this host, in this PID namespace and this boot (containers sharing the
 * directory with the same host name have their own pids). A record that
 * cannot tell (written before `ns`/`boot` were recorded) counts as alive until
 * it expires. `extend` rewrites `expiresAt` (atomically, by rename) under the
 * same guard as a release, if the file still names the owner.
 *
 * The lock file is deleted only under a short-lived guard file
 * (`<key>.lock.guard`, also `wx`), after re-reading it and checking it is
 * still the very file (inode and content) that was judged stale, or that it
 * still names the releasing owner. So a waiter never deletes a lock that
 * another waiter took over a moment before, and a holder whose lock expired
 * and was taken over never deletes its successor's lock. The guard is held
 * for a few system calls; one left by a killed process is removed when its
 * pid is gone or after GUARD_STALE_MS.
 */

import { readFileSync, readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ensureDirectory, removeFile, writeFileAtomic } from './_fs.js';
import { ownerToken, sleep } from './_shared.js';
import { ioCode, openNoFollow } from './file-read.js';

/** Who holds a lock: a process, and where its pid means something. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The PID namespace (Linux: `pid:[4026531836]`); absent where unknown. */
  ns?: string | undefined;
  /** The boot id (Linux); absent where unknown. */
  boot?: string | undefined;
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read().trim() || undefined;
  } catch {
    return undefined;
  }
}

let self: LockHolder | undefined;

/** This process as a lock holder (read once; Linux tells its PID namespace and boot id). */
export function currentHolder(): LockHolder {
  self ??= {
    pid: process.pid,
    host: hostname(),
    ns: readOrUndefined(() => readlinkSync('/proc/self/ns/pid')),
    boot: readOrUndefined(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
  };
  return self;
}

interface LockRecord extends LockHolder {
  owner: string;
  expiresAt: number;
}

interface Observed {
  text: string;
  ino: number;
  mtimeMs: number;
}

/** A guard older than this belongs to a process that stalled or died mid-step. */
const GUARD_STALE_MS = 5_000;
/** An unreadable lock file is given this long (at least) for its creator to finish writing it. */
const UNREADABLE_GRACE_MS = 2_000;

/** Creates `file` with `text` only if it does not exist; `false` when it does. */
async function createExclusive(file: string, text: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    if (ioCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(text, 'utf8');
  } catch (error) {
    await handle.close().catch(() => {});
    await removeFile(file).catch(() => {});
    throw error;
  }
  await handle.close();
  return true;
}

/** The file's content with the identity of the file it came from; `undefined` when missing. */
async function observe(file: string): Promise<Observed | undefined> {
  const handle = await openNoFollow(file);
  if (handle === undefined) return undefined;
  try {
    const info = await handle.stat();
    const text = await handle.readFile('utf8');
    return { text, ino: info.ino, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord> | null;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof value.pid === 'number' &&
      typeof value.host === 'string' &&
      typeof value.owner === 'string' &&
      typeof value.expiresAt === 'number'
    ) {
      const { pid, host, owner, expiresAt } = value;
      const optional = (field: unknown) => (typeof field === 'string' ? field : undefined);
      return { pid, host, ns: optional(value.ns), boot: optional(value.boot), owner, expiresAt };
    }
  } catch {}
  return undefined;
}

/** Whether a process with this pid exists (EPERM: it exists but is not ours). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return ioCode(error) === 'EPERM';
  }
}

function holderIsGone(record: LockHolder, me: LockHolder): boolean {
  // A pid means nothing on another host (a shared or network file system), in another PID
  // namespace (a container with the same host name), or from another boot; a record that
  // does not say where it was written (ns or boot unknown) cannot be judged either.
  const here = record.host === me.host && record.ns === me.ns && record.boot === me.boot;
  return here && record.pid !== me.pid && !isAlive(record.pid);
}

function isStale(observed: Observed, now: number, me: LockHolder): boolean {
  const record = parseRecord(observed.text);
  if (record === undefined) return now - observed.mtimeMs > UNREADABLE_GRACE_MS;
  return record.expiresAt <= now || holderIsGone(record, me);
}

/** Takes the guard, or returns `undefined` when someone else holds it (clearing it if its holder is gone). */
async function takeGuard(guardFile: string, me: LockHolder): Promise<string | undefined> {
  const token = ownerToken();
  const record: LockRecord = { ...me, owner: token, expiresAt: Date.now() + GUARD_STALE_MS };
  if (await createExclusive(guardFile, JSON.stringify(record))) return token;
  const observed = await observe(guardFile);
  if (observed === undefined) return undefined;
  const holder = parseRecord(observed.text);
  const abandoned =
    Date.now() - observed.mtimeMs > GUARD_STALE_MS ||
    (holder !== undefined && holderIsGone(holder, me));
  if (abandoned) await removeFile(guardFile);
  return undefined;
}

async function dropGuard(guardFile: string, token: string): Promise<void> {
  const observed = await observe(guardFile);
  if (observed !== undefined && parseRecord(observed.text)?.owner === token) {
    await removeFile(guardFile);
  }
}

/** Runs `step` under the guard; `undefined` (step not run) when the guard is busy. */
async function underGuard<T>(
  lockFile: string,
  me: LockHolder,
  step: () => Promise<T>,
): Promise<{ value: T } | undefined> {
  const guardFile = `${lockFile}.guard`;
  const token = await takeGuard(guardFile, me);
  if (token === undefined) return undefined;
  try {
    return { value: await step() };
  } finally {
    await dropGuard(guardFile, token);
  }
}

/**
 * One attempt at the lock: the new owner token when taken, `undefined` when
 * someone else holds it (poll again later).
 */
export async function acquireFileLock(
  directory: string,
  lockFile: string,
  ttl: number,
  me: LockHolder = currentHolder(),
): Promise<string | undefined> {
  await ensureDirectory(directory);
  for (let round = 0; round < 3; round++) {
    const owner = ownerToken();
    const record: LockRecord = { ...me, owner, expiresAt: Date.now() + ttl };
    if (await createExclusive(lockFile, JSON.stringify(record))) return owner;
    const observed = await observe(lockFile);
    if (observed === undefined) continue; // released in between: try again at once
    if (!isStale(observed, Date.now(), me)) return undefined;
    const removed = await underGuard(lockFile, me, async () => {
      const current = await observe(lockFile);
      if (current === undefined) return true;
      if (current.ino !== observed.ino || current.text !== observed.text) return false;
      await removeFile(lockFile);
      return true;
    });
    if (removed?.value !== true) return undefined;
  }
  return undefined;
}

/**
 * Runs `step` with `owner`'s record of the lock file (`undefined`: it no longer names
 * `owner`) under the guard, waiting a little for a busy guard; `undefined` when the guard
 * stayed busy (its holder is then gone, and the lock expires by itself after its ttl).
 */
async function asOwner<T>(
  lockFile: string,
  owner: string,
  me: LockHolder,
  step: (record: LockRecord | undefined) => Promise<T>,
): Promise<{ value: T } | undefined> {
  const giveUpAt = Date.now() + 2 * GUARD_STALE_MS;
  let delay = 2;
  for (;;) {
    const done = await underGuard(lockFile, me, async () => {
      const current = await observe(lockFile);
      const record = current === undefined ? undefined : parseRecord(current.text);
      return step(record?.owner === owner ? record : undefined);
    });
    if (done !== undefined || Date.now() > giveUpAt) return done;
    await sleep(delay, undefined);
    delay = Math.min(delay * 2, 50);
  }
}

/** Deletes the lock file if it still names `owner`. */
export async function releaseFileLock(
  lockFile: string,
  owner: string,
  me: LockHolder = currentHolder(),
): Promise<void> {
  await asOwner(lockFile, owner, me, async (record) => {
    if (record !== undefined) await removeFile(lockFile);
  });
}

/**
 * Gives `owner`'s lock `ttl` ms more if the file still names it and it has not expired;
 * `false` when it was lost (expired, maybe taken over).
 */
export async function extendFileLock(
  directory: string,
  lockFile: string,
  owner: string,
  ttl: number,
  me: LockHolder = currentHolder(),
): Promise<boolean> {
  const done = await asOwner(lockFile, owner, me, async (record) => {
    if (record === undefined || record.expiresAt <= Date.now()) return false;
    const renewed: LockRecord = { ...record, expiresAt: Date.now() + ttl };
    await writeFileAtomic(directory, lockFile, JSON.stringify(renewed));
    return true;
  });
  return done?.value === true;
}
