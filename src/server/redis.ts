/**
 * Rate-limit counters shared through Redis (Node: ioredis + rate-limiter-flexible), so any
 * number of token server instances enforce one limit together.
 *
 * Redis is a helper, never a dependency of serving: when it cannot be reached every
 * limiter falls back to a per-process memory limiter (rate-limiter-flexible's
 * `insuranceLimiter`), the outage is logged once, `/readyz` says `degraded`, and ioredis
 * reconnects on its own. No request waits on a dead Redis: the offline queue is off and
 * commands are refused at once while the connection is not ready.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import {
  createMemoryFlexibleLimiter,
  type RateLimitStore,
  type RateLimitStoreHealth,
  wrapFlexibleLimiter,
} from './rate-limit.js';

/** Options of {@link createRedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` (TLS). Never logged. */
  url: string;
  /**
   * Logger for connection changes (lost, back); the URL and password never appear.
   * @default no logging
   */
  logger?: Logger;
  /**
   * Milliseconds to wait for a connection before giving up on that attempt.
   * @default 2_000
   */
  connectTimeout?: number;
  /**
   * Longest pause between reconnection attempts, in milliseconds.
   * @default 2_000
   */
  maxReconnectDelay?: number;
  /**
   * Extra ioredis options (merged over the defaults above).
   * @default {}
   */
  redisOptions?: RedisOptions;
}

/** A Redis-backed store; `client` is exposed for `/readyz`-style checks and tests. */
export interface RedisRateLimitStore extends RateLimitStore {
  readonly client: Redis;
}

/** Creates the shared store. Connects in the background; serving never waits for it. */
export function createRedisRateLimitStore(
  options: RedisRateLimitStoreOptions,
): RedisRateLimitStore {
  const logger = options.logger;
  const maxDelay = options.maxReconnectDelay ?? 2_000;
  const redisOptions: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeout ?? 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), maxDelay),
    lazyConnect: false,
    ...options.redisOptions,
  };
  const client = new Redis(options.url, redisOptions as never);
  let up = false;
  let announcedDown = false;
  client.on('ready', () => {
    if (!up) logger?.info({ rateLimitStore: 'redis' }, 'Redis connected: rate limits are shared');
    up = true;
    announcedDown = false;
  });
  const markDown = (reason: string) => {
    up = false;
    if (!announcedDown) {
      announcedDown = true;
      logger?.warn(
        { rateLimitStore: 'redis', reason },
        'Redis unreachable: rate limits are per process until it is back (fail-open)',
      );
    }
  };
  // Without an 'error' listener ioredis would print every failed attempt; one warning is enough.
  client.on('error', (error: Error & { code?: string }) => markDown(error.code ?? error.name));
  client.on('close', () => markDown('connection closed'));

  const onStoreError = (error: unknown) =>
    markDown(error instanceof Error ? error.message.slice(0, 120) : 'store error');

  return {
    kind: 'redis',
    client,
    limiter({ name, points, duration }) {
      const insurance = createMemoryFlexibleLimiter({ name, points, duration });
      const limiter = new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `spotify-session:${name}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: insurance as never,
      });
      // The insurance limiter hides Redis errors from us; watch the connection instead.
      return wrapFlexibleLimiter(limiter, onStoreError);
    },
    async health(): Promise<RateLimitStoreHealth> {
      if (client.status !== 'ready') return 'down';
      try {
        await client.ping();
        return 'ok';
      } catch {
        return 'down';
      }
    },
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
