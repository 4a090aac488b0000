/**
 * `spotify-session/stores`: token stores that run anywhere. The Node-only
 * stores have their own entry points, so importing this one never pulls in
 * `node:fs` or a Redis client: `spotify-session/stores/file` (`FileStore`)
 * and `spotify-session/stores/redis` (`RedisStore`).
 */

export type { TokenStore, TokenStoreLock, TokenStoreLockOptions } from '../core/index.js';
export { MemoryStore, type MemoryStoreOptions } from './memory.js';
