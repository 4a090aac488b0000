/**
 * Every scope Spotify documents (https://developer.spotify.com/documentation/web-api/concepts/scopes),
 * standard ones first, then the Open Access partner scopes under their
 * current and older names.
 *
 * `Session.getAuthorizeUrl()` refuses a scope outside this list (a typo
 * would otherwise surface only as Spotify's `invalid_scope` after the
 * redirect); Spotify adds scopes now and then, so `allowUnknownScopes: true`
 * lets any other name through, and {@link Scope} accepts any string.
 */
export const SCOPES = [
  'ugc-image-upload',
  'user-read-playback-state',
  'user-modify-playback-state',
  'user-read-currently-playing',
  'app-remote-control',
  'streaming',
  'playlist-read-private',
  'playlist-read-collaborative',
  'playlist-modify-private',
  'playlist-modify-public',
  'user-follow-modify',
  'user-follow-read',
  'user-read-playback-position',
  'user-top-read',
  'user-read-recently-played',
  'user-library-modify',
  'user-library-read',
  'user-read-email',
  'user-read-private',
  'user-soa-link',
  'user-soa-unlink',
  'soa-manage-entitlements',
  'soa-manage-partner',
  'soa-create-partner',
  'user-manage-entitlements',
  'user-manage-partner',
  'user-create-partner',
] as const;

/** A scope Spotify documents. */
export type KnownScope = (typeof SCOPES)[number];

/**
 * A Spotify scope: autocompletion for the documented ones, and any other
 * string still type-checks (`string & {}` keeps the union from collapsing).
 */
export type Scope = KnownScope | (string & {});

const KNOWN = new Set<string>(SCOPES);

/** `true` for a scope Spotify documents (see {@link SCOPES}). */
export function isKnownScope(scope: string): scope is KnownScope {
  return KNOWN.has(scope);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitution,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** The documented scope closest to `scope` (a likely typo fix), if one is close. */
export function closestKnownScope(scope: string): KnownScope | undefined {
  let best: KnownScope | undefined;
  let bestDistance = Math.max(3, Math.floor(scope.length / 4)) + 1;
  for (const known of SCOPES) {
    const distance = editDistance(scope.toLowerCase(), known);
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  return best;
}
