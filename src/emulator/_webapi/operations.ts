/**
 * Every operation of Spotify's Web API reference (method and path template,
 * under `/v1`), so the emulator can tell an operation it does not emulate
 * (501) from a path Spotify does not serve (404).
 */
const OPERATIONS = `
GET /albums/{id}
GET /albums
GET /albums/{id}/tracks
GET /artists/{id}
GET /artists
GET /artists/{id}/albums
GET /artists/{id}/top-tracks
GET /artists/{id}/related-artists
GET /shows/{id}
GET /shows
GET /shows/{id}/episodes
GET /episodes/{id}
GET /episodes
GET /audiobooks/{id}
GET /audiobooks
GET /audiobooks/{id}/chapters
GET /me/audiobooks
PUT /me/audiobooks
DELETE /me/audiobooks
GET /me/audiobooks/contains
GET /chapters/{id}
GET /chapters
GET /tracks/{id}
GET /tracks
GET /search
GET /me
GET /playlists/{playlist_id}
PUT /playlists/{playlist_id}
GET /playlists/{playlist_id}/tracks
POST /playlists/{playlist_id}/tracks
PUT /playlists/{playlist_id}/tracks
DELETE /playlists/{playlist_id}/tracks
GET /playlists/{playlist_id}/items
POST /playlists/{playlist_id}/items
PUT /playlists/{playlist_id}/items
DELETE /playlists/{playlist_id}/items
GET /me/playlists
POST /me/playlists
PUT /me/library
DELETE /me/library
GET /me/library/contains
GET /me/albums
PUT /me/albums
DELETE /me/albums
GET /me/albums/contains
GET /me/tracks
PUT /me/tracks
DELETE /me/tracks
GET /me/tracks/contains
GET /me/episodes
PUT /me/episodes
DELETE /me/episodes
GET /me/episodes/contains
GET /me/shows
PUT /me/shows
DELETE /me/shows
GET /me/shows/contains
GET /users/{user_id}
GET /users/{user_id}/playlists
POST /users/{user_id}/playlists
PUT /playlists/{playlist_id}/followers
DELETE /playlists/{playlist_id}/followers
GET /browse/featured-playlists
GET /browse/categories
GET /browse/categories/{category_id}
GET /browse/categories/{category_id}/playlists
GET /playlists/{playlist_id}/images
PUT /playlists/{playlist_id}/images
GET /browse/new-releases
GET /me/following
PUT /me/following
DELETE /me/following
GET /me/following/contains
GET /playlists/{playlist_id}/followers/contains
GET /audio-features
GET /audio-features/{id}
GET /audio-analysis/{id}
GET /recommendations
GET /recommendations/available-genre-seeds
GET /me/player
PUT /me/player
GET /me/player/devices
GET /me/player/currently-playing
PUT /me/player/play
PUT /me/player/pause
POST /me/player/next
POST /me/player/previous
PUT /me/player/seek
PUT /me/player/repeat
PUT /me/player/volume
PUT /me/player/shuffle
GET /me/player/recently-played
GET /me/player/queue
POST /me/player/queue
GET /markets
GET /me/top/artists
GET /me/top/tracks
`;

/** One operation: `GET /tracks/{id}` with its path parameters. */
export interface Operation {
  method: string;
  /** Template under `/v1`, e.g. `/tracks/{id}`. */
  template: string;
  /** `"GET /tracks/{id}"`. */
  key: string;
  pattern: RegExp;
  paramNames: string[];
}

function compile(method: string, template: string): Operation {
  const paramNames: string[] = [];
  const source = template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    paramNames.push(name);
    return '([^/]+)';
  });
  return {
    method,
    template,
    key: `${method} ${template}`,
    pattern: new RegExp(`^${source}$`),
    paramNames,
  };
}

/** All 97 operations, in the reference's order. */
export const ALL_OPERATIONS: readonly Operation[] = OPERATIONS.trim()
  .split('\n')
  .map((line) => {
    const [method = '', template = ''] = line.split(' ');
    return compile(method, template);
  });

/** What {@link matchOperation} found for a path below `/v1`. */
export type OperationMatch =
  | { kind: 'operation'; operation: Operation; params: Record<string, string> }
  /** The path exists with other methods. */
  | { kind: 'method'; allowed: string[] }
  | { kind: 'none' };

/**
 * `path` without one trailing slash, as Spotify serves it: `GET /v1/search/?q=…` is the
 * search (widely used clients send that slash). Only one: `/me//` stays unknown, and so
 * does `/v1/` itself.
 */
export function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') && !path.endsWith('//') ? path.slice(0, -1) : path;
}

/**
 * Finds the operation of `METHOD path` (path without the `/v1` prefix; one trailing slash
 * allowed).
 */
export function matchOperation(method: string, path: string): OperationMatch {
  const allowed: string[] = [];
  const target = withoutTrailingSlash(path);
  for (const operation of ALL_OPERATIONS) {
    const match = operation.pattern.exec(target);
    if (match === null) continue;
    if (operation.method !== method) {
      allowed.push(operation.method);
      continue;
    }
    const params: Record<string, string> = {};
    operation.paramNames.forEach((name, index) => {
      params[name] = decodeSegment(match[index + 1] ?? '');
    });
    return { kind: 'operation', operation, params };
  }
  return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
