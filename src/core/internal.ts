/**
 * What core shares with the other parts of this repository (api, stores, browser, server),
 * and nothing a user imports: the argument and option checks (`_assert.ts`), the URL rules
 * (`_urls.ts`) and the HTTP layer (`_http.ts`). Parts import them from here, never from the
 * `_`-prefixed files, so that core may move them.
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
export { type AccountsBase, validateAccountsUrl, validateRedirectUri } from './_urls.js';
