/**
 * spotify-session: Spotify authorization for TypeScript. Web-standard
 * globals only (fetch, URL, crypto), so it runs in Node, browsers, Deno, Bun
 * and Workers.
 */

export type { FetchLike } from './_http.js';
export { type CallbackInput, getCodeFromCallback } from './callback.js';
export * from './errors/index.js';
export {
  type AuthorizationCodeGrantParams,
  authorizationCodeGrant,
  type ClientConfig,
  type ClientConfigOptions,
  type ClientCredentialsGrantParams,
  clientCredentialsGrant,
  type Grant,
  MAX_EXPIRES_IN_SECONDS,
  type RefreshTokenGrantParams,
  refreshTokenGrant,
  resolveClientConfig,
  type TokenEndpointResult,
} from './grants.js';
export {
  DEFAULT_CODE_VERIFIER_LENGTH,
  generateCodeChallenge,
  generateCodeVerifier,
  generateState,
  isCodeChallenge,
  isCodeVerifier,
} from './pkce.js';
export { isKnownScope, type KnownScope, SCOPES, type Scope } from './scopes.js';
export {
  type AuthorizeUrlOptions,
  type CredentialsTokenOptions,
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_EXPIRES_IN_SECONDS,
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_LOGIN_EXPIRING_MARGIN_SECONDS,
  DEFAULT_REFRESH_TOKEN_LIFETIME_SECONDS,
  DEFAULT_TIMEOUT_MS,
  type LoginExpiring,
  type OnLoginExpiring,
  type OnTokens,
  type RequestOptions,
  Session,
  type SessionOptions,
  type TokenResponse,
  type TokensEvent,
  type ValidAccessTokenOptions,
} from './session.js';
export type { TokenStore, TokenStoreLock, TokenStoreLockOptions } from './store.js';
export { parseSessionTokens, type SessionTokens } from './tokens.js';
