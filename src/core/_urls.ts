import { assertBaseUrl, type BaseUrl } from './_assert.js';
import { ConfigurationError } from './errors/index.js';

/** Schemes that can never be an app's redirect target (they run code or read local data). */
const FORBIDDEN_REDIRECT_SCHEMES = new Set([
  'javascript:',
  'data:',
  'vbscript:',
  'file:',
  'blob:',
  'about:',
  'ftp:',
  'ws:',
  'wss:',
]);

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function isLocalhostName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost');
}

/**
 * Checks a redirect URI against Spotify's rules (https://developer.spotify.com/documentation/web-api/concepts/redirect_uri):
 * `https://…`; `http://` only to the loopback IP literals `127.0.0.1` and
 * `[::1]` (any port); custom schemes (`myapp://callback`) for mobile apps.
 * `localhost` and every other `http://` host are refused, as Spotify does.
 */
export function validateRedirectUri(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ConfigurationError('redirectUri', 'redirectUri must be a non-empty string');
  }
  const url = parseUrl(value);
  if (url === undefined || !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(value)) {
    throw new ConfigurationError(
      'redirectUri',
      `redirectUri is not an absolute URL: expected https://your.app/callback, http://127.0.0.1:PORT/callback or myapp://callback`,
    );
  }
  if (url.hash !== '' || value.includes('#')) {
    throw new ConfigurationError(
      'redirectUri',
      'redirectUri must not contain a fragment (#…) (RFC 6749 §3.1.2)',
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigurationError('redirectUri', 'redirectUri must not contain user credentials');
  }
  if (url.protocol === 'https:') {
    if (url.hostname === '') {
      throw new ConfigurationError('redirectUri', 'redirectUri has no host');
    }
    return value;
  }
  if (url.protocol === 'http:') {
    // Checked on the text as written: the URL parser would turn 127.1 or 0x7f.0.0.1 into
    // 127.0.0.1, but Spotify compares the string and knows only the two literals.
    if (/^http:\/\/(127\.0\.0\.1|\[::1\])(:\d{1,5})?([/?]|$)/i.test(value)) return value;
    if (isLocalhostName(url.hostname)) {
      const suggestion = `http://127.0.0.1${url.port === '' ? '' : `:${url.port}`}${url.pathname}${url.search}`;
      throw new ConfigurationError(
        'redirectUri',
        `Spotify refuses "localhost" in redirect URIs (INVALID_CLIENT: Insecure redirect URI); use the loopback IP literal instead: ${suggestion} (and register that URI in your app's settings)`,
      );
    }
    throw new ConfigurationError(
      'redirectUri',
      `Spotify refuses plain http redirect URIs except to the loopback IP literals 127.0.0.1 and [::1]; use https://${url.host}${url.pathname} instead`,
    );
  }
  if (FORBIDDEN_REDIRECT_SCHEMES.has(url.protocol)) {
    throw new ConfigurationError(
      'redirectUri',
      `redirectUri cannot use the ${url.protocol} scheme; use https://, http://127.0.0.1:PORT/… or an app scheme like myapp://callback`,
    );
  }
  return value;
}

/** The validated Accounts base URL, without a trailing slash, and whether it is plain http. */
export type AccountsBase = BaseUrl;

/**
 * Checks `accountsUrl`: https anywhere; plain http only to a loopback host
 * (`127.0.0.0/8`, `[::1]`, `localhost`), which is where emulators and test
 * servers listen. A path prefix is kept (for proxies); query and fragment are refused.
 */
export function validateAccountsUrl(value: unknown): AccountsBase {
  return assertBaseUrl(value, 'accountsUrl', 'https://accounts.spotify.com');
}
