import { SpotifyError } from './spotify-error.js';

/** What {@link HTTPError} is built from. */
export interface HTTPErrorInit {
  /** HTTP status of the response. */
  status: number;
  /** The response headers. */
  headers: Headers;
  /** The body: parsed JSON when it was JSON, else the text (cut to 1 KiB here). */
  body: unknown;
  /** The raw response (its body already read). */
  response: Response;
  /** Replaces the default message `Spotify answered HTTP <status>…`. */
  message?: string | undefined;
}

const MAX_BODY_TEXT = 1024;

/** A short, secret-free detail Spotify put in an error body (Web API or OAuth shape). */
function detailOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const nested = record.error;
  let detail: unknown;
  if (typeof nested === 'object' && nested !== null) {
    detail = (nested as Record<string, unknown>).message;
  } else {
    detail = record.error_description ?? nested;
  }
  return typeof detail === 'string' && detail !== '' ? detail.slice(0, 200) : undefined;
}

/**
 * Spotify answered with an HTTP status the caller did not expect and that is
 * not an OAuth error or a 429 (typically 5xx, or 404 from a wrong base URL).
 */
export class HTTPError extends SpotifyError {
  /** HTTP status of the response. */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The parsed JSON body, or the body text cut to 1 KiB when it was not JSON. */
  readonly body: unknown;
  /**
   * The raw response, body already consumed. Not enumerable, so logging or
   * serialising the error does not dump it.
   */
  declare readonly response: Response;

  constructor(init: HTTPErrorInit, options?: { cause?: unknown }) {
    const detail = detailOf(init.body);
    super(
      'HTTP_ERROR',
      init.message ??
        `Spotify answered HTTP ${init.status}${detail === undefined ? '' : `: ${detail}`}`,
      options,
    );
    this.name = 'HTTPError';
    this.status = init.status;
    this.headers = init.headers;
    this.body = typeof init.body === 'string' ? init.body.slice(0, MAX_BODY_TEXT) : init.body;
    Object.defineProperty(this, 'response', {
      value: init.response,
      enumerable: false,
      writable: false,
      configurable: true,
    });
  }
}
