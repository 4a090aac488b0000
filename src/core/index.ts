/**
 * spotify-session: Spotify authorization for TypeScript. Web-standard
 * globals only (fetch, URL, crypto), so it runs in Node, browsers, Deno, Bun
 * and Workers.
 */

export type { FetchLike, Grant } from './_transport.js';
export { type CallbackInput, getCodeFromCallback } from './callback.js';
export * from './errors/index.js';
export {
  DEFAULT_CODE_VERIFIER_LENGTH,
  generateCodeChallenge,
  generateCodeVerifier,
  generateState,
  isCodeChallenge,
  isCodeVerifier,
} from './pkce.js';
export { type KnownScope, SCOPES, type Scope } from './scopes.js';
export {
  type AuthorizeUrlOptions,
  type CredentialsTokenOptions,
  DEFAULT_ACCOUNTS_URL,
  DEFAULT_EXPIRES_IN_SECONDS,
  DEFAULT_TIMEOUT_MS,
  type OnTokens,
  type RequestOptions,
  Session,
  type SessionOptions,
  type TokenResponse,
  type TokensEvent,
} from './session.js';
export { parseSessionTokens, type SessionTokens } from './tokens.js';
