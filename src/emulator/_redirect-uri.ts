/**
 * Spotify's redirect URI rules (https://developer.spotify.com/documentation/web-api/concepts/redirect_uri): https, loopback IP literals
 * over http (any port), and custom schemes are allowed; `localhost` and every
 * other plain-http host are refused as insecure.
 */

/** `ok`, `insecure` (plain http to a non-loopback-literal host), or `invalid` (not a URI). */
export type RedirectUriVerdict = 'ok' | 'insecure' | 'invalid';

const LOOPBACK_LITERALS = new Set(['127.0.0.1', '[::1]']);

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** Whether Spotify accepts this URI as a redirect URI at all, registered or not. */
export function isAllowedRedirectUri(uri: string): RedirectUriVerdict {
  if (typeof uri !== 'string' || uri === '') return 'invalid';
  const url = parse(uri);
  if (url === undefined) return 'invalid';
  // A fragment can never reach the client on a redirect (RFC 6749 §3.1.2).
  if (url.hash !== '' || uri.includes('#')) return 'invalid';
  if (url.protocol === 'https:') return url.hostname === '' ? 'invalid' : 'ok';
  if (url.protocol === 'http:') return LOOPBACK_LITERALS.has(url.hostname) ? 'ok' : 'insecure';
  // Schemes that browsers treat as script or content, never an app callback.
  if (['javascript:', 'data:', 'file:', 'blob:', 'about:', 'vbscript:'].includes(url.protocol))
    return 'invalid';
  return 'ok';
}

/** The loopback URI without its port, or `undefined` when `uri` is not a loopback http URI. */
function loopbackWithoutPort(uri: string): string | undefined {
  const url = parse(uri);
  if (url === undefined || url.protocol !== 'http:' || !LOOPBACK_LITERALS.has(url.hostname))
    return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return `http://${url.hostname}${url.pathname}${url.search}`;
}

/**
 * Whether `requested` matches one of the registered URIs: exactly, or — for a
 * loopback IP literal — exactly except for the port.
 */
export function matchesRegisteredRedirectUri(
  requested: string,
  registered: readonly string[],
): boolean {
  if (registered.includes(requested)) return true;
  const requestedLoopback = loopbackWithoutPort(requested);
  if (requestedLoopback === undefined) return false;
  return registered.some((uri) => loopbackWithoutPort(uri) === requestedLoopback);
}

/** `redirectUri` with `params` added to its query (existing query parameters are kept). */
export function redirectTo(
  redirectUri: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.append(name, value);
  return url.href;
}
