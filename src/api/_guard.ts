/**
 * What `SpotifyWebAPI` adds around each request of `SpotifyWebAPIBase`, from the operation
 * table: a call the login's scopes cannot make is refused before it is sent, a wait Spotify
 * asked for (HTTP 429) is shared with every client on the same store, and a withdrawn
 * endpoint's 403 or 404 names its replacement. `SpotifyWebAPIBase` never imports this file,
 * so browser bundles that only need `me()` and `request()` leave the table out.
 */
import { abortableSleep } from '../core/_http.js';
import { rateLimitedUntil, recordRateLimit } from '../core/_shared-rate-limit.js';
import { RateLimitError, type Session } from '../core/index.js';
import { type Operation, operationAt, operationNamed } from './_operations.js';
import { WebAPIError } from './errors/index.js';

/** The hooks `SpotifyWebAPIBase` runs for `SpotifyWebAPI`; see {@link createGuard}. */
export interface RequestGuard {
  /**
   * Before each attempt, once the access token is known: throws instead of sending (a scope
   * the login lacks, a wait longer than `maxWaitSeconds`), resolves `true` after waiting out a
   * shorter one (the token may need a refresh now), `false` to send at once.
   */
  before(
    method: string,
    path: string,
    session: Session | undefined,
    maxWaitSeconds: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean>;
  /** Spotify answered HTTP 429 asking to wait `retryAfter` seconds. */
  rateLimited(session: Session | undefined, retryAfter: number): Promise<void>;
}

/**
 * The guard of one client. A wait Spotify asked for is kept here (for a Session without a
 * store that shares it) and recorded through the Session in its store, where every process
 * on that store sees it. The store is advisory here: a store that fails to read or write the
 * record never fails a call; the client then knows only the waits it was told of itself.
 */
export function createGuard(checkScopes: boolean): RequestGuard {
  let waitUntil = 0;
  return {
    async before(method, path, session, maxWaitSeconds, signal) {
      if (session === undefined) return false;
      if (checkScopes) refuseMissingScopes(method, path, session);
      let until = waitUntil;
      try {
        until = Math.max(until, (await rateLimitedUntil(session)) ?? 0);
      } catch {
        // The store failed: go by this client's own 429s.
      }
      const wait = until - Date.now();
      if (wait <= 0) return false;
      const seconds = Math.ceil(wait / 1000);
      if (seconds > maxWaitSeconds) {
        const cap =
          maxWaitSeconds > 0
            ? `it waits up to retry.maxRetryAfter, ${maxWaitSeconds} s`
            : 'it does not wait: autoRetry is off, or retry.maxRetryAfter 0';
        throw new RateLimitError({
          retryAfter: seconds,
          message: `Spotify answered HTTP 429 to this app (client id ${session.getClientId()}) with a Retry-After that ends in ${seconds} s, and every SpotifyWebAPI on the Session's store waits it out: nothing was sent. Retry after ${seconds} s (${cap}).`,
        });
      }
      await abortableSleep(wait, signal);
      return true;
    },
    async rateLimited(session, retryAfter) {
      const until = Date.now() + retryAfter * 1000;
      waitUntil = Math.max(waitUntil, until);
      try {
        if (session !== undefined) await recordRateLimit(session, until);
      } catch {
        // The store failed: this client still remembers the wait.
      }
    },
  };
}

/**
 * The scopes a login lacks for an operation: for each requirement that none of `granted`
 * meets, its scopes (all the alternatives, when any one would do).
 */
export function missingScopes(operation: Operation, granted: readonly string[]): string[] {
  const missing: string[] = [];
  for (const need of operation.requires ?? operation.scopes ?? []) {
    const oneOf: readonly string[] = typeof need === 'string' ? [need] : need;
    if (!oneOf.some((scope) => granted.includes(scope))) missing.push(...oneOf);
  }
  return missing;
}

const list = (scopes: readonly string[]) => `[${scopes.map((s) => `'${s}'`).join(', ')}]`;

/**
 * Throws `insufficient_scope` for a request of a table operation whose required scopes the
 * Session's user login was not granted. Nothing to check when the scopes are unknown (no scope
 * in the Session: a bare access token, or a token answer without `scope`) or the token is an
 * app's (client credentials: Spotify grants apps no user scopes, and their calls need none).
 */
function refuseMissingScopes(method: string, path: string, session: Session): void {
  const granted = session.getScope();
  if (granted.length === 0) return;
  const found = operationAt(method, path);
  if (found === undefined) return;
  const [name, operation] = found;
  const missing = missingScopes(operation, granted);
  if (missing.length === 0 || session.toJSON().grant === 'client_credentials') return;
  const needs = (operation.requires ?? operation.scopes ?? [])
    .map((need) => (typeof need === 'string' ? need : need.join(' or ')))
    .join(' and ');
  throw new WebAPIError({
    status: 403,
    message: `api.${name}() (${method} ${operation.path}) needs ${needs}, and this login was granted ${granted.join(' ')}: nothing was sent (Spotify would answer 403 "Insufficient client scope"). Ask the user again for what they granted plus the missing scopes (incremental authorization: the consent page asks only for the new ones): session.getAuthorizeUrl({ scope: ${list([...granted, ...missing])}, state }) (with your codeChallenge for PKCE), or pass checkScopes: false to send such calls anyway`,
    reason: undefined,
    method,
    path,
    headers: new Headers(),
    body: undefined,
    response: undefined,
    kind: 'insufficient_scope',
    missingScopes: missing,
  });
}

/**
 * Paths withdrawn on 27 November 2024 (recommendations, audio features and analysis, related
 * artists, featured and category playlists); every other withdrawn one went in February 2026.
 */
const WITHDRAWN_2024 =
  /^\/(recommendations|audio-|artists\/\{id\}\/related|browse\/featured|browse\/categories\/\{category_id\}\/playlists)/;

/**
 * A 403 or 404 from an operation Spotify withdrew, as a `withdrawn` error that says when, why
 * and what to call instead; any other error as it is.
 */
export function explainWithdrawn(error: unknown): unknown {
  if (!(error instanceof WebAPIError) || error.kind !== 'other') return error;
  if (error.status !== 403 && error.status !== 404) return error;
  const found = operationAt(error.method, error.path);
  if (found?.[1].deprecated !== true) return error;
  const [name, operation] = found;
  const endpoint = `${operation.method} ${operation.path}`;
  const when = WITHDRAWN_2024.test(operation.path)
    ? `for apps created after 27 November 2024 and apps in Development Mode (https://developer.spotify.com/blog/2024-11-27-changes-to-the-web-api)`
    : `for apps in Development Mode in February 2026 (https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide)`;
  const replacement = operation.replacement;
  const target = replacement === undefined ? undefined : operationNamed(replacement);
  const instead =
    target === undefined
      ? 'Spotify offers no replacement.'
      : `Call api.${replacement}() instead (${target.method} ${target.path}).`;
  return new WebAPIError({
    status: error.status,
    message: error.message,
    reason: error.reason,
    method: error.method,
    path: error.path,
    headers: error.headers,
    body: error.body,
    response: error.response,
    kind: 'withdrawn',
    replacement,
    detail: `api.${name}() (${endpoint}) was withdrawn by Spotify ${when}; apps with extended quota still reach it. ${instead}${error.status === 404 ? ' (With extended quota, a 404 means what it says: check the id.)' : ''}`,
  });
}
