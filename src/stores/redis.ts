/**
 * `spotify-session/stores/redis`: tokens in Redis, shared by any number of
 * processes and machines (Node, `ioredis`).
 */

import { createRequire } from 'node:module';
// Only the client this store creates from `url` has ioredis's type: nothing public names
// ioredis's types, so this entry point's declarations never load them (docs/stores.md).
import type { Redis } from 'ioredis';
import {
  ConfigurationError,
  type SessionTokens,
  StoreError,
  type StoreOperation,
  type TokenStore,
  type TokenStoreLock,
  type TokenStoreLockOptions,
} from '../core/index.js';
import {
  checkKey,
  checkLockOptions,
  checkTtl,
  checkUntil,
  copyTokens,
  ownerToken,
  pollForLock,
  stillAhead,
} from './_shared.js';

export type { TokenStore, TokenStoreLock, TokenStoreLockOptions } from '../core/index.js';

/**
 * ioredis's `Redis` class, loaded when a store is created from a `url` (a store on your own
 * `client` never loads it). ioredis is an optional peer dependency of the library (only this
 * entry point needs it), so a missing one gets a message that says what to install instead of
 * a bare MODULE_NOT_FOUND. Loaded with `require` (ioredis is CommonJS) rather than a top-level
 * `await import()`, so that this module has no top-level await and CommonJS code can
 * `require('spotify-session/stores/redis')` (Node ≥ 20.19 loads ES modules with `require`,
 * but not those that await at the top level).
 */
function redisClass(): typeof Redis {
  try {
    return (createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis }).Redis;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new ConfigurationError(
      'ioredis',
      "RedisStore({ url }) needs the ioredis package, which is not installed: run `npm install ioredis` (or pass a client of your own, or use FileStore from 'spotify-session/stores/file' or MemoryStore from 'spotify-session/stores')",
      { cause: error },
    );
  }
}

/** Spotify refresh tokens live about six months (180 days) from the original authorization. */
export const DEFAULT_REDIS_TTL_SECONDS = 15_552_000;

/**
 * The Redis commands {@link RedisStore} sends, as promises: an `ioredis`
 * `Redis` or `Cluster` fits as it is, and so does any client (or test double)
 * with these methods. Declared here instead of naming ioredis's classes so
 * that this entry point's types never load ioredis's own declarations.
 */
export interface RedisStoreClient {
  /** `GET key`: the stored string, or `null` when there is none. */
  get(key: string): Promise<string | null>;
  /** `SET key value EX seconds`. */
  set(key: string, value: string, expiry: 'EX', seconds: number): Promise<unknown>;
  /** `SET key value PX milliseconds NX`: `'OK'` when set, `null` when the key exists. */
  set(
    key: string,
    value: string,
    expiry: 'PX',
    milliseconds: number,
    condition: 'NX',
  ): Promise<string | null>;
  /** `DEL key`. */
  del(key: string): Promise<unknown>;
  /** `EVAL script numberOfKeys key… arg…`: the script's reply. */
  eval(script: string, numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

/** Options of {@link RedisStore}: give exactly one of `client` and `url`. */
export interface RedisStoreOptions {
  /**
   * A client that you created and close yourself: an `ioredis` `Redis` or
   * `Cluster`, or anything else that has the {@link RedisStoreClient}
   * commands. An ioredis client's commands wait in its offline queue while
   * it reconnects, according to its own options.
   * @default none (then `url` is required)
   */
  client?: RedisStoreClient | undefined;
  /**
   * `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS): the
   * store creates its own client, closed by {@link RedisStore.close}.
   * @default none (then `client` is required)
   */
  url?: string | undefined;
  /**
   * With `url`: milliseconds a command may take before it fails with a
   * `StoreError`, so a frozen Redis cannot hang a Session. (With `client`,
   * set ioredis's own `commandTimeout`.)
   * @default 5_000
   */
  commandTimeout?: number | undefined;
  /**
   * Prefix of the keys holding tokens: `key` is stored at `prefix + key`.
   * @default 'spotify-session:tokens:'
   */
  prefix?: string | undefined;
  /**
   * Prefix of the lock keys: `lock(key)` uses `lockPrefix + key`.
   * @default 'spotify-session:locks:'
   */
  lockPrefix?: string | undefined;
  /**
   * Prefix of the keys recording the Web API's rate limit on an app, shared by every process
   * on this Redis: `recordRateLimit(clientId)` uses `rateLimitPrefix + clientId`.
   * @default 'spotify-session:rate-limit:'
   */
  rateLimitPrefix?: string | undefined;
  /**
   * Seconds stored tokens live after each `set`, so abandoned tokens do not
   * stay forever. Never shorter than the access token's remaining life.
   * @default 15552000 (180 days, the refresh token's lifetime)
   */
  ttl?: number | undefined;
}

/** Deletes the lock only if it still holds our owner token (atomic on the server). */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/**
 * Records a rate limit's end `ARGV[1]` (ms since the epoch), living `ARGV[2]` ms, unless a later
 * one is recorded (atomic on the server).
 */
const RATE_LIMIT_SCRIPT = `local current = tonumber(redis.call('get', KEYS[1])) if current and current >= tonumber(ARGV[1]) then return 0 end redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1`;
/** Gives the lock `ARGV[2]` ms more only if it still holds our owner token (atomic on the server). */
const EXTEND_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

/**
 * Keeps each key's tokens as JSON in Redis at `prefix + key`, with a TTL
 * renewed on every `set`. `lock()` is `SET lockKey owner NX PX ttl` with a
 * random owner token, released by a compare-and-delete script, so a holder
 * whose lock expired never removes its successor's lock.
 */
export class RedisStore implements TokenStore {
  /** The client in use: yours, or the ioredis `Redis` created from `url`. */
  readonly client: RedisStoreClient;
  /** Prefix of token keys. */
  readonly prefix: string;
  /** Prefix of lock keys. */
  readonly lockPrefix: string;
  /** Prefix of the keys recording a rate limit. */
  readonly rateLimitPrefix: string;
  /** Seconds tokens live after each `set`. */
  readonly ttl: number;
  /** The client created from `url`, closed by {@link RedisStore.close}; none when it is yours. */
  readonly #ownClient: Redis | undefined;

  constructor(options: RedisStoreOptions) {
    const given = options ?? ({} as RedisStoreOptions);
    if ((given.client === undefined) === (given.url === undefined)) {
      throw new ConfigurationError(
        given.client === undefined ? 'url' : 'client',
        'RedisStore needs exactly one of `client` (an ioredis client) or `url` (redis://host:port)',
      );
    }
    if (given.url !== undefined) {
      if (typeof given.url !== 'string' || !/^rediss?:\/\//.test(given.url)) {
        throw new ConfigurationError(
          'url',
          'RedisStore url must start with redis:// or rediss:// (e.g. redis://127.0.0.1:6379)',
        );
      }
      const commandTimeout = given.commandTimeout ?? 5_000;
      if (!Number.isSafeInteger(commandTimeout) || commandTimeout < 1) {
        throw new ConfigurationError(
          'commandTimeout',
          'RedisStore commandTimeout must be a whole number of milliseconds >= 1',
        );
      }
      const client = new (redisClass())(given.url, {
        maxRetriesPerRequest: 2,
        connectTimeout: 5_000,
        commandTimeout,
      });
      // Failures reach the caller through the rejected command; without a
      // listener ioredis would also print every reconnection attempt.
      client.on('error', () => {});
      this.client = client;
      this.#ownClient = client;
    } else {
      this.client = given.client as RedisStoreClient;
      this.#ownClient = undefined;
    }
    this.prefix = given.prefix ?? 'spotify-session:tokens:';
    this.lockPrefix = given.lockPrefix ?? 'spotify-session:locks:';
    this.rateLimitPrefix = given.rateLimitPrefix ?? 'spotify-session:rate-limit:';
    const ttl = given.ttl ?? DEFAULT_REDIS_TTL_SECONDS;
    if (!Number.isSafeInteger(ttl) || ttl < 1) {
      throw new ConfigurationError('ttl', 'RedisStore ttl must be a whole number of seconds >= 1');
    }
    this.ttl = ttl;
  }

  async get(key: string): Promise<SessionTokens | undefined> {
    const redisKey = this.prefix + checkKey(key);
    let text: string | null;
    try {
      text = await this.client.get(redisKey);
    } catch (error) {
      throw this.#failure('get', key, error);
    }
    if (text === null) return undefined;
    try {
      return copyTokens(JSON.parse(text));
    } catch (error) {
      throw new StoreError('get', key, {
        cause: error,
        message: `Redis key "${redisKey}" does not hold spotify-session tokens: delete it (DEL) and authorize again to store fresh tokens`,
      });
    }
  }

  async set(key: string, tokens: SessionTokens): Promise<void> {
    const redisKey = this.prefix + checkKey(key);
    const value = copyTokens(tokens);
    const accessTokenLeft =
      value.expiresAt === undefined ? 0 : value.expiresAt - Math.floor(Date.now() / 1000);
    try {
      await this.client.set(
        redisKey,
        JSON.stringify(value),
        'EX',
        Math.max(this.ttl, accessTokenLeft),
      );
    } catch (error) {
      throw this.#failure('set', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    const redisKey = this.prefix + checkKey(key);
    try {
      await this.client.del(redisKey);
    } catch (error) {
      throw this.#failure('delete', key, error);
    }
  }

  /**
   * When the Web API's rate limit on the app `clientId` ends (ms since the epoch), as recorded
   * by any process on this Redis; `undefined` when none is, or it has passed.
   * @throws {StoreError} Redis failed.
   */
  async rateLimitedUntil(clientId: string): Promise<number | undefined> {
    const redisKey = this.rateLimitPrefix + checkKey(clientId);
    let text: string | null;
    try {
      text = await this.client.get(redisKey);
    } catch (error) {
      throw this.#failure('get', clientId, error);
    }
    const until = text === null ? undefined : Number(text);
    return stillAhead(Number.isFinite(until) ? until : undefined);
  }

  /**
   * Records that the Web API asked the app `clientId` to wait until `until` (ms since the
   * epoch): a key that Redis deletes at that time (`PX`), set by a script that keeps a later
   * time recorded already.
   * @throws {StoreError} Redis failed.
   */
  async recordRateLimit(clientId: string, until: number): Promise<void> {
    const redisKey = this.rateLimitPrefix + checkKey(clientId);
    const ms = Math.ceil(checkUntil(until) - Date.now());
    if (ms <= 0) return;
    try {
      await this.client.eval(RATE_LIMIT_SCRIPT, 1, redisKey, until, ms);
    } catch (error) {
      throw this.#failure('set', clientId, error);
    }
  }

  /**
   * Holds `key` across processes and machines until `release()` or until
   * `ttl` passes. Waiters retry with backoff.
   * @throws {LockTimeoutError} still held after `wait` ms.
   * @throws {AbortedError} `signal` aborted first.
   * @throws {StoreError} Redis failed.
   */
  async lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock> {
    const lockKey = this.lockPrefix + checkKey(key);
    const { ttl, wait, signal } = checkLockOptions(options);
    const owner = ownerToken();
    await pollForLock(key, wait, signal, async () => {
      try {
        return (await this.client.set(lockKey, owner, 'PX', ttl, 'NX')) === 'OK' ? true : undefined;
      } catch (error) {
        throw this.#failure('lock', key, error);
      }
    });
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await this.client.eval(RELEASE_SCRIPT, 1, lockKey, owner);
        } catch (error) {
          throw this.#failure('release', key, error);
        }
      },
      extend: async (more) => {
        const ms = checkTtl(more, 'ttl');
        if (released) return false;
        try {
          return (await this.client.eval(EXTEND_SCRIPT, 1, lockKey, owner, ms)) === 1;
        } catch (error) {
          throw this.#failure('lock', key, error);
        }
      },
    };
  }

  /** Closes the client if this store created it (from `url`); yours is left open. */
  async close(): Promise<void> {
    const own = this.#ownClient;
    if (own === undefined) return;
    try {
      await own.quit();
    } catch {
      own.disconnect();
    }
  }

  #failure(operation: StoreOperation, key: string, error: unknown): StoreError {
    return new StoreError(operation, key, {
      cause: error,
      message: `RedisStore could not ${operation} "${key}": ${describe(error)} (check that Redis is reachable)`,
    });
  }
}
