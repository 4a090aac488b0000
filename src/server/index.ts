/**
 * `@spotify-session/cli/server`: the token swap and refresh service for Spotify's mobile SDKs.
 *
 * `createTokenServer` is a fetch handler (Node, Deno, Bun, Workers): nothing exported here
 * imports a Node module. The Node-only pieces (`serveTokenServer`, `closeOnSignals`,
 * `createRedisRateLimitStore`, `createPrometheusMetrics`) live in `@spotify-session/cli/server/node`.
 */

export {
  type Aead,
  Keyring,
  type KeyringKey,
  type KeyringOptions,
  type KeyringParseOptions,
  MAX_REFRESH_TOKEN_BYTES,
  MAX_SEALED_LENGTH,
  type SealOptions,
  UnsealError,
  type UnsealedToken,
  type UnsealOptions,
} from './keyring.js';
export {
  type EmbeddedModeOptions,
  type EmbeddedTokenServerOptions,
  type LoadedSpotifyOptions,
  type LoadedTokenServerOptions,
  loadTokenServerOptions,
  type ServeSettings,
  type TokenServerConfigProblems,
  type TokenServerFlags,
} from './load-options.js';
export type {
  RequestMetricLabels,
  TokenServerMetrics,
  UpstreamMetricLabels,
  UpstreamOutcome,
} from './metrics.js';
export {
  DEFAULT_REFRESH_TOKEN_MAX_AGE,
  MAX_BODY_BYTES,
  MAX_FIELD_BYTES,
  type RateLimitOptions,
  type TokenServerOptions,
} from './options.js';
export {
  createMemoryRateLimitStore,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitStore,
  type RateLimitStoreHealth,
} from './rate-limit.js';
export {
  type AppEnv,
  createTokenServer,
  type ReadyState,
  type TokenServer,
} from './token-server.js';
