import { isRedirect } from '../../core/_http.js';
import { SpotifyError } from '../../core/index.js';

/**
 * What went wrong, read from the status and Spotify's documented error
 * answers once, here, so callers switch on a field instead of matching text
 * (Spotify rewords its messages: the July 2026 401 change broke clients that
 * matched the old wording).
 *
 * - `invalid_token` — 401: the access token is missing, invalid, expired or
 *   revoked (after the client's one refresh, when it could refresh).
 * - `malformed_authorization` — 400 "Only valid bearer authentication
 *   supported": the `Authorization` header is not `Bearer <token>`.
 * - `insufficient_scope` — 403 "Insufficient client scope": log the user in
 *   again asking for the scope the endpoint needs. `SpotifyWebAPI` also throws it
 *   before sending, when the login's scopes are known and lack one the operation
 *   requires (`missingScopes` names them; `response` is `undefined`).
 * - `user_not_registered` — 403: the app is in Development Mode and the user
 *   is not on its allowlist in the Developer Dashboard.
 * - `owner_premium_required` — 403: the Development Mode app's owner has no
 *   active Premium subscription.
 * - `withdrawn` — 403 or 404 from an operation Spotify withdrew (November 2024 for
 *   new apps, February 2026 for apps in Development Mode): `replacement` names the
 *   method to call instead, when there is one.
 * - `player` — a player command failed; `reason` says why (`NO_ACTIVE_DEVICE`
 *   comes with 404, `PREMIUM_REQUIRED` with 403, …).
 * - `rate_limited` — 429; only seen as the `cause` of core's `RateLimitError`
 *   (its `reason` may be `QUOTA_EXCEEDED`).
 * - `server_error` — 5xx, after the retries allowed.
 * - `redirect` — a 3xx (other than 304), or a browser's opaque redirect (status 0).
 *   Spotify's Web API never redirects: the client did not follow it (the token and the
 *   body went nowhere else); `apiUrl` or a proxy points somewhere else.
 * - `other` — any other status; read `status` and `message`.
 */
export type WebAPIErrorKind =
  | 'invalid_token'
  | 'malformed_authorization'
  | 'insufficient_scope'
  | 'user_not_registered'
  | 'owner_premium_required'
  | 'withdrawn'
  | 'player'
  | 'rate_limited'
  | 'server_error'
  | 'redirect'
  | 'other';

/** The `reason` values Spotify documents for player errors, plus `QUOTA_EXCEEDED` (429). */
export type WebAPIErrorReason =
  | 'NO_PREV_TRACK'
  | 'NO_NEXT_TRACK'
  | 'NO_SPECIFIC_TRACK'
  | 'ALREADY_PAUSED'
  | 'NOT_PAUSED'
  | 'NOT_PLAYING_LOCALLY'
  | 'NOT_PLAYING_TRACK'
  | 'NOT_PLAYING_CONTEXT'
  | 'ENDLESS_CONTEXT'
  | 'CONTEXT_DISALLOW'
  | 'ALREADY_PLAYING'
  | 'RATE_LIMITED'
  | 'REMOTE_CONTROL_DISALLOW'
  | 'DEVICE_NOT_CONTROLLABLE'
  | 'VOLUME_CONTROL_DISALLOW'
  | 'NO_ACTIVE_DEVICE'
  | 'PREMIUM_REQUIRED'
  | 'UNKNOWN'
  | 'QUOTA_EXCEEDED'
  | (string & {});

/** What {@link WebAPIError}'s constructor takes. */
export interface WebAPIErrorInit {
  /** HTTP status of the answer. */
  status: number;
  /**
   * `error.message` from Spotify's body; `undefined` when the body had none. For a call
   * refused before sending, the client's message.
   */
  message: string | undefined;
  /** `error.reason` from Spotify's body, when present. */
  reason: string | undefined;
  /** Request method. */
  method: string;
  /** Request path below the API base URL, without the query (never holds a token). */
  path: string;
  /** Response headers. */
  headers: Headers;
  /** The parsed JSON body, else the body text cut to 1 KiB (`''` for none). */
  body: unknown;
  /** The raw response (its body already read); `undefined` for a call refused before sending. */
  response: Response | undefined;
  /**
   * The client's own word, after Spotify's message: what it concluded and what to do
   * (a redirect it did not follow, a refreshed token refused too).
   */
  detail?: string | undefined;
  /** What the client concluded, when the status and message alone cannot tell (`withdrawn`). */
  kind?: WebAPIErrorKind | undefined;
  /** For `insufficient_scope` found before sending: the scopes to ask the user for. */
  missingScopes?: readonly string[] | undefined;
  /** For `withdrawn`: the method to call instead (`albums.get`), when there is one. */
  replacement?: string | undefined;
}

const KNOWN_403: ReadonlyArray<[RegExp, WebAPIErrorKind]> = [
  [/insufficient client scope/i, 'insufficient_scope'],
  [/user not registered in the developer dashboard/i, 'user_not_registered'],
  [/premium subscription required for the owner/i, 'owner_premium_required'],
];

/**
 * The one place that reads Spotify's documented error texts
 * (https://developer.spotify.com/documentation/web-api/concepts/api-calls).
 */
function classify(
  status: number,
  message: string,
  reason: string | undefined,
  response: Response | undefined,
): WebAPIErrorKind {
  if (response !== undefined && isRedirect(response)) return 'redirect';
  if (status === 401) return 'invalid_token';
  if (status === 429) return 'rate_limited';
  if (reason !== undefined && reason !== 'QUOTA_EXCEEDED') return 'player';
  if (status === 400 && /only valid bearer authentication supported/i.test(message)) {
    return 'malformed_authorization';
  }
  if (status === 403) {
    for (const [pattern, kind] of KNOWN_403) if (pattern.test(message)) return kind;
  }
  if (status >= 500) return 'server_error';
  return 'other';
}

/**
 * The Web API answered with an error status (`{"error":{"status","message","reason"?}}`).
 * Switch on `kind` (and `reason` for player commands), never on `message`.
 */
export class WebAPIError extends SpotifyError {
  /** HTTP status of the answer (403, Spotify's, for a call refused before sending). */
  readonly status: number;
  /** What went wrong, as a closed set of names; see {@link WebAPIErrorKind}. */
  readonly kind: WebAPIErrorKind;
  /** Spotify's `reason` (player commands, `QUOTA_EXCEEDED`), when it sent one. */
  readonly reason: WebAPIErrorReason | undefined;
  /** Request method. */
  readonly method: string;
  /** Request path below the API base URL, without the query. */
  readonly path: string;
  /** Response headers. */
  readonly headers: Headers;
  /** The parsed JSON body, else the body text cut to 1 KiB. */
  readonly body: unknown;
  /** `insufficient_scope` found before sending: the scopes the login lacks (else `undefined`). */
  readonly missingScopes: readonly string[] | undefined;
  /** `withdrawn`: the method to call instead (`albums.get` for `api.albums.get()`), when Spotify offers one. */
  readonly replacement: string | undefined;
  /**
   * The raw response (body already read); `undefined` when the client refused the call
   * before sending it. Not enumerable, so logging the error stays short.
   */
  declare readonly response: Response | undefined;

  constructor(init: WebAPIErrorInit, options?: { cause?: unknown }) {
    const message = init.message ?? `Spotify answered HTTP ${init.status}`;
    super(
      'WEB_API_ERROR',
      init.detail === undefined ? message : `${message}. ${init.detail}`,
      options,
    );
    this.name = 'WebAPIError';
    this.status = init.status;
    this.reason = init.reason;
    this.kind = init.kind ?? classify(init.status, message, init.reason, init.response);
    this.method = init.method;
    this.path = init.path;
    this.headers = init.headers;
    this.body = init.body;
    this.missingScopes = init.missingScopes;
    this.replacement = init.replacement;
    Object.defineProperty(this, 'response', { value: init.response, enumerable: false });
  }
}
