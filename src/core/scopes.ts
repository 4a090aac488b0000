/**
 * Every scope Spotify documents (accounts.md §2), standard ones first, then
 * the Open Access partner scopes under their current and older names.
 *
 * Spotify adds scopes now and then; {@link Scope} therefore also accepts any
 * other string, and nothing in this library refuses an unknown scope (Spotify
 * answers `error=invalid_scope` itself).
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
