import { constantTimeEqual } from './_constant-time.js';
import { AuthorizationError, InvalidArgumentError } from './errors/index.js';

/** What {@link getCodeFromCallback} accepts: the redirect URL, or just its query. */
export type CallbackInput = string | URL | URLSearchParams;

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

function toSearchParams(input: CallbackInput): URLSearchParams {
  if (input instanceof URLSearchParams) return input;
  if (input instanceof URL) return input.searchParams;
  if (typeof input !== 'string') {
    throw new InvalidArgumentError(
      'callback',
      'The callback must be the redirect URL (string or URL), its query string, or URLSearchParams',
    );
  }
  if (SCHEME.test(input)) {
    try {
      return new URL(input).searchParams;
    } catch {
      // Not a parseable absolute URL: fall through and read it as a query string.
    }
  }
  const withoutFragment = input.split('#', 1)[0] ?? '';
  const queryStart = withoutFragment.indexOf('?');
  return new URLSearchParams(
    queryStart === -1 ? withoutFragment : withoutFragment.slice(queryStart + 1),
  );
}

function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) {
    throw new AuthorizationError(
      'invalid_callback',
      `The callback carries the "${name}" parameter more than once; refusing an ambiguous response`,
    );
  }
  return values[0];
}

/**
 * Reads the authorization code from the redirect back from `/authorize`.
 *
 * Only `code`, `state`, `error` and `error_description` are read, by name;
 * any other parameter is ignored (real callbacks carry extra ones). The
 * `state` is checked first, in constant time; then an `error`; then the code.
 *
 * @param input - the full redirect URL (string or `URL`), a path with its
 *   query (`/callback?code=…`), the query string (with or without `?`), or
 *   `URLSearchParams`.
 * @param expectedState - the `state` you sent (kept in the user's session or a
 *   cookie). Pass `undefined` only if you sent no state: the callback must
 *   then carry none either.
 * @returns the authorization code, for `requestAccessToken()`.
 * @throws {AuthorizationError} `reason` is `state_mismatch` (missing, different
 *   or unexpected state: possible CSRF, start over), `access_denied` (the user
 *   declined) or another `error` Spotify sent, `missing_code`, or
 *   `invalid_callback` (a parameter appears twice).
 */
export function getCodeFromCallback(
  input: CallbackInput,
  expectedState: string | undefined,
): string {
  if (expectedState !== undefined && (typeof expectedState !== 'string' || expectedState === '')) {
    throw new InvalidArgumentError(
      'expectedState',
      'expectedState must be the non-empty state you sent, or undefined if you sent none',
    );
  }
  const params = toSearchParams(input);
  const state = single(params, 'state');
  if (expectedState === undefined) {
    if (state !== undefined) {
      throw new AuthorizationError(
        'state_mismatch',
        'The callback carries a state but none was expected; start the authorization again',
      );
    }
  } else if (state === undefined || !constantTimeEqual(state, expectedState)) {
    throw new AuthorizationError(
      'state_mismatch',
      state === undefined
        ? 'The callback carries no state; possible cross-site request forgery, start the authorization again'
        : 'The callback state differs from the one sent; possible cross-site request forgery, start the authorization again',
    );
  }
  const error = single(params, 'error');
  if (error !== undefined) {
    const errorDescription = single(params, 'error_description');
    throw new AuthorizationError(
      error === '' ? 'access_denied' : error,
      error === 'access_denied' || error === ''
        ? 'The user declined the authorization (access_denied)'
        : `Spotify refused the authorization: ${error.slice(0, 100)}${
            errorDescription === undefined ? '' : ` (${errorDescription.slice(0, 200)})`
          }`,
      { errorDescription },
    );
  }
  const code = single(params, 'code');
  if (code === undefined || code === '') {
    throw new AuthorizationError(
      'missing_code',
      'The callback carries neither a code nor an error; was this URL the redirect from /authorize?',
    );
  }
  return code;
}
