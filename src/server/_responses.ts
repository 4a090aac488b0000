/**
 * Every answer the token server sends is JSON, never cached, and errors keep the OAuth
 * shape `{"error","error_description"}` the mobile SDKs parse and show (Spotify's iOS SDK token swap guide).
 */
import {
  HTTPError,
  InvalidResponseError,
  NetworkError,
  OAuthError,
  RateLimitError,
  TimeoutError,
} from '../core/errors/index.js';
import type { UpstreamOutcome } from './metrics.js';

/** Headers on every answer, errors included. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

/**
 * A token route's answer before it is sent: the fetch handler makes it a `Response`
 * ({@link answerResponse}); the Node adapter writes it to the socket as it is, without
 * building web `Request`/`Response` objects. Same status, headers and bytes either way.
 */
export interface Answer {
  status: number;
  /** Serialised with `JSON.stringify`. */
  body: unknown;
  /** Headers beyond {@link COMMON_HEADERS} and `X-Request-Id`. */
  headers?: Readonly<Record<string, string>> | undefined;
}

/** An OAuth-shaped error {@link Answer}. */
export function oauthAnswer(
  status: number,
  error: string,
  description: string,
  headers?: Readonly<Record<string, string>>,
): Answer {
  return { status, body: { error, error_description: description }, headers };
}

/** An {@link Answer} as it goes out: the status, every header and the body's text. */
export interface RenderedAnswer {
  status: number;
  /** A fresh object: the caller may add to it (the Node adapter adds the framing). */
  headers: Record<string, string>;
  text: string;
}

/**
 * The one writer of an {@link Answer}, for both request paths (the fetch handler makes a
 * `Response` of it, the Node adapter writes it to the socket): headers
 * {@link COMMON_HEADERS}, then `X-Request-Id` when given, then the answer's own (which may
 * override), then `extra` (CORS).
 */
export function renderAnswer(
  answer: Answer,
  requestId: string | undefined,
  extra?: Readonly<Record<string, string>>,
): RenderedAnswer {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
  };
  if (requestId !== undefined) headers['X-Request-Id'] = requestId;
  if (answer.headers !== undefined) Object.assign(headers, answer.headers);
  if (extra !== undefined) Object.assign(headers, extra);
  return { status: answer.status, headers, text: JSON.stringify(answer.body) };
}

/** An {@link Answer} as a `Response`. */
export function answerResponse(answer: Answer, requestId: string | undefined): Response {
  const { status, headers, text } = renderAnswer(answer, requestId);
  const response = new Response(text, { status, headers });
  complete.add(response);
  return response;
}

/** Responses built by {@link answerResponse}: they already carry {@link COMMON_HEADERS}. */
const complete = new WeakSet<Response>();

/** Whether `response` came from {@link answerResponse} (its headers need no touching up). */
export function isComplete(response: Response): boolean {
  return complete.has(response);
}

/**
 * A JSON answer with {@link COMMON_HEADERS} (and `X-Request-Id` when given). Headers are a
 * plain object, never mutated afterwards: on Node the adapter writes them as they are.
 */
export function json(
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
  requestId?: string,
): Response {
  return answerResponse({ status, body, headers }, requestId);
}

/** An OAuth-shaped error answer. */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers?: Readonly<Record<string, string>>,
  requestId?: string,
): Response {
  return json(status, { error, error_description: description }, headers, requestId);
}

/** The body of {@link invalidRefreshToken}. */
export const INVALID_REFRESH_TOKEN = {
  error: 'invalid_grant',
  error_description: 'Invalid refresh token',
} as const;

/**
 * The one answer for every sealed token that does not open: tampered, truncated, foreign,
 * expired, sealed with a removed key or plain garbage all look the same (no oracle).
 * Byte for byte what Spotify answers for an unknown refresh token.
 */
export const invalidRefreshToken: Answer = { status: 400, body: INVALID_REFRESH_TOKEN };

/** Longest `Retry-After` passed on to the app, in seconds. */
export const MAX_RETRY_AFTER_SECONDS = 3600;
/** Longest `error` / `error_description` passed on from Spotify, in characters. */
const MAX_OAUTH_FIELD_LENGTH = 256;

/** What {@link upstreamFailure} decided: the status and body for the app. */
export interface UpstreamFailure {
  status: number;
  body: Record<string, string>;
  headers?: Record<string, string>;
  outcome: UpstreamOutcome;
}

function failure(
  status: number,
  error: string,
  description: string,
  outcome: UpstreamOutcome,
  headers?: Record<string, string>,
): UpstreamFailure {
  return {
    status,
    body: { error, error_description: description },
    outcome,
    ...(headers === undefined ? {} : { headers }),
  };
}

function oauthField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= MAX_OAUTH_FIELD_LENGTH
    ? value
    : undefined;
}

/**
 * Turns a failed call to Spotify's token endpoint into the answer for the app, or
 * `undefined` for an error that is not about Spotify (a bug: the error handler answers 500).
 * The mapping is fixed; nothing of Spotify's answer passes but two strings of a 400.
 *
 * - 400 with an OAuth error (`invalid_grant`, `invalid_request`, …) → 400 with only the
 *   string `error` and `error_description`: the app's code or token was refused.
 * - `invalid_client` (Spotify sends it with 400 or 401), and any other 4xx → 502
 *   `server_error` (`client_rejected` for the first: the operator must fix the credentials).
 * - 429 → 503 `temporarily_unavailable` with `Retry-After` as whole seconds, at most
 *   {@link MAX_RETRY_AFTER_SECONDS}: the app did nothing wrong, this server (one client id
 *   for every user) is being throttled.
 * - 503 → 503 `temporarily_unavailable`; any other status, an unusable body or no answer
 *   → 502 `server_error`; no answer within `upstreamTimeout` → 504.
 */
export function upstreamFailure(error: unknown): UpstreamFailure | undefined {
  if (error instanceof OAuthError) {
    if (error.error === 'invalid_client' || error.status === 401) {
      return failure(
        502,
        'server_error',
        'Spotify refused this server’s client credentials',
        'client_rejected',
      );
    }
    const code = oauthField(error.error);
    if (error.status === 400 && code !== undefined) {
      const description = oauthField(error.errorDescription);
      return {
        status: 400,
        body:
          description === undefined
            ? { error: code }
            : { error: code, error_description: description },
        outcome: 'oauth_error',
      };
    }
    return failure(502, 'server_error', `Spotify answered HTTP ${error.status}`, 'oauth_error');
  }
  if (error instanceof RateLimitError) {
    const seconds = error.retryAfter;
    const headers =
      typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0
        ? { 'Retry-After': String(Math.min(Math.ceil(seconds), MAX_RETRY_AFTER_SECONDS)) }
        : undefined;
    return failure(
      503,
      'temporarily_unavailable',
      'Spotify is rate limiting this server; retry later',
      'rate_limited',
      headers,
    );
  }
  if (error instanceof TimeoutError) {
    return failure(504, 'temporarily_unavailable', 'Spotify did not answer in time', 'timeout');
  }
  if (error instanceof HTTPError) {
    if (error.status === 503) {
      return failure(
        503,
        'temporarily_unavailable',
        'Spotify is unavailable; retry later',
        'http_error',
      );
    }
    return failure(502, 'server_error', `Spotify answered HTTP ${error.status}`, 'http_error');
  }
  if (error instanceof InvalidResponseError) {
    return failure(
      502,
      'server_error',
      'Spotify sent an answer that could not be used',
      'invalid_response',
    );
  }
  if (error instanceof NetworkError) {
    return failure(502, 'server_error', 'Spotify could not be reached', 'network_error');
  }
  return undefined;
}
