/**
 * Web API error answers, in the shape Spotify documents
 * (https://developer.spotify.com/documentation/web-api/concepts/api-calls#response-status-codes):
 * `{"error":{"status":…,"message":"…"}}`, plus `reason` for player errors.
 */

/** Reasons Spotify adds to player errors, and `QUOTA_EXCEEDED` of an exhausted quota. */
export type PlayerErrorReason =
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
  | 'UNKNOWN';

/** The `WWW-Authenticate` realm Spotify's 401s carry. */
const REALM = 'spotify';

/** The one message Spotify sends for every missing, unknown or expired token (since July 2026). */
const INVALID_TOKEN_MESSAGE = 'Missing/invalid/expired access token';
export const MALFORMED_AUTH_MESSAGE = 'Only valid bearer authentication supported';
export const INSUFFICIENT_SCOPE_MESSAGE = 'Insufficient client scope';
export const NOT_ALLOWLISTED_MESSAGE = 'User not registered in the Developer Dashboard';
export const USER_REQUIRED_MESSAGE = 'This request requires user authentication.';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Any JSON answer of the Web API. */
export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const all = new Headers(headers);
  all.set('Content-Type', JSON_TYPE);
  all.set('Cache-Control', 'private, max-age=0');
  return new Response(JSON.stringify(body), { status, headers: all });
}

/** `{"error":{"status","message"[,"reason"]}}` with that status. */
export function webApiError(
  status: number,
  message: string,
  options: { reason?: string; headers?: HeadersInit } = {},
): Response {
  const error: { status: number; message: string; reason?: string } = { status, message };
  if (options.reason !== undefined) error.reason = options.reason;
  return jsonResponse({ error }, status, options.headers ?? {});
}

/** 401 for a missing, empty, unknown or expired bearer token, with RFC 6750's challenge. */
export function invalidToken(message = INVALID_TOKEN_MESSAGE): Response {
  return webApiError(401, message, {
    headers: {
      'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token", error_description="${message}"`,
    },
  });
}

export const badRequest = (message: string): Response => webApiError(400, message);
export const notFound = (message = 'Resource not found'): Response => webApiError(404, message);
export const forbidden = (message = 'Forbidden'): Response => webApiError(403, message);

/** A player command refused with a `reason` (404 for `NO_ACTIVE_DEVICE`, 403 otherwise). */
export function playerError(reason: PlayerErrorReason, message?: string): Response {
  if (reason === 'NO_ACTIVE_DEVICE')
    return webApiError(404, message ?? 'Player command failed: No active device found', { reason });
  if (reason === 'PREMIUM_REQUIRED')
    return webApiError(403, message ?? 'Player command failed: Premium required', { reason });
  return webApiError(403, message ?? 'Player command failed: Restriction violated', { reason });
}

/** 204 No Content (player commands, library writes' siblings). */
export function noContent(): Response {
  return new Response(null, { status: 204, headers: { 'Cache-Control': 'private, max-age=0' } });
}
