/**
 * Rate limits for the token server: the store interface and the in-memory store.
 *
 * This file is on the handler path, so it must run on Node, Deno, Bun and Workers: it
 * imports rate-limiter-flexible's memory limiter by its own file, because the package's
 * main entry also loads its cluster limiter, which needs Node's `cluster` module.
 */
import type { RateLimiterRes } from 'rate-limiter-flexible';
import RateLimiterMemory from 'rate-limiter-flexible/lib/RateLimiterMemory.js';

/** What one {@link RateLimiter.consume} decided. */
export type RateLimitDecision =
  | { allowed: true }
  | {
      allowed: false;
      /** Whole seconds until the key may try again (sent as `Retry-After`). */
      retryAfter: number;
    };

/** One limit: `points` requests per `duration` seconds per key. */
export interface RateLimiter {
  /** Counts one request for `key` (an IP address or a token fingerprint, never a secret). */
  consume(key: string): Promise<RateLimitDecision>;
}

/** Health of a {@link RateLimitStore}: `down` means limits are enforced per process for now. */
export type RateLimitStoreHealth = 'ok' | 'down';

/**
 * Where rate-limit counters live. The token server owns the store it is given: its
 * `close()` closes the store.
 */
export interface RateLimitStore {
  /** `memory`, `redis`, or another name shown by `/readyz`. */
  readonly kind: string;
  /** A limiter of `points` requests per `duration` seconds; `name` separates the counters. */
  limiter(options: { name: string; points: number; duration: number }): RateLimiter;
  /** `down` when the shared store cannot be reached (the limiter then fails open). */
  health(): Promise<RateLimitStoreHealth>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** Minimal view of a rate-limiter-flexible limiter, memory or Redis. */
export interface FlexibleLimiter {
  consume(key: string, points?: number): Promise<RateLimiterRes>;
}

/** True for rate-limiter-flexible's "limit reached" answer (it rejects with a RateLimiterRes). */
function isLimitReached(value: unknown): value is RateLimiterRes {
  return (
    typeof value === 'object' &&
    value !== null &&
    'msBeforeNext' in value &&
    typeof (value as { msBeforeNext: unknown }).msBeforeNext === 'number'
  );
}

/**
 * Adapts a rate-limiter-flexible limiter. A store error (anything but "limit reached")
 * lets the request through and is reported to `onStoreError`: a broken counter store
 * must never take the token server down with it (fail open).
 */
export function wrapFlexibleLimiter(
  limiter: FlexibleLimiter,
  onStoreError: (error: unknown) => void,
): RateLimiter {
  return {
    async consume(key) {
      try {
        await limiter.consume(key, 1);
        return { allowed: true };
      } catch (error) {
        if (isLimitReached(error)) {
          return { allowed: false, retryAfter: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
        }
        onStoreError(error);
        return { allowed: true };
      }
    },
  };
}

/** Builds a per-process memory limiter (also the Redis store's insurance limiter). */
export function createMemoryFlexibleLimiter(options: {
  name: string;
  points: number;
  duration: number;
}): FlexibleLimiter {
  return new RateLimiterMemory({
    keyPrefix: `spotify-session:${options.name}`,
    points: options.points,
    duration: options.duration,
  });
}

/**
 * Counters in this process's memory: right for one instance; with several instances
 * each one counts on its own (use the Redis store to share them).
 */
export function createMemoryRateLimitStore(): RateLimitStore {
  return {
    kind: 'memory',
    limiter(options) {
      return wrapFlexibleLimiter(createMemoryFlexibleLimiter(options), () => {});
    },
    async health() {
      return 'ok';
    },
    async close() {},
  };
}
