import { SpotifyError } from './spotify-error.js';

/**
 * A `TokenStore` lock on `key` was still held by someone else after waiting
 * `wait` milliseconds (another process is refreshing, or a crashed holder's
 * lock has not expired yet). Retrying later is safe.
 */
export class LockTimeoutError extends SpotifyError {
  /** The store key that was locked. */
  readonly key: string;
  /** Milliseconds waited. */
  readonly wait: number;

  constructor(key: string, wait: number, options?: { cause?: unknown }) {
    super(
      'LOCK_TIMEOUT',
      `Timed out after ${wait} ms waiting for the token store lock on "${key}"; another process holds it — retry later`,
      options,
    );
    this.name = 'LockTimeoutError';
    this.key = key;
    this.wait = wait;
  }
}
