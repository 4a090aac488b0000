/** Every scope Spotify's `/authorize` accepts (https://developer.spotify.com/documentation/web-api/concepts/scopes). */
export const STANDARD_SCOPES: readonly string[] = [
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
];

/** Open Access partner scopes, including the older names of the last three. */
export const OPEN_ACCESS_SCOPES: readonly string[] = [
  'user-soa-link',
  'user-soa-unlink',
  'soa-manage-entitlements',
  'soa-manage-partner',
  'soa-create-partner',
  'user-manage-entitlements',
  'user-manage-partner',
  'user-create-partner',
];

const KNOWN = new Set([...STANDARD_SCOPES, ...OPEN_ACCESS_SCOPES]);

/**
 * Splits a `scope` parameter (space separated; `+` already decoded by URL
 * parsing) into distinct scopes in request order, or `undefined` when one is unknown.
 */
export function parseScopes(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return [];
  const scopes: string[] = [];
  for (const name of scope.split(/[ \t]+/)) {
    if (name === '') continue;
    if (!KNOWN.has(name)) return undefined;
    if (!scopes.includes(name)) scopes.push(name);
  }
  return scopes;
}

/** A short human description for the consent page. */
export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? scope;
}

const DESCRIPTIONS: Record<string, string> = {
  'ugc-image-upload': 'Upload images to your playlists',
  'user-read-playback-state': 'Read your currently playing content and devices',
  'user-modify-playback-state': 'Control playback on your devices',
  'user-read-currently-playing': 'Read your currently playing content',
  'app-remote-control': 'Communicate with the Spotify app on your device',
  streaming: 'Play content on Spotify clients',
  'playlist-read-private': 'Access your private playlists',
  'playlist-read-collaborative': 'Access your collaborative playlists',
  'playlist-modify-private': 'Manage your private playlists',
  'playlist-modify-public': 'Manage your public playlists',
  'user-follow-modify': 'Manage who you follow',
  'user-follow-read': 'Read who you follow',
  'user-read-playback-position': 'Read your position in content you have played',
  'user-top-read': 'Read your top artists and content',
  'user-read-recently-played': 'Read your recently played content',
  'user-library-modify': 'Manage your saved content',
  'user-library-read': 'Read your saved content',
  'user-read-email': 'Read your e-mail address',
  'user-read-private': 'Read your subscription details',
};
