/**
 * What every store shares: argument checks, abortable waiting with backoff,
 * owner tokens. Web-standard globals only, so MemoryStore stays portable.
 */

import type { TokenStoreLockOptions } from '../core/index.js';
import {
  AbortedError,
  InvalidArgumentError,
  LockTimeoutError,
  parseSessionTokens,
  type SessionTokens,
} from '../core/index.js';
import { assertSignal, MAX_TIMER_MS } from '../core/internal.js';

export { MAX_TIMER_MS } from '../core/internal.js';

/** Throws a clear error for a key no store can use. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') {
    throw new InvalidArgumentError('key', 'The token store key must be a non-empty string');
  }
  return key;
}

/**
 * Validates and copies tokens on their way into (or out of) a store, so the
 * caller's object and the stored one never alias and a typo such as
 * `refresh_token` is refused instead of silently storing nothing.
 */
export function copyTokens(tokens: unknown): SessionTokens {
  return parseSessionTokens(tokens);
}

/** Checks the time given to `recordRateLimit()`: ms since the epoch. */
export function checkUntil(until: unknown): number {
  if (typeof until !== 'number' || !Number.isFinite(until)) {
    throw new InvalidArgumentError(
      'until',
      'recordRateLimit(clientId, until) needs until as milliseconds since the epoch (Date.now() + Retry-After × 1000)',
    );
  }
  return until;
}

/** A recorded end of a rate limit, if it is still ahead; `undefined` once it has passed. */
export function stillAhead(until: number | undefined): number | undefined {
  return until !== undefined && until > Date.now() ? until : undefined;
}

/** Checks `lock()` options; returns them as whole milliseconds. */
export function checkLockOptions(options: TokenStoreLockOptions | undefined): {
  ttl: number;
  wait: number;
  signal: AbortSignal | undefined;
} {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      'options',
      'lock(key, options) needs options { ttl, wait } in milliseconds',
    );
  }
  const { ttl, wait, signal } = options;
  assertSignal(signal);
  if (typeof wait !== 'number' || Number.isNaN(wait) || wait < 0) {
    throw new InvalidArgumentError(
      'options.wait',
      'options.wait must be a number of milliseconds >= 0, or Infinity (how long to wait for the lock)',
    );
  }
  return { ttl: checkTtl(ttl, 'options.ttl'), wait, signal };
}

/** Checks a lock's ttl (of `lock()`, or of `extend()`); returns it as whole milliseconds. */
export function checkTtl(ttl: unknown, argument: 'options.ttl' | 'ttl'): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 1 || ttl > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be a number of milliseconds from 1 to ${MAX_TIMER_MS} (how long a crashed holder may block others)`,
    );
  }
  return Math.ceil(ttl);
}

export function abortedError(signal: AbortSignal): AbortedError {
  return new AbortedError({ cause: signal.reason });
}

export function lockTimeout(key: string, wait: number): LockTimeoutError {
  return new LockTimeoutError(key, wait);
}

/** Resolves after `ms`, rejects with AbortedError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `attempt` until it succeeds, with capped exponential backoff and
 * jitter (waiters in different processes spread out instead of hammering the
 * lock in step). Rejects with LockTimeoutError after `wait` ms, AbortedError
 * when `signal` aborts.
 */
export async function pollForLock<T>(
  key: string,
  wait: number,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + wait;
  let delay = 5;
  for (;;) {
    if (signal?.aborted) throw abortedError(signal);
    const held = await attempt();
    if (held !== undefined) return held;
    const left = deadline - Date.now();
    if (left <= 0) throw lockTimeout(key, wait);
    await sleep(Math.min(left, delay * (0.5 + Math.random())), signal);
    delay = Math.min(delay * 2, 100);
  }
}

/** A random owner token (128 bits from the platform CSPRNG), hex. */
export function ownerToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
