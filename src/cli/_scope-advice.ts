/**
 * The advice after a 403 for a missing scope. It reads the generated operation table, so it is
 * loaded only on that error (`api` and `whoami` otherwise never load the table).
 */
import { operationAt } from '../api/_operations.js';

/**
 * What to log in again with after a 403 for a missing scope: the scopes Spotify's reference
 * lists for the operation (generated from its OpenAPI description) that this login lacks,
 * added to the ones it has (a new login replaces the old one). Where the reference lists
 * none, or none is missing, it says so instead of guessing.
 */
export function scopeAdvice(request: string, granted: readonly string[], profile: string): string {
  const [template, listed] = documentedScopes(request) ?? [request, []];
  const missing = listed.filter((scope) => !granted.includes(scope));
  const has = `this login has ${granted.length > 0 ? granted.join(' ') : 'no scope'}`;
  const login = (scopes: string) =>
    `spotify-session login${profile === 'default' ? '' : ` --profile ${profile}`} --scope ${scopes}`;
  if (missing.length > 0) {
    return (
      `Spotify's reference lists ${listed.join(', ')} for ${template}; ${has}. ` +
      `Log in again adding ${missing.join(' ')}: ${login([...granted, ...missing].join(' '))}`
    );
  }
  const listedText =
    listed.length > 0
      ? `already has every scope Spotify's reference lists for ${template} (${listed.join(', ')})`
      : `Spotify's reference lists no scope for ${template}`;
  return (
    `${has}; it ${listedText}. Find the scope on the endpoint's reference page ` +
    `(https://developer.spotify.com/documentation/web-api), then: ${login(`${granted.join(' ')} <scope>`.trim())}`
  );
}

/** The documented `METHOD /template` and its scopes for a concrete `METHOD /path`. */
export function documentedScopes(request: string): [string, readonly string[]] | undefined {
  const [method = '', path = ''] = request.split(' ');
  const operation = operationAt(method, path)?.[1];
  if (operation?.scopes === undefined) return undefined;
  return [`${operation.method} ${operation.path}`, operation.scopes];
}
