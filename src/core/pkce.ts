import { assertCodeVerifier, CODE_VERIFIER_PATTERN } from './_assert.js';
import { base64urlEncode, sha256Base64url } from './_http.js';
import { InvalidArgumentError } from './errors/index.js';

/** RFC 7636 §4.1 unreserved characters: `[A-Za-z0-9-._~]`, 66 of them. */
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
/** Largest multiple of 66 that fits in a byte: bytes at or above it are redrawn so every character is equally likely. */
const UNBIASED_LIMIT = 256 - (256 % UNRESERVED.length);
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Length of a verifier made by {@link generateCodeVerifier} when none is asked for. */
export const DEFAULT_CODE_VERIFIER_LENGTH = 64;

/**
 * A fresh `state` value: 32 bytes from `crypto.getRandomValues`, base64url
 * (43 characters, 256 bits).
 */
export function generateState(): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * A fresh PKCE code verifier of `length` characters (43–128, default 64)
 * drawn uniformly from the 66 unreserved characters with
 * `crypto.getRandomValues` (64 characters ≈ 387 bits of entropy).
 */
export function generateCodeVerifier(length: number = DEFAULT_CODE_VERIFIER_LENGTH): string {
  if (!Number.isInteger(length) || length < 43 || length > 128) {
    throw new InvalidArgumentError(
      'length',
      'A code verifier must be 43 to 128 characters long (RFC 7636 §4.1)',
    );
  }
  let verifier = '';
  while (verifier.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte >= UNBIASED_LIMIT) continue;
      verifier += UNRESERVED[byte % UNRESERVED.length];
      if (verifier.length === length) break;
    }
  }
  return verifier;
}

/** `true` when `value` is a valid RFC 7636 code verifier (43–128 unreserved characters). */
export function isCodeVerifier(value: unknown): value is string {
  return typeof value === 'string' && CODE_VERIFIER_PATTERN.test(value);
}

/** `true` when `value` looks like an S256 code challenge (43 base64url characters). */
export function isCodeChallenge(value: unknown): value is string {
  return typeof value === 'string' && CHALLENGE_PATTERN.test(value);
}

/** The S256 code challenge of `codeVerifier`: base64url(SHA-256(verifier)), no padding. */
export async function generateCodeChallenge(codeVerifier: string): Promise<string> {
  assertCodeVerifier(codeVerifier);
  return sha256Base64url(codeVerifier);
}
