import {
  AuthorizationError,
  type AuthorizeUrlOptions,
  type CallbackInput,
  generateCodeChallenge,
  generateCodeVerifier,
  generateState,
  InvalidArgumentError,
  OAuthError,
  type RequestOptions,
  type Session,
} from '../core/index.js';
import { isJsonObject, parseJson } from '../core/internal.js';

/** The key of the pending login in `sessionStorage`: one per client id. */
export function pendingLoginKey(clientId: string): string {
  return `spotify-session:login:${clientId}`;
}

/** What {@link loginWithRedirect} keeps for {@link handleRedirectCallback}. */
interface PendingLogin {
  state: string;
  verifier: string;
  returnTo: string;
  /** Unix milliseconds, for people reading the storage. */
  createdAt: number;
}

/**
 * Why {@link handleRedirectCallback} failed, as `AuthorizationError.reason`: core's reasons
 * (`access_denied` or another error Spotify sent, `state_mismatch`, `missing_code`,
 * `invalid_callback`) and two of its own:
 * - `missing_verifier`: this tab has no pending login (the callback was opened in another
 *   tab or browser, opened a second time, or the tab's storage was cleared);
 * - `code_rejected`: Spotify refused the code (`invalid_grant`: it expired, was used, or
 *   does not match the verifier).
 */
export type RedirectCallbackReason =
  | 'access_denied'
  | 'state_mismatch'
  | 'missing_code'
  | 'invalid_callback'
  | 'missing_verifier'
  | 'code_rejected';

/** Options of {@link loginWithRedirect}. */
export interface LoginWithRedirectOptions
  extends Pick<AuthorizeUrlOptions, 'scope' | 'showDialog' | 'allowUnknownScopes'> {
  /**
   * The `state` to send. Leave it out: a fresh one is drawn from the CSPRNG.
   * @default Session.generateState()
   */
  state?: string | undefined;
  /**
   * Where the app should go after the login: a path of this origin (`/playlists?page=2`).
   * An absolute URL is accepted only on this origin (anything else would be an open
   * redirect) and kept as its path.
   * @default the current page (path, query and fragment)
   */
  returnTo?: string | undefined;
  /**
   * `false` only builds and returns the URL (after storing the pending login): navigate to
   * it yourself, for example in a popup or after an animation.
   * @default true (`location.assign(url)`)
   */
  navigate?: boolean | undefined;
  /**
   * Where the pending login (state, verifier, returnTo) waits for the callback. It must be
   * this tab's own storage: the callback comes back to this tab.
   * @default sessionStorage
   */
  storage?: Storage | undefined;
}

/** Options of {@link handleRedirectCallback}. */
export interface HandleRedirectCallbackOptions extends RequestOptions {
  /**
   * Where {@link loginWithRedirect} kept the pending login.
   * @default sessionStorage
   */
  storage?: Storage | undefined;
}

/** What {@link handleRedirectCallback} resolves to. */
export interface RedirectCallbackResult {
  /** The same-origin path given to `loginWithRedirect()` as `returnTo`: go there now. */
  returnTo: string;
}

interface PageGlobals {
  location?: Location;
  history?: History;
  sessionStorage?: Storage;
}

const page = globalThis as PageGlobals;

function pageStorage(given: Storage | undefined): Storage {
  if (given !== undefined) return given;
  const storage = page.sessionStorage;
  if (storage === undefined) {
    throw new InvalidArgumentError(
      'storage',
      'There is no sessionStorage here (not a page?): pass options.storage, a Storage this tab keeps across the redirect',
    );
  }
  return storage;
}

function pageOrigin(): string {
  const origin = page.location?.origin;
  if (origin === undefined || origin === 'null') {
    throw new InvalidArgumentError(
      'returnTo',
      'returnTo needs the page origin (location.origin), and this page has none',
    );
  }
  return origin;
}

/**
 * `value` as a path of `origin` (path, query, fragment), or `undefined` when it points
 * anywhere else: another origin, a scheme-relative `//host`, `/\host`, `javascript:`.
 */
function sameOriginPath(value: string, origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value, `${origin}/`);
  } catch {
    return undefined;
  }
  if (url.origin !== origin) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * Starts a PKCE login: draws a code verifier and a `state` (CSPRNG), keeps them with
 * `returnTo` in `sessionStorage` under a key tied to the Session's client id, and navigates
 * to Spotify's consent page. {@link handleRedirectCallback} finishes it on the Session's
 * `redirectUri`.
 *
 * @returns the authorize URL (the page is already leaving for it unless `navigate: false`).
 * @throws {ConfigurationError} the Session has no `redirectUri`.
 * @throws {InvalidArgumentError} a `returnTo` on another origin, an unknown scope, an empty `state`.
 */
export async function loginWithRedirect(
  session: Session,
  options: LoginWithRedirectOptions = {},
): Promise<string> {
  const storage = pageStorage(options.storage);
  const requested = options.returnTo ?? currentPath();
  const returnTo = sameOriginPath(requested, pageOrigin());
  if (returnTo === undefined) {
    throw new InvalidArgumentError(
      'returnTo',
      `returnTo must be a path of this origin such as "/playlists" (an address elsewhere would make the login an open redirect): got ${JSON.stringify(requested.slice(0, 200))}`,
    );
  }
  const verifier = generateCodeVerifier();
  const state = options.state ?? generateState();
  // Built before anything is stored: a bad scope or state leaves no pending login behind.
  const url = session.getAuthorizeUrl({
    scope: options.scope,
    showDialog: options.showDialog,
    allowUnknownScopes: options.allowUnknownScopes,
    state,
    codeChallenge: await generateCodeChallenge(verifier),
  });
  const pending: PendingLogin = { state, verifier, returnTo, createdAt: Date.now() };
  storage.setItem(pendingLoginKey(session.getClientId()), JSON.stringify(pending));
  if (options.navigate !== false) page.location?.assign(url);
  return url;
}

function currentPath(): string {
  const location = page.location;
  return location === undefined ? '/' : `${location.pathname}${location.search}${location.hash}`;
}

/** Reads and removes the pending login: whatever happens next, it is never used twice. */
function takePendingLogin(storage: Storage, clientId: string): PendingLogin | undefined {
  const key = pendingLoginKey(clientId);
  const text = storage.getItem(key);
  storage.removeItem(key);
  const value = text === null ? undefined : parseJson(text);
  // Anything else (not ours, or damaged) is the same as none.
  if (
    isJsonObject(value) &&
    typeof value.state === 'string' &&
    typeof value.verifier === 'string'
  ) {
    return {
      state: value.state,
      verifier: value.verifier,
      returnTo: typeof value.returnTo === 'string' ? value.returnTo : '/',
      createdAt: typeof value.createdAt === 'number' ? value.createdAt : 0,
    };
  }
  return undefined;
}

const CALLBACK_PARAMETERS = ['code', 'state', 'error', 'error_description'];

/** Removes the callback's parameters from the address bar when `url` is the current page. */
function cleanAddressBar(url: URL): void {
  const { location, history } = page;
  if (location === undefined || history === undefined || url.href !== location.href) return;
  const clean = new URL(url.href);
  for (const name of CALLBACK_PARAMETERS) clean.searchParams.delete(name);
  history.replaceState(history.state, '', clean.href);
}

function toUrl(input: CallbackInput): URL {
  if (input instanceof URL) return input;
  if (typeof input === 'string') {
    try {
      return new URL(input, page.location?.href);
    } catch {
      // Reported below, like any input that is not a URL.
    }
  }
  throw new InvalidArgumentError(
    'url',
    'handleRedirectCallback(session, url) needs the callback URL (location.href, the default)',
  );
}

/**
 * Finishes a login started by {@link loginWithRedirect}, on the page Spotify redirected to:
 * takes the pending login out of storage (it is deleted whatever happens next), removes
 * `code` and `state` from the address bar (`history.replaceState`), checks the `state` in
 * constant time, and exchanges the code with the stored verifier. The Session keeps (and,
 * with a store, writes) the tokens.
 *
 * A reload of the callback page, or a second visit to its URL, never spends the code twice,
 * and a failure never touches the tokens the Session (or its store) already holds.
 *
 * @param url - the callback URL. @default location.href
 * @throws {AuthorizationError} with a `reason` ({@link RedirectCallbackReason}) and a
 *   message that says what to do: `access_denied` (the user declined), `state_mismatch`
 *   (not the login this tab started: possible forgery), `missing_verifier` (no login pending
 *   in this tab), `code_rejected` (expired or used code), `missing_code`, `invalid_callback`.
 * @throws the errors of `session.requestAccessToken()` (network, timeout, store) otherwise.
 */
export async function handleRedirectCallback(
  session: Session,
  url: CallbackInput = page.location?.href ?? '',
  options: HandleRedirectCallbackOptions = {},
): Promise<RedirectCallbackResult> {
  const storage = pageStorage(options.storage);
  const callback = url instanceof URLSearchParams ? url : toUrl(url);
  const pending = takePendingLogin(storage, session.getClientId());
  if (callback instanceof URL) cleanAddressBar(callback);
  if (pending === undefined) {
    throw new AuthorizationError(
      'missing_verifier',
      'No login is pending in this tab: the sign-in link was already used, opened in another tab or browser, or the tab’s storage was cleared. Nothing was changed; log in again.',
    );
  }
  let code: string;
  try {
    code = session.getCodeFromCallback(callback, pending.state);
  } catch (error) {
    if (error instanceof AuthorizationError && error.reason === 'access_denied') {
      throw new AuthorizationError(
        'access_denied',
        'The user declined on Spotify’s consent page (access_denied): nothing was changed. Offer to log in again.',
        { cause: error, errorDescription: error.errorDescription },
      );
    }
    throw error;
  }
  try {
    await session.requestAccessToken(code, pending.verifier, { signal: options.signal });
  } catch (error) {
    if (error instanceof OAuthError && error.error === 'invalid_grant') {
      throw new AuthorizationError(
        'code_rejected',
        `Spotify refused the authorization code (invalid_grant${
          error.errorDescription === undefined ? '' : `: ${error.errorDescription}`
        }): it expired or was already used. Nothing was changed; log in again.`,
        { cause: error },
      );
    }
    throw error;
  }
  return { returnTo: sameOriginPath(pending.returnTo, pageOrigin()) ?? '/' };
}
