/**
 * The Web API's rate limit on an app, shared by every process on a Session's store (when the
 * store keeps it: `TokenStore.rateLimitedUntil` and `recordRateLimit`). `spotify-session/api`
 * reads and records it through the Session, never through a store of its own. The Session only
 * registers its store here, so a bundle that never calls the Web API carries one line of it.
 */
import type { Session } from './session.js';
import type { TokenStore } from './store.js';

/** Each Session's store (`undefined`: none); written by the Session's constructor. */
export const sessionStores = new WeakMap<Session, TokenStore | undefined>();

/**
 * When the Web API's rate limit on the Session's app ends (ms since the epoch), as recorded
 * in its store by any process; `undefined` when none is, or the store keeps no such record.
 * @throws {StoreError} (rejects with) the store failed.
 */
export async function rateLimitedUntil(session: Session): Promise<number | undefined> {
  return sessionStores.get(session)?.rateLimitedUntil?.(session.getClientId());
}

/**
 * Records in the Session's store that the Web API asked its app to wait until `until` (ms
 * since the epoch); nothing without a store that keeps such records.
 * @throws {StoreError} (rejects with) the store failed.
 */
export async function recordRateLimit(session: Session, until: number): Promise<void> {
  await sessionStores.get(session)?.recordRateLimit?.(session.getClientId(), until);
}
