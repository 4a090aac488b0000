import { SpotifyError } from './spotify-error.js';

/**
 * Why the redirect back from `/authorize` did not yield a code:
 * `access_denied` (the user clicked Cancel) or another `error` Spotify sent,
 * `state_mismatch` (possible CSRF: the `state` differs from the one sent),
 * `missing_code` (neither `code` nor `error` in the callback).
 */
export type AuthorizationErrorReason = 'access_denied' | 'state_mismatch' | 'missing_code' | string;

/** The authorization callback carried an error, a wrong `state`, or no code. */
export class AuthorizationError extends SpotifyError {
  /** `access_denied`, `state_mismatch`, `missing_code`, or the `error` Spotify sent. */
  readonly reason: AuthorizationErrorReason;
  /** `error_description` from the callback, when Spotify sent one. */
  readonly errorDescription: string | undefined;

  constructor(
    reason: AuthorizationErrorReason,
    message: string,
    options?: { cause?: unknown; errorDescription?: string | undefined },
  ) {
    super('AUTHORIZATION_ERROR', message, options);
    this.name = 'AuthorizationError';
    this.reason = reason;
    this.errorDescription = options?.errorDescription;
  }
}
