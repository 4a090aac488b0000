/**
 * What core shares with the other parts of this repository (api, stores, browser, server,
 * CLI), and nothing a user imports: the argument and option checks (`_assert.ts`), the URL
 * rules (`_urls.ts`), the HTTP layer (`_http.ts`), the Web API's rate limit shared through a
 * Session's store (`_shared-rate-limit.ts`) and the token server's request replay.
 * Parts import them from here, never from the `_`-prefixed files, so that core may move
 * them. Not an entry point of a package: any of it may change in any release.
 */
export {
  assertBaseUrl,
  assertFunction,
  assertMilliseconds,
  assertSignal,
  CODE_VERIFIER_PATTERN,
  isJsonObject,
  MAX_CODE_VERIFIER_LENGTH,
  MAX_TIMER_MS,
  MIN_CODE_VERIFIER_LENGTH,
} from './_assert.js';
export {
  abortableSleep,
  base64urlDecode,
  base64urlEncode,
  type FetchLike,
  type HttpResponse,
  isRedirect,
  parseJson,
  parseRetryAfter,
  redirectNotice,
  SELF_TIMED,
  type SelfTimedFetch,
  sendRequest,
  sendWebRequest,
  untilAborted,
  type WholeAnswer,
} from './_http.js';
export {
  hasNoStore,
  keepsRateLimits,
  rateLimitedUntil,
  recordRateLimit,
} from './_shared-rate-limit.js';
export { createTokenRequestReplay } from './_token-request-replay.js';
export { validateAccountsUrl, validateRedirectUri } from './_urls.js';
