/** The current user: profile, library, saved lists, top items, recently played. */
import { ARTISTS, findShow, findTrack, TRACKS } from './catalogue.js';
import type { RouteTable, WebApiContext } from './context.js';
import { badRequest, forbidden, INSUFFICIENT_SCOPE_MESSAGE, jsonResponse } from './errors.js';
import { artistObject, simplifiedShow, trackObject } from './objects.js';
import {
  checkMarket,
  intParam,
  ParamError,
  pageParams,
  type SpotifyUri,
  uriListParam,
} from './params.js';
import { fullAlbum, page } from './routes-catalogue.js';
import { isoSeconds, itemObject } from './routes-playlists.js';

/** A stable, opaque `account_id` per user (`/me` gained it in May 2026). */
function accountId(userId: string): string {
  let hash = 2166136261;
  for (const char of userId) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return `emu${hash.toString(36)}${userId.length}`.padEnd(22, '0').slice(0, 22);
}

/** URI types of `PUT`/`DELETE /me/library` and the scope each needs. */
const SAVE_SCOPES: Record<string, string> = {
  track: 'user-library-modify',
  album: 'user-library-modify',
  episode: 'user-library-modify',
  show: 'user-library-modify',
  audiobook: 'user-library-modify',
  user: 'user-follow-modify',
  playlist: 'playlist-modify-public',
};
/** URI types of `GET /me/library/contains` (artists too) and the scope each needs. */
const CONTAINS_SCOPES: Record<string, string> = {
  track: 'user-library-read',
  album: 'user-library-read',
  episode: 'user-library-read',
  show: 'user-library-read',
  audiobook: 'user-library-read',
  artist: 'user-follow-read',
  user: 'user-follow-read',
  playlist: 'playlist-read-private',
};
const MAX_LIBRARY_URIS = 40;

function libraryUris(c: WebApiContext, scopes: Record<string, string>): SpotifyUri[] | Response {
  const uris = uriListParam(c.url, 'uris', Object.keys(scopes), MAX_LIBRARY_URIS);
  for (const uri of uris)
    if (!c.token.scopes.has(scopes[uri.type] ?? '')) return forbidden(INSUFFICIENT_SCOPE_MESSAGE);
  return uris;
}

/** The user's saved items of one type, newest first. */
function savedOf(c: WebApiContext, type: string): [id: string, savedAt: number][] {
  const prefix = `spotify:${type}:`;
  return [...c.state.library(c.userId).saved.entries()]
    .filter(([uri]) => uri.startsWith(prefix))
    .sort((a, b) => b[1] - a[1])
    .map(([uri, at]) => [uri.slice(prefix.length), at]);
}

function savedPage(c: WebApiContext, type: string, key: string, build: (id: string) => unknown) {
  checkMarket(c.url);
  const params = pageParams(c.url);
  return jsonResponse(
    page(c.url, savedOf(c, type), params, ([id, at]) => ({
      added_at: isoSeconds(at),
      [key]: build(id),
    })),
  );
}

const TIME_RANGES = ['short_term', 'medium_term', 'long_term'];

/** A deterministic order per time range: the catalogue rotated by a different step each. */
function topOrder<T>(items: readonly T[], range: string): T[] {
  const step = TIME_RANGES.indexOf(range) * 3;
  return items
    .map((_, index) => items[(index * 5 + step) % items.length] as T)
    .filter((item, index, all) => all.indexOf(item) === index);
}

function timeRange(c: WebApiContext): string {
  const range = c.url.searchParams.get('time_range') ?? 'medium_term';
  if (!TIME_RANGES.includes(range)) throw new ParamError('Invalid time range');
  return range;
}

export const ME_ROUTES: RouteTable = {
  'GET /me': {
    user: true,
    handle(c) {
      const user = c.state.user(c.userId);
      return jsonResponse({
        account_id: accountId(c.userId),
        display_name: user?.displayName ?? c.userId,
        external_urls: { spotify: `https://open.spotify.com/user/${encodeURIComponent(c.userId)}` },
        href: `${c.links.api}/users/${encodeURIComponent(c.userId)}`,
        id: c.userId,
        images: [],
        type: 'user',
        uri: `spotify:user:${c.userId}`,
      });
    },
  },
  'PUT /me/library': {
    user: true,
    handle(c) {
      const uris = libraryUris(c, SAVE_SCOPES);
      if (uris instanceof Response) return uris;
      const saved = c.state.library(c.userId).saved;
      const now = c.now();
      for (const { uri, type, id } of uris) {
        if (type === 'playlist' && !c.state.playlists.has(id))
          throw new ParamError('Payload contains a non-existing ID');
        if (!saved.has(uri)) saved.set(uri, now);
      }
      return new Response(null, { status: 200 });
    },
  },
  'DELETE /me/library': {
    user: true,
    handle(c) {
      const uris = libraryUris(c, SAVE_SCOPES);
      if (uris instanceof Response) return uris;
      const saved = c.state.library(c.userId).saved;
      for (const { uri } of uris) saved.delete(uri);
      return new Response(null, { status: 200 });
    },
  },
  'GET /me/library/contains': {
    user: true,
    handle(c) {
      const uris = libraryUris(c, CONTAINS_SCOPES);
      if (uris instanceof Response) return uris;
      const saved = c.state.library(c.userId).saved;
      return jsonResponse(uris.map(({ uri }) => saved.has(uri)));
    },
  },
  'GET /me/tracks': {
    user: true,
    anyScope: ['user-library-read'],
    handle: (c) =>
      savedPage(c, 'track', 'track', (id) => {
        const track = findTrack(id);
        return track && trackObject(c.links, track);
      }),
  },
  'GET /me/albums': {
    user: true,
    anyScope: ['user-library-read'],
    handle: (c) => savedPage(c, 'album', 'album', (id) => fullAlbum(c.links, id)),
  },
  'GET /me/episodes': {
    user: true,
    anyScope: ['user-library-read'],
    handle: (c) =>
      savedPage(c, 'episode', 'episode', (id) => itemObject(c, `spotify:episode:${id}`)),
  },
  'GET /me/shows': {
    user: true,
    anyScope: ['user-library-read'],
    handle: (c) =>
      savedPage(c, 'show', 'show', (id) => {
        const show = findShow(id);
        return show && simplifiedShow(c.links, show);
      }),
  },
  'GET /me/audiobooks': {
    user: true,
    anyScope: ['user-library-read'],
    // The demo catalogue has no audiobooks (they exist in a few markets only).
    handle: (c) => jsonResponse(page(c.url, [], pageParams(c.url), (item) => item)),
  },
  'GET /me/following': {
    user: true,
    anyScope: ['user-follow-read'],
    handle(c) {
      const type = c.url.searchParams.get('type');
      if (type === null) return badRequest('Missing required parameter: type');
      if (type !== 'artist') return badRequest('Invalid type');
      const limit = intParam(c.url, 'limit', { min: 1, max: 50, default: 20 });
      const after = c.url.searchParams.get('after');
      // Cursor order: by id, so `after` is the last id of the previous page.
      const followed = savedOf(c, 'artist')
        .map(([id]) => id)
        .sort()
        .flatMap((id) => ARTISTS.find((artist) => artist.id === id) ?? []);
      const rest = after === null ? followed : followed.filter((artist) => artist.id > after);
      const items = rest.slice(0, limit);
      const last = items[items.length - 1];
      let next: string | null = null;
      if (rest.length > items.length && last !== undefined) {
        const url = new URL(`${c.links.api}/me/following`);
        url.searchParams.set('type', 'artist');
        url.searchParams.set('after', last.id);
        url.searchParams.set('limit', String(limit));
        next = url.href;
      }
      return jsonResponse({
        artists: {
          href: c.url.href,
          items: items.map((artist) => artistObject(c.links, artist)),
          limit,
          next,
          cursors: { after: next === null ? null : (last?.id ?? null) },
          total: followed.length,
        },
      });
    },
  },
  'GET /me/top/artists': {
    user: true,
    anyScope: ['user-top-read'],
    handle(c) {
      const range = timeRange(c);
      const params = pageParams(c.url);
      return jsonResponse(
        page(c.url, topOrder(ARTISTS, range), params, (artist) => artistObject(c.links, artist)),
      );
    },
  },
  'GET /me/top/tracks': {
    user: true,
    anyScope: ['user-top-read'],
    handle(c) {
      const range = timeRange(c);
      const params = pageParams(c.url);
      return jsonResponse(
        page(c.url, topOrder(TRACKS, range), params, (track) => trackObject(c.links, track)),
      );
    },
  },
  'GET /me/player/recently-played': {
    user: true,
    anyScope: ['user-read-recently-played'],
    handle(c) {
      const limit = intParam(c.url, 'limit', { min: 1, max: 50, default: 20 });
      const hasAfter = c.url.searchParams.has('after');
      const hasBefore = c.url.searchParams.has('before');
      if (hasAfter && hasBefore) return badRequest('Only one of after and before can be specified');
      const after = hasAfter ? intParam(c.url, 'after', { min: 0 }) : undefined;
      const before = hasBefore ? intParam(c.url, 'before', { min: 0 }) : undefined;
      // Newest first, like Spotify.
      const history = [...c.state.library(c.userId).history].sort(
        (a, b) => b.playedAt - a.playedAt,
      );
      let items: typeof history;
      let more: boolean;
      if (after !== undefined) {
        const newer = history.filter((play) => play.playedAt > after);
        items = newer.slice(Math.max(0, newer.length - limit));
        more = newer.length > items.length;
      } else {
        const older =
          before === undefined ? history : history.filter((play) => play.playedAt < before);
        items = older.slice(0, limit);
        more = older.length > items.length;
      }
      const newest = items[0]?.playedAt;
      const oldest = items[items.length - 1]?.playedAt;
      const link = (name: string, value: number) => {
        const url = new URL(`${c.links.api}/me/player/recently-played`);
        url.searchParams.set(name, String(value));
        url.searchParams.set('limit', String(limit));
        return url.href;
      };
      let next: string | null = null;
      if (more && after !== undefined && newest !== undefined) next = link('after', newest);
      if (more && after === undefined && oldest !== undefined) next = link('before', oldest);
      return jsonResponse({
        href: c.url.href,
        items: items.map((play) => {
          const entry: Record<string, unknown> = {
            track: itemObject(c, play.uri),
            played_at: new Date(play.playedAt).toISOString(),
            context: null,
          };
          if (play.contextUri !== null) {
            const [, type = '', id = ''] = play.contextUri.split(':');
            entry.context = {
              type,
              href: `${c.links.api}/${type}s/${id}`,
              external_urls: { spotify: `https://open.spotify.com/${type}/${id}` },
              uri: play.contextUri,
            };
          }
          return entry;
        }),
        limit,
        next,
        // Spotify sends `null` cursors for an empty page.
        cursors:
          newest === undefined || oldest === undefined
            ? null
            : { after: String(newest), before: String(oldest) },
      });
    },
  },
};
