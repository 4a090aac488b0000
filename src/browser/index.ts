/**
 * `spotify-session/browser`: a single-page app's login and tabs. `loginWithRedirect()` and
 * `handleRedirectCallback()` run the PKCE login in one call each way (verifier and state
 * kept in `sessionStorage`, checked, deleted); `syncTabs()` keeps every tab's Session on
 * the tokens the others store, and `logout()` logs out all of them. Pair it with
 * `BrowserStore` from `spotify-session/stores/browser`.
 * @module
 */
export {
  type HandleRedirectCallbackOptions,
  handleRedirectCallback,
  type LoginWithRedirectOptions,
  loginWithRedirect,
  pendingLoginKey,
  type RedirectCallbackReason,
  type RedirectCallbackResult,
} from './login.js';
export {
  logout,
  type SyncTabsOptions,
  syncTabs,
  type TabChangeSource,
  type TabTokensEvent,
} from './tabs.js';
