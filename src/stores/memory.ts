import type {
  SessionTokens,
  TokenStore,
  TokenStoreLock,
  TokenStoreLockOptions,
} from '../core/index.js';
import {
  abortedError,
  checkKey,
  checkLockOptions,
  checkTtl,
  checkUntil,
  copyTokens,
  lockTimeout,
  MAX_TIMER_MS,
  ownerToken,
  stillAhead,
} from './_shared.js';

interface Waiter {
  ttl: number;
  grant(lock: TokenStoreLock): void;
}

interface KeyLock {
  owner: string;
  expiry: ReturnType<typeof setTimeout>;
  waiters: Waiter[];
}

/** Lets a pending timer not keep a Node or Deno process alive; a no-op elsewhere. */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Tokens to start with, by key (checked and copied).
   * @default {} (empty)
   */
  tokens?: Readonly<Record<string, SessionTokens>> | undefined;
}

/**
 * Keeps tokens in this process's memory: for tests, scripts, and several
 * Sessions in one process sharing tokens. Runs anywhere (web-standard only).
 *
 * Values are copied in and out, so changing an object you passed to `set` or
 * got from `get` never changes what is stored. `lock()` serialises callers in
 * this process only (first come, first served); use `FileStore` or
 * `RedisStore` when several processes share tokens.
 */
export class MemoryStore implements TokenStore {
  readonly #tokens = new Map<string, SessionTokens>();
  readonly #locks = new Map<string, KeyLock>();
  readonly #rateLimits = new Map<string, number>();

  constructor(options: MemoryStoreOptions = {}) {
    for (const [key, tokens] of Object.entries(options.tokens ?? {})) {
      this.#tokens.set(checkKey(key), copyTokens(tokens));
    }
  }

  async get(key: string): Promise<SessionTokens | undefined> {
    const tokens = this.#tokens.get(checkKey(key));
    return tokens === undefined ? undefined : copyTokens(tokens);
  }

  async set(key: string, tokens: SessionTokens): Promise<void> {
    this.#tokens.set(checkKey(key), copyTokens(tokens));
  }

  async delete(key: string): Promise<void> {
    this.#tokens.delete(checkKey(key));
  }

  /**
   * When the Web API's rate limit on the app `clientId` ends (ms since the epoch), as
   * recorded here by any Session of this process; `undefined` when none is, or it has passed.
   */
  async rateLimitedUntil(clientId: string): Promise<number | undefined> {
    return stillAhead(this.#rateLimits.get(checkKey(clientId)));
  }

  /** Records that the Web API asked the app `clientId` to wait until `until`; a later time recorded already is kept. */
  async recordRateLimit(clientId: string, until: number): Promise<void> {
    const key = checkKey(clientId);
    this.#rateLimits.set(key, Math.max(checkUntil(until), this.#rateLimits.get(key) ?? 0));
  }

  /**
   * Waits (first come, first served) until no one else in this process
   * holds `key`, then holds it until `release()` or until `ttl` passes.
   * @throws {LockTimeoutError} still held by another after `wait` ms.
   * @throws {AbortedError} `signal` aborted first.
   */
  lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock> {
    try {
      checkKey(key);
      const { ttl, wait, signal } = checkLockOptions(options);
      if (signal?.aborted) return Promise.reject(abortedError(signal));
      const current = this.#locks.get(key);
      if (current === undefined) return Promise.resolve(this.#acquire(key, ttl, []));
      if (wait <= 0) return Promise.reject(lockTimeout(key, wait));
      return new Promise<TokenStoreLock>((resolve, reject) => {
        const onAbort = () => {
          settle();
          reject(abortedError(signal as AbortSignal));
        };
        // A wait beyond what a timer can count (Infinity) means no time limit.
        const timer =
          wait > MAX_TIMER_MS
            ? undefined
            : setTimeout(() => {
                settle();
                reject(lockTimeout(key, wait));
              }, wait);
        const waiter: Waiter = {
          ttl,
          grant: (lock) => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            resolve(lock);
          },
        };
        // A waiter that gave up leaves the queue, so it is never granted a lock no one releases.
        const settle = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const queue = this.#locks.get(key)?.waiters;
          const index = queue?.indexOf(waiter) ?? -1;
          if (queue !== undefined && index >= 0) queue.splice(index, 1);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        current.waiters.push(waiter);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #acquire(key: string, ttl: number, waiters: Waiter[]): TokenStoreLock {
    const owner = ownerToken();
    const expiry = setTimeout(() => this.#handOver(key, owner), ttl);
    unref(expiry);
    this.#locks.set(key, { owner, expiry, waiters });
    return {
      release: async () => this.#handOver(key, owner),
      extend: async (ttl) => this.#extend(key, owner, checkTtl(ttl, 'ttl')),
    };
  }

  /** Restarts `owner`'s ttl if it still holds `key`; `false` when its hold ended. */
  #extend(key: string, owner: string, ttl: number): boolean {
    const current = this.#locks.get(key);
    if (current === undefined || current.owner !== owner) return false;
    clearTimeout(current.expiry);
    current.expiry = setTimeout(() => this.#handOver(key, owner), ttl);
    unref(current.expiry);
    return true;
  }

  /** Ends `owner`'s hold (release or expiry) and gives the lock to the next waiter. */
  #handOver(key: string, owner: string): void {
    const current = this.#locks.get(key);
    if (current === undefined || current.owner !== owner) return;
    clearTimeout(current.expiry);
    const next = current.waiters.shift();
    if (next === undefined) {
      this.#locks.delete(key);
      return;
    }
    next.grant(this.#acquire(key, next.ttl, current.waiters));
  }
}
