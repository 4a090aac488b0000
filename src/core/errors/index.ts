export { AbortedError } from './aborted-error.js';
export { AuthorizationError, type AuthorizationErrorReason } from './authorization-error.js';
export { ConfigurationError } from './configuration-error.js';
export { HTTPError, type HTTPErrorInit } from './http-error.js';
export { InvalidArgumentError } from './invalid-argument-error.js';
export { InvalidResponseError } from './invalid-response-error.js';
export {
  isSpotifyError,
  type SpotifyErrorByCode,
  type SpotifyErrorFor,
} from './is-spotify-error.js';
export { LockTimeoutError } from './lock-timeout-error.js';
export { NetworkError } from './network-error.js';
export { NoRefreshTokenError } from './no-refresh-token-error.js';
export { OAuthError } from './oauth-error.js';
export { RateLimitError, type RateLimitErrorInit } from './rate-limit-error.js';
export { RefreshTokenRevokedError } from './refresh-token-revoked-error.js';
export { SpotifyError, type SpotifyErrorCode } from './spotify-error.js';
export { StoreError, type StoreOperation } from './store-error.js';
export { TimeoutError } from './timeout-error.js';
export { TokenCallbackError } from './token-callback-error.js';
