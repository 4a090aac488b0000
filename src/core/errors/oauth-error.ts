import { SpotifyError, type SpotifyErrorCode } from './spotify-error.js';

/**
 * Spotify's Accounts service answered with an OAuth error
 * (`{"error": "...", "error_description": "..."}`, RFC 6749 §5.2).
 */
export class OAuthError extends SpotifyError {
  /** The OAuth `error` code, e.g. `invalid_grant`, `invalid_client`. */
  readonly error: string;
  /** The `error_description`, when Spotify sent one (it sometimes does not). */
  readonly errorDescription: string | undefined;
  /** HTTP status of the response (400 for almost every OAuth error, even `invalid_client`). */
  readonly status: number;
  /** The parsed JSON body as Spotify sent it, for callers that relay it unchanged. */
  readonly body: Record<string, unknown>;

  constructor(
    init: {
      error: string;
      errorDescription?: string | undefined;
      status: number;
      body: Record<string, unknown>;
    },
    options?: { cause?: unknown; code?: SpotifyErrorCode },
  ) {
    super(
      options?.code ?? 'OAUTH_ERROR',
      `Spotify answered HTTP ${init.status} ${init.error}${
        init.errorDescription === undefined ? '' : `: ${init.errorDescription}`
      }`,
      options,
    );
    this.name = 'OAuthError';
    this.error = init.error;
    this.errorDescription = init.errorDescription;
    this.status = init.status;
    this.body = init.body;
  }
}
