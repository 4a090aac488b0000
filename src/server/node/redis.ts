/**
 * Rate-limit counters shared through Redis (Node: ioredis + rate-limiter-flexible), so any
 * number of token server instances enforce one limit together.
 *
 * Redis is a helper, never a dependency of serving: when it cannot be reached, or does not
 * answer within `commandTimeout` (a frozen server keeps its connection open), every limiter
 * counts in per-process memory, the outage is logged once, `/readyz` says `degraded`, and
 * ioredis reconnects on its own (or a periodic PING finds the frozen server back). No
 * request waits on a dead Redis: the offline queue is off, commands are refused at once
 * while the connection is not ready, and Redis is skipped entirely while it is down.
 *
 * Nothing public names ioredis's types (the client is a {@link RedisRateLimitClient}), so this
 * entry point's declarations never load ioredis's own (docs/stores.md).
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { assertOption } from '../_assert.js';
import {
  createMemoryFlexibleLimiter,
  type RateLimitStore,
  type RateLimitStoreHealth,
  wrapFlexibleLimiter,
} from '../rate-limit.js';
import { resolveSetting, TOKEN_SERVER_SETTINGS } from '../settings.js';

/**
 * What the store uses of a Redis client: an ioredis `Redis` or `Cluster` fits as it is.
 * rate-limiter-flexible installs its counting script with `defineCommand` and sends a command
 * only while `status` is `'ready'`; the store follows the connection through `on`/`off` and
 * `ping`, and closes a client it created with `quit` (`disconnect` when Redis does not answer).
 * Declared here instead of naming ioredis's classes, so that this entry point's types never
 * load ioredis's own declarations.
 */
export interface RedisRateLimitClient {
  /** The connection's state, as ioredis names it: `'ready'` when commands go out at once. */
  readonly status: string;
  on(event: 'ready' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown;
  off(event: 'ready' | 'close', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error & { code?: string }) => void): unknown;
  /** `PING`. */
  ping(): Promise<unknown>;
  /** `QUIT`: closes the connection once the commands sent have their answers. */
  quit(): Promise<unknown>;
  /** Closes the connection at once. */
  disconnect(): void;
  /** Registers a Lua script as a command (ioredis's `defineCommand`). */
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
}

/** Options of {@link createRedisRateLimitStore}: give exactly one of `url` and `client`. */
export interface RedisRateLimitStoreOptions {
  /**
   * `redis://[:password@]host:port[/db]` or `rediss://…` (TLS): the store creates its own
   * client (no offline queue, quick reconnects), closed by `close()`. Never logged.
   * @default none (then `client` is required)
   */
  url?: string | undefined;
  /**
   * A client you created (an ioredis `Redis` or `Cluster`, with the options you want) and
   * close yourself: `close()` leaves it open. Commands it queues while disconnected are not
   * waited for: a check gives up after `commandTimeout` and counts in memory.
   * @default none (then `url` is required)
   */
  client?: RedisRateLimitClient | undefined;
  /**
   * Logger for connection changes (lost, back); the URL and password never appear.
   * @default no logging
   */
  logger?: Logger;
  /**
   * Milliseconds one rate-limit check waits for Redis before counting in memory instead.
   * The first check that runs out marks Redis down, so later checks skip it at once and a
   * request (two checks at most) waits about twice this, at worst, in total.
   * @default 50
   */
  commandTimeout?: number;
  /**
   * Milliseconds between the checks (`PING`) that find out whether a Redis marked down
   * answers again while its connection stayed open (a frozen or overloaded server).
   * @default 1_000
   */
  probeInterval?: number;
  /**
   * With `url`: milliseconds to wait for a connection before giving up on that attempt.
   * @default 2_000
   */
  connectTimeout?: number;
  /**
   * With `url`: the longest pause between reconnection attempts, in milliseconds.
   * @default 2_000
   */
  maxReconnectDelay?: number;
  /**
   * Called when Redis goes down (`'down'`) or comes back (`'ok'`), e.g. to set a gauge;
   * `serveTokenServer` wires it to the Prometheus metrics.
   * @default undefined
   */
  onStatusChange?: (status: RateLimitStoreHealth) => void;
}

/** A Redis-backed store; `client` is exposed for `/readyz`-style checks and tests. */
export interface RedisRateLimitStore extends RateLimitStore {
  readonly client: RedisRateLimitClient;
}

const TIMED_OUT = Symbol('timed out');

/** `promise`, or {@link TIMED_OUT} after `ms` (the timer never keeps the process alive). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  assertOption(
    typeof resolved === 'number' && Number.isFinite(resolved) && resolved > 0,
    name,
    `${name} must be a positive number of milliseconds`,
  );
  return resolved;
}

/**
 * Creates the shared store. Connects in the background; serving never waits for it.
 *
 * @throws ConfigurationError for a timeout or interval that is not a positive number, and
 *   unless exactly one of `url` and `client` is given.
 */
export function createRedisRateLimitStore(
  options: RedisRateLimitStoreOptions,
): RedisRateLimitStore {
  const logger = options.logger;
  assertOption(
    (options.url === undefined) !== (options.client === undefined),
    options.client === undefined ? 'url' : 'client',
    'createRedisRateLimitStore needs exactly one of `url` (redis://host:6379) or `client` (an ioredis client)',
  );
  const maxDelay = positive('maxReconnectDelay', options.maxReconnectDelay, 2_000);
  // The same bound as REDIS_COMMAND_TIMEOUT_MS (the settings table), named as given here.
  const commandTimeout = resolveSetting(
    TOKEN_SERVER_SETTINGS.redisCommandTimeout,
    options.commandTimeout,
    'commandTimeout',
  );
  const probeInterval = positive('probeInterval', options.probeInterval, 1_000);
  const connectTimeout = positive('connectTimeout', options.connectTimeout, 2_000);
  const ownClient = options.client === undefined;
  const client: RedisRateLimitClient =
    options.client ??
    new Redis(options.url as string, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout,
      // ioredis's own timeout only bounds how many commands a frozen server can pile up;
      // requests stop waiting after `commandTimeout` (see `within`).
      commandTimeout: Math.max(1_000, commandTimeout),
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), maxDelay),
      lazyConnect: false,
    });
  // One state, changed in two places only, so each outage and each recovery is logged once.
  let up = false;
  let everUp = false;
  let announcedDown = false;
  let probe: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const markUp = () => {
    if (up || closed) return;
    up = true;
    everUp = true;
    announcedDown = false;
    if (probe !== undefined) clearInterval(probe);
    probe = undefined;
    logger?.info({ rateLimitStore: 'redis' }, 'Redis connected: rate limits are shared');
    options.onStatusChange?.('ok');
  };
  const markDown = (reason: string) => {
    const wasUp = up;
    up = false;
    if (!announcedDown && !closed) {
      announcedDown = true;
      logger?.warn(
        { rateLimitStore: 'redis', reason },
        'Redis unreachable: rate limits are per process until it is back (fail-open)',
      );
    }
    if (wasUp || !everUp) options.onStatusChange?.('down');
    // A connection that stays open never fires 'ready' again: ask it now and then.
    if (probe === undefined && !closed) {
      probe = setInterval(() => {
        if (client.status !== 'ready') return; // reconnecting: 'ready' will say when
        within(client.ping(), probeInterval).then(
          (answer) => {
            if (answer !== TIMED_OUT) markUp();
          },
          () => {},
        );
      }, probeInterval);
      probe.unref?.();
    }
  };
  const onError = (error: Error & { code?: string }) => markDown(error.code ?? error.name);
  const onClose = () => markDown('connection closed');
  client.on('ready', markUp);
  // Without an 'error' listener ioredis would print every failed attempt; one warning is enough.
  client.on('error', onError);
  client.on('close', onClose);
  // A client given already connected has said 'ready' before this store listened.
  if (client.status === 'ready') markUp();

  return {
    kind: 'redis',
    client,
    limiter({ name, points, duration }) {
      // Per-process counters used whenever Redis is down or slow (fail-open, still limited).
      const memory = wrapFlexibleLimiter(
        createMemoryFlexibleLimiter({ name, points, duration }),
        () => {},
      );
      const shared = wrapFlexibleLimiter(
        new RateLimiterRedis({
          storeClient: client,
          keyPrefix: `spotify-session:${name}`,
          points,
          duration,
          rejectIfRedisNotReady: true,
        }),
        (error) => markDown(error instanceof Error ? error.message.slice(0, 120) : 'store error'),
      );
      return {
        async consume(key) {
          if (!up) return memory.consume(key);
          const decision = await within(shared.consume(key), commandTimeout);
          if (decision !== TIMED_OUT) {
            // A store error was reported through markDown; count this one in memory.
            return up ? decision : memory.consume(key);
          }
          markDown(`no answer within ${commandTimeout} ms`);
          return memory.consume(key);
        },
      };
    },
    async health(): Promise<RateLimitStoreHealth> {
      if (!up || client.status !== 'ready') return 'down';
      const answer = await within(
        client.ping().catch(() => TIMED_OUT),
        commandTimeout * 2,
      );
      if (answer === TIMED_OUT) {
        markDown('no answer to PING');
        return 'down';
      }
      return 'ok';
    },
    async close() {
      closed = true;
      if (probe !== undefined) clearInterval(probe);
      if (!ownClient) {
        // Yours to close: only this store's listeners go.
        client.off('ready', markUp);
        client.off('error', onError);
        client.off('close', onClose);
        return;
      }
      try {
        // A frozen server never answers QUIT: do not wait for it.
        if ((await within(client.quit(), 1_000)) === TIMED_OUT) client.disconnect();
      } catch {
        client.disconnect();
      }
    },
  };
}
