/**
 * Every answer the token server sends is JSON, never cached, and errors keep the OAuth
 * shape `{"error","error_description"}` the mobile SDKs parse and show (accounts.md §5).
 */
import {
  HTTPError,
  InvalidResponseError,
  NetworkError,
  OAuthError,
  RateLimitError,
  TimeoutError,
} from '../core/errors/index.js';

/** Headers on every answer, errors included. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

/** A JSON answer with {@link COMMON_HEADERS}. */
export function json(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...COMMON_HEADERS, ...headers } });
}

/** An OAuth-shaped error answer. */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return json(status, { error, error_description: description }, headers);
}

/**
 * The one answer for every sealed token that does not open: tampered, truncated, foreign,
 * expired, sealed with a removed key or plain garbage all look the same (no oracle).
 * Byte for byte what Spotify answers for an unknown refresh token.
 */
export function invalidRefreshToken(): Response {
  return oauthError(400, 'invalid_grant', 'Invalid refresh token');
}

/** How a call to Spotify failed, for logs and metrics (never the error's text). */
export type UpstreamOutcome =
  | 'ok'
  | 'oauth_error'
  | 'rate_limited'
  | 'http_error'
  | 'invalid_response'
  | 'network_error'
  | 'timeout';

/**
 * Turns a Session failure into the answer for the app, or `undefined` for an error that
 * is not about Spotify (a bug: the global error handler answers 500).
 *
 * - Spotify's OAuth errors pass through with their status and body unchanged.
 * - 429 from Spotify → 503 `temporarily_unavailable` with its `Retry-After`: the app did
 *   nothing wrong, this server (one client id for every user) is being throttled.
 * - 503 from Spotify → 503 `temporarily_unavailable`; any other unexpected status, an
 *   unusable body or no answer at all → 502 `server_error`.
 * - No answer within `upstreamTimeout` → 504 `temporarily_unavailable`.
 */
export function upstreamFailure(
  error: unknown,
): { response: Response; outcome: UpstreamOutcome } | undefined {
  if (error instanceof OAuthError) {
    return { response: json(error.status, error.body), outcome: 'oauth_error' };
  }
  if (error instanceof RateLimitError) {
    const headers: Record<string, string> =
      error.retryAfter === undefined
        ? {}
        : { 'Retry-After': String(Math.max(0, Math.ceil(error.retryAfter))) };
    return {
      response: oauthError(
        503,
        'temporarily_unavailable',
        'Spotify is rate limiting this server; retry later',
        headers,
      ),
      outcome: 'rate_limited',
    };
  }
  if (error instanceof TimeoutError) {
    return {
      response: oauthError(504, 'temporarily_unavailable', 'Spotify did not answer in time'),
      outcome: 'timeout',
    };
  }
  if (error instanceof HTTPError) {
    if (error.status === 503) {
      return {
        response: oauthError(503, 'temporarily_unavailable', 'Spotify is unavailable; retry later'),
        outcome: 'http_error',
      };
    }
    return {
      response: oauthError(502, 'server_error', `Spotify answered HTTP ${error.status}`),
      outcome: 'http_error',
    };
  }
  if (error instanceof InvalidResponseError) {
    return {
      response: oauthError(502, 'server_error', 'Spotify sent an answer that could not be used'),
      outcome: 'invalid_response',
    };
  }
  if (error instanceof NetworkError) {
    return {
      response: oauthError(502, 'server_error', 'Spotify could not be reached'),
      outcome: 'network_error',
    };
  }
  return undefined;
}
