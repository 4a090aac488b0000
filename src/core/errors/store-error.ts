import { SpotifyError } from './spotify-error.js';

/** The `TokenStore` operation that failed. */
export type StoreOperation = 'get' | 'set' | 'delete' | 'lock' | 'release';

/**
 * A `TokenStore` failed (`cause` is what it threw). On a failed `set` the
 * Session still holds the new tokens but did not hand out the new access
 * token: after a rotation they are the only valid ones, so fix the store and
 * call again (the Session writes them before answering), or save
 * `session.toJSON()` yourself.
 */
export class StoreError extends SpotifyError {
  /** What was being done: `get`, `set`, `delete`, `lock` or `release`. */
  readonly operation: StoreOperation;
  /** The store key involved. */
  readonly key: string;

  constructor(
    operation: StoreOperation,
    key: string,
    options?: { cause?: unknown; message?: string | undefined },
  ) {
    super(
      'STORE_FAILED',
      options?.message ?? `The token store failed to ${operation} the tokens under "${key}"`,
      options,
    );
    this.name = 'StoreError';
    this.operation = operation;
    this.key = key;
  }
}
