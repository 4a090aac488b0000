/**
 * What core shares with the other parts of this repository (api, stores, browser, server,
 * CLI), and nothing a user imports: the argument and option checks (`_assert.ts`), the URL
 * rules (`_urls.ts`), the HTTP layer (`_http.ts`) and the token server's request replay.
 * Parts import them from here, never from the `_`-prefixed files, so that core may move
 * them. Not an entry point of a package: any of it may change in any release.
 */
export {
  assertBaseUrl,
  assertCodeVerifier,
  assertFunction,
  assertMilliseconds,
  assertPkce,
  assertSignal,
  assertToken,
  type BaseUrl,
  CODE_VERIFIER_PATTERN,
  isJsonObject,
  isLoopbackHost,
  MAX_TIMER_MS,
} from './_assert.js';
export {
  abortableSleep,
  base64urlDecode,
  base64urlEncode,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RETRY_AFTER_CAP_SECONDS,
  errorFromResponse,
  type FetchLike,
  type HttpResponse,
  isRedirect,
  parseJson,
  parseRetryAfter,
  redirectNotice,
  SELF_TIMED,
  type SelfTimedFetch,
  type SendOptions,
  sendRequest,
  sendWebRequest,
  sha256Base64url,
  untilAborted,
  type WholeAnswer,
} from './_http.js';
export { createTokenRequestReplay } from './_token-request-replay.js';
export { type AccountsBase, validateAccountsUrl, validateRedirectUri } from './_urls.js';
