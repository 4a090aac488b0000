/**
 * The argument and option checks every part shares (core, api, stores, browser, server), in
 * oauth4webapi's style: small spec-named functions, one message each, a one-liner at the call
 * site. Other parts import them from `internal.ts`. Web-standard globals only.
 */
import { ConfigurationError } from './errors/configuration-error.js';
import { InvalidArgumentError } from './errors/invalid-argument-error.js';

/** The longest delay `setTimeout` honours (a longer one fires at once). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Throws `ConfigurationError` naming `option` unless `value` is a whole number of `unit` from
 * 1 to {@link MAX_TIMER_MS}: seconds for a login's lifetime or a margin before its end (the
 * bound is then 68 years), milliseconds through {@link assertMilliseconds}.
 */
export function assertDuration(
  value: unknown,
  option: string,
  unit: 'milliseconds' | 'seconds',
): asserts value is number {
  if (!Number.isInteger(value) || (value as number) <= 0 || (value as number) > MAX_TIMER_MS) {
    throw new ConfigurationError(option, `${option} must be a positive whole number of ${unit}`);
  }
}

/** {@link assertDuration} in milliseconds (a timeout, a lock's ttl or wait). */
export function assertMilliseconds(value: unknown, option: string): asserts value is number {
  assertDuration(value, option, 'milliseconds');
}

/** Throws `ConfigurationError` naming `option` unless `value` is a function or `undefined`. */
export function assertFunction(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigurationError(option, `${option} must be a function`);
  }
}

/** Throws `InvalidArgumentError` unless `signal` is an `AbortSignal` or `undefined`. */
export function assertSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', 'signal must be an AbortSignal');
  }
}

/** Throws `InvalidArgumentError` unless `value` is a non-empty string without whitespace. */
export function assertToken(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string' || value === '' || /\s/.test(value)) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be a non-empty string without whitespace`,
    );
  }
}

/** RFC 7636 §4.1: a code verifier is 43 to 128 characters long… */
export const MIN_CODE_VERIFIER_LENGTH = 43;
export const MAX_CODE_VERIFIER_LENGTH = 128;
/**
 * …of the unreserved characters. A literal, not built from the two lengths above, for the
 * browser bundles' bytes; pkce.test.ts checks that it takes exactly those lengths.
 */
export const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;

/** Throws `InvalidArgumentError` naming `argument` unless `value` is an RFC 7636 code verifier. */
export function assertCodeVerifier(
  value: unknown,
  argument = 'codeVerifier',
): asserts value is string {
  if (typeof value !== 'string' || !CODE_VERIFIER_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      argument,
      `${argument} must be 43 to 128 characters of [A-Za-z0-9._~-] (RFC 7636 §4.1); use Session.generateCodeVerifier()`,
    );
  }
}

/**
 * PKCE on a code exchange: a given `codeVerifier` must be well-formed, and a public client
 * (`confidential` false) must give one; `missing` says so in the caller's words.
 */
export function assertPkce(confidential: boolean, codeVerifier: unknown, missing: string): void {
  if (codeVerifier !== undefined) assertCodeVerifier(codeVerifier);
  else if (!confidential) throw new InvalidArgumentError('codeVerifier', missing);
}

/**
 * The one loopback rule for base URLs (`accountsUrl`, `apiUrl`): `localhost` and its
 * subdomains, `[::1]`, and `127.0.0.0/8`, where emulators and test servers listen. Redirect
 * URIs follow Spotify's stricter rule instead (`validateRedirectUri`).
 */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** A base URL checked by {@link assertBaseUrl}. */
export interface BaseUrl {
  /** Origin and path, without a trailing slash. */
  readonly base: string;
  /** `true` for plain http (to a loopback host). */
  readonly insecure: boolean;
}

/**
 * Checks the base URL of a Spotify service (`accountsUrl`, `apiUrl`): https anywhere, plain
 * http only to a loopback host ({@link isLoopbackHost}); a path prefix is kept (for proxies),
 * a query, a fragment or credentials are refused. `example` is the default, for the message.
 */
export function assertBaseUrl(value: unknown, option: string, example: string): BaseUrl {
  if (typeof value !== 'string' || value === '') {
    throw new ConfigurationError(option, `${option} must be a non-empty string`);
  }
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // Reported below.
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigurationError(
      option,
      `${option} must be an absolute https:// URL, e.g. ${example}`,
    );
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigurationError(
      option,
      `${option} must not contain a query, a fragment or credentials`,
    );
  }
  const { pathname } = url;
  const insecure = url.protocol === 'http:';
  if (insecure && !isLoopbackHost(url.hostname)) {
    throw new ConfigurationError(
      option,
      `${option} must use https; plain http is allowed only for loopback hosts (127.0.0.1, [::1], localhost): use https://${url.host}${pathname === '/' ? '' : pathname}`,
    );
  }
  return { base: url.origin + pathname.replace(/\/+$/, ''), insecure };
}

/** `true` for a JSON object: not `null`, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
