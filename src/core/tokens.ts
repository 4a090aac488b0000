// Narrow imports: the CLI's `token` loads this file (and no more of core) to read a stored login.
import { isJsonObject } from './_assert.js';
import { sha256Base64url } from './_base64url.js';
import { InvalidArgumentError } from './errors/invalid-argument-error.js';

/**
 * A Session's tokens as plain JSON, from `session.toJSON()`, given to
 * `onTokens`, and restored with `new Session({ ..., tokens })` or
 * `Session.fromJSON()`. Only fields that are set are present.
 *
 * It holds secrets: store it encrypted, never log it.
 */
export interface SessionTokens {
  /** The access token (`Authorization: Bearer …`). */
  accessToken?: string;
  /** The refresh token (absent for client-credentials tokens). */
  refreshToken?: string;
  /** When the access token expires, in Unix seconds. */
  expiresAt?: number;
  /** The scopes Spotify granted. */
  scope?: string[];
  /**
   * When the user authorized (the authorization code was exchanged), in Unix
   * seconds. Spotify's refresh tokens stop working a fixed time after it,
   * however often they are refreshed or rotated
   * (https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens),
   * so it is carried through every refresh. Absent for tokens stored before
   * it was recorded (the end of the login is then unknown) and for
   * client-credentials tokens.
   */
  authorizedAt?: number;
  /**
   * `'client_credentials'` for an app-only token, which is renewed by
   * requesting a new app token (there is no refresh token); absent for user
   * tokens.
   */
  grant?: 'client_credentials';
  /**
   * Marks a login Spotify refused: `sha256:` and the base64url SHA-256 of the
   * refresh token that got `invalid_grant`, never the token. A Session writes
   * `{ refused }` (and nothing else) into its store instead of deleting the
   * tokens, and reads it as "no login"; `toJSON()` never returns it. It lets
   * a refresh answer that arrives late, for that very token, still be stored
   * (see docs/stores.md).
   */
  refused?: string;
}

/** Seconds before expiry at which an access token counts as expired (`skewSeconds`). */
export const DEFAULT_SKEW_SECONDS = 60;

/**
 * Whether `accessToken` is valid for at least `skewSeconds` more at `nowMs`: there is one,
 * and its expiry (`expiresAt`, Unix seconds) is unknown (Spotify's 401 will tell) or later
 * than that. Positional, not an object: the browser bundles carry every call site.
 */
export function isAccessTokenValid(
  accessToken: string | undefined,
  expiresAt: number | undefined,
  nowMs: number,
  skewSeconds: number = DEFAULT_SKEW_SECONDS,
): boolean {
  return (
    accessToken !== undefined &&
    (expiresAt === undefined || nowMs < (expiresAt - skewSeconds) * 1000)
  );
}

const FIELDS = [
  'accessToken',
  'refreshToken',
  'expiresAt',
  'scope',
  'authorizedAt',
  'grant',
  'refused',
] as const;
const FINGERPRINT_PATTERN = /^sha256:[A-Za-z0-9_-]{43}$/;

/**
 * `sha256:` and the base64url SHA-256 of a refresh token: names a refused
 * token in a store without keeping the secret at rest.
 */
export async function refreshTokenFingerprint(refreshToken: string): Promise<string> {
  return `sha256:${await sha256Base64url(refreshToken)}`;
}

function fail(field: string, message: string): never {
  throw new InvalidArgumentError('tokens', `tokens${field === '' ? '' : `.${field}`} ${message}`);
}

/**
 * Checks restored tokens and returns a clean copy. Accepts the object from
 * `toJSON()` or its `JSON.stringify` text. Unknown fields are refused, so a
 * typo such as `refresh_token` cannot silently restore nothing.
 */
export function parseSessionTokens(input: unknown): SessionTokens {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      fail('', 'is a string that is not JSON; pass the object from session.toJSON()');
    }
  }
  if (!isJsonObject(value)) {
    fail('', 'must be the plain object returned by session.toJSON()');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      fail(key, `is not a known field (expected ${FIELDS.join(', ')})`);
    }
  }
  const tokens: SessionTokens = {};
  for (const field of ['accessToken', 'refreshToken'] as const) {
    const token = record[field];
    if (token === undefined) continue;
    if (typeof token !== 'string' || token === '' || /\s/.test(token)) {
      fail(field, 'must be a non-empty string without whitespace');
    }
    tokens[field] = token;
  }
  for (const field of ['expiresAt', 'authorizedAt'] as const) {
    const seconds = record[field];
    if (seconds === undefined) continue;
    if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0) {
      fail(field, 'must be a whole number of Unix seconds');
    }
    if (seconds > 1e11) {
      fail(field, 'looks like milliseconds; it must be Unix seconds');
    }
    tokens[field] = seconds;
  }
  if (record.scope !== undefined) {
    const scope = record.scope;
    if (
      !Array.isArray(scope) ||
      !scope.every((item) => typeof item === 'string' && item !== '' && !/\s/.test(item))
    ) {
      fail('scope', 'must be an array of scope names without whitespace');
    }
    tokens.scope = [...(scope as string[])];
  }
  if (record.grant !== undefined) {
    if (record.grant !== 'client_credentials') {
      fail('grant', 'must be "client_credentials" when present (user tokens have no grant field)');
    }
    if (tokens.refreshToken !== undefined || tokens.authorizedAt !== undefined) {
      fail(
        'grant',
        'is "client_credentials", which never comes with a refreshToken or authorizedAt',
      );
    }
    tokens.grant = 'client_credentials';
  }
  if (record.refused !== undefined) {
    if (typeof record.refused !== 'string' || !FINGERPRINT_PATTERN.test(record.refused)) {
      fail(
        'refused',
        'must be "sha256:" and 43 base64url characters (a refresh token fingerprint)',
      );
    }
    if (Object.keys(record).length > 1) {
      fail('refused', 'marks a refused login and comes alone, without any other field');
    }
    tokens.refused = record.refused;
  }
  return tokens;
}
