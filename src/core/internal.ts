/**
 * What other parts of this repository (server, api, CLI) may use of core's internals:
 * a plain re-export list, so a part never reaches into a `_` file of core. Not an entry
 * point of a package: nothing here is public, and any of it may change in any release.
 */

export {
  base64urlDecode,
  base64urlEncode,
  type FetchLike,
  SELF_TIMED,
  type SelfTimedFetch,
  sendRequest,
  type WholeAnswer,
} from './_http.js';
export { createTokenRequestReplay } from './_token-request-replay.js';
export { validateAccountsUrl, validateRedirectUri } from './_urls.js';
