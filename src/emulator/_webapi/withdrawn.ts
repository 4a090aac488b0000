/**
 * The operations Spotify withdrew, and what they answer an app in Development Mode (every app
 * without extended quota). Spotify's reference marks each of them deprecated.
 *
 * - 27 November 2024, for new apps and apps in Development Mode
 *   (https://developer.spotify.com/blog/2024-11-27-changes-to-the-web-api): recommendations
 *   and their genre seeds, audio features and analysis, related artists, featured and category
 *   playlists.
 * - February 2026, for apps in Development Mode
 *   (https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide):
 *   the "several" multi-gets, artist top tracks, `/markets`, new releases, browse categories,
 *   `/users/{id}` and its playlists, the per-type library endpoints, `/playlists/{id}/tracks`,
 *   following a playlist.
 *
 * Spotify documents `403 {"error":{"status":403,"message":"Forbidden"}}` for
 * `/playlists/{id}/tracks`, and users have reported the same 403 from the other February 2026
 * endpoints and from audio features. For recommendations, genre seeds, featured and category
 * playlists they report a 404, with no documented body: the emulator answers those
 * `404 {"error":{"status":404,"message":"Service not found"}}`, the Web API's answer for a path
 * it does not serve (docs/emulator.md, "Where Spotify's documentation is silent").
 */
import { forbidden, webApiError } from './errors.js';

/** Answered 404 rather than 403 (November 2024). */
const GONE = new Set([
  'GET /recommendations',
  'GET /recommendations/available-genre-seeds',
  'GET /browse/featured-playlists',
  'GET /browse/categories/{category_id}/playlists',
]);

/** Every withdrawn operation, by `"METHOD /template"`. */
export const WITHDRAWN: ReadonlySet<string> = new Set([
  ...GONE,
  'GET /audio-features',
  'GET /audio-features/{id}',
  'GET /audio-analysis/{id}',
  'GET /artists/{id}/related-artists',
  'GET /albums',
  'GET /artists',
  'GET /audiobooks',
  'GET /chapters',
  'GET /episodes',
  'GET /shows',
  'GET /tracks',
  'GET /artists/{id}/top-tracks',
  'GET /markets',
  'GET /browse/new-releases',
  'GET /browse/categories',
  'GET /browse/categories/{category_id}',
  'GET /users/{user_id}',
  'GET /users/{user_id}/playlists',
  'POST /users/{user_id}/playlists',
  'GET /playlists/{playlist_id}/tracks',
  'POST /playlists/{playlist_id}/tracks',
  'PUT /playlists/{playlist_id}/tracks',
  'DELETE /playlists/{playlist_id}/tracks',
  'PUT /playlists/{playlist_id}/followers',
  'DELETE /playlists/{playlist_id}/followers',
  'GET /playlists/{playlist_id}/followers/contains',
  'PUT /me/albums',
  'DELETE /me/albums',
  'GET /me/albums/contains',
  'PUT /me/tracks',
  'DELETE /me/tracks',
  'GET /me/tracks/contains',
  'PUT /me/episodes',
  'DELETE /me/episodes',
  'GET /me/episodes/contains',
  'PUT /me/shows',
  'DELETE /me/shows',
  'GET /me/shows/contains',
  'PUT /me/audiobooks',
  'DELETE /me/audiobooks',
  'GET /me/audiobooks/contains',
  'PUT /me/following',
  'DELETE /me/following',
  'GET /me/following/contains',
]);

/** What a withdrawn operation answers an app in Development Mode. */
export function withdrawnAnswer(key: string): Response {
  return GONE.has(key) ? webApiError(404, 'Service not found') : forbidden();
}
