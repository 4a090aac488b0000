import type { SessionTokens } from './tokens.js';

/**
 * Where a Session's tokens live between runs. Core defines the contract and
 * never imports an implementation: `MemoryStore`, `FileStore` and `RedisStore`
 * live in `spotify-session/stores`, `…/stores/file` and `…/stores/redis`.
 *
 * Values are what `session.toJSON()` returns. A store must keep them whole:
 * `get` after `set` returns an equal object, and a write is durable once the
 * returned promise resolves (the Session hands out a new access token only
 * after that, so a rotated refresh token is never lost).
 */
export interface TokenStore {
  /** The tokens stored under `key`, or `undefined` when there are none. */
  get(key: string): Promise<SessionTokens | undefined>;
  /** Stores `tokens` under `key`, replacing what was there. */
  set(key: string, tokens: SessionTokens): Promise<void>;
  /** Forgets the tokens under `key` (no error when there are none). */
  delete(key: string): Promise<void>;
  /**
   * Optional: an exclusive lock on `key` across processes, so that only one
   * of them refreshes a rotating refresh token. Resolves once the lock is
   * held; rejects when `options.wait` passes first or `options.signal`
   * aborts. A holder that dies (or stalls) loses the lock after
   * `options.ttl`, unless it renews it with {@link TokenStoreLock.extend}.
   */
  lock?(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock>;
  /**
   * Optional, with {@link TokenStore.recordRateLimit}: when the Web API's rate limit on the app
   * `clientId` ends (ms since the epoch), as recorded by any process sharing the store;
   * `undefined` when none is recorded or it has passed. Every `SpotifyWebAPI` whose Session
   * has this store reads it before each request and, while it lasts, sends nothing.
   */
  rateLimitedUntil?(clientId: string): Promise<number | undefined>;
  /**
   * Optional, with {@link TokenStore.rateLimitedUntil}: records that the Web API answered the
   * app `clientId` HTTP 429 and asked it to wait until `until` (ms since the epoch). A later
   * time already recorded is kept. The record may disappear once `until` has passed.
   */
  recordRateLimit?(clientId: string, until: number): Promise<void>;
}

/** Options of {@link TokenStore.lock}. */
export interface TokenStoreLockOptions {
  /** Milliseconds the lock lives unless released: a crashed holder blocks no longer than this. */
  ttl: number;
  /** Milliseconds to wait for the lock before giving up. */
  wait: number;
  /** Gives up waiting when it aborts. */
  signal?: AbortSignal | undefined;
}

/** A held lock from {@link TokenStore.lock}. */
export interface TokenStoreLock {
  /**
   * Releases the lock if this holder still owns it (a lock that expired and
   * was taken by another process is left alone). Never throws for a lost lock.
   */
  release(): Promise<void>;
  /**
   * Optional: renews the lease. Resolves `true` when this holder still owns
   * the lock and it now lives `ttl` more milliseconds; `false` when the lock
   * was lost (its ttl passed, and another holder may have taken it). Never
   * takes a lost lock back.
   *
   * A Session renews the lock with it while its refresh request is under
   * way, and checks it before writing the answer. Without it the Session
   * counts the ttl on its own clock and takes the lock again when it may
   * have run out, which a process stalled between that check and its write
   * cannot notice (docs/stores.md).
   */
  extend?(ttl: number): Promise<boolean>;
}
