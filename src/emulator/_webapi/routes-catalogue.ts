/** Catalogue reads: albums, artists, tracks, shows, episodes, search. */
import {
  ALBUMS_LIST,
  ARTISTS,
  EPISODES,
  findAlbum,
  findArtist,
  findEpisode,
  findShow,
  findTrack,
  SHOWS_LIST,
  TRACKS,
} from './catalogue.js';
import type { RouteTable, WebApiContext } from './context.js';
import { badRequest, jsonResponse, notFound } from './errors.js';
import type { Links } from './objects.js';
import {
  albumObject,
  artistObject,
  episodeObject,
  pagingObject,
  showObject,
  simplifiedAlbum,
  simplifiedEpisode,
  simplifiedShow,
  simplifiedTrack,
  trackObject,
} from './objects.js';
import { checkId, checkMarket, ParamError, pageParams } from './params.js';
import { playlistObjectSimplified } from './routes-playlists.js';

/** A page of `all` as the request asks (`limit`/`offset` already checked). */
export function page<T>(
  url: URL,
  all: readonly T[],
  { limit, offset }: { limit: number; offset: number },
  map: (item: T) => unknown,
): Record<string, unknown> {
  return pagingObject(url, all.slice(offset, offset + limit).map(map), {
    offset,
    limit,
    total: all.length,
  });
}

export function albumTracksPage(
  links: Links,
  albumId: string,
  url: URL,
  params = { limit: 50, offset: 0 },
) {
  const album = findAlbum(albumId);
  const tracks = (album?.trackIds ?? []).flatMap((id) => findTrack(id) ?? []);
  return page(url, tracks, params, (track) => simplifiedTrack(links, track));
}

export function fullAlbum(links: Links, albumId: string): Record<string, unknown> | undefined {
  const album = findAlbum(albumId);
  if (album === undefined) return undefined;
  const url = new URL(`${links.api}/albums/${album.id}/tracks`);
  return albumObject(links, album, albumTracksPage(links, album.id, url));
}

export function fullShow(links: Links, showId: string): Record<string, unknown> | undefined {
  const show = findShow(showId);
  if (show === undefined) return undefined;
  const url = new URL(`${links.api}/shows/${show.id}/episodes`);
  const episodes = show.episodeIds.flatMap((id) => findEpisode(id) ?? []);
  return showObject(
    links,
    show,
    page(url, episodes, { limit: 50, offset: 0 }, (episode) => simplifiedEpisode(links, episode)),
  );
}

function one(context: WebApiContext, find: (id: string) => unknown): Response {
  checkMarket(context.url);
  const id = checkId(context.params.id ?? '');
  const found = find(id);
  return found === undefined ? notFound() : jsonResponse(found);
}

/**
 * A withdrawn multi-get (`GET /albums?ids=…`), for apps with extended quota: `ids` required,
 * at most `max`, each a Spotify id; an unknown one is `null` in the list, as on Spotify.
 */
function several(
  context: WebApiContext,
  name: string,
  max: number,
  find: (id: string) => unknown,
): Response {
  checkMarket(context.url);
  const raw = context.url.searchParams.get('ids');
  if (raw === null || raw.trim() === '') throw new ParamError('Missing required parameter: ids');
  const ids = raw.split(',').map((id) => checkId(id.trim()));
  if (ids.length > max) throw new ParamError(`Too many ids requested (maximum ${max})`);
  return jsonResponse({ [name]: ids.map((id) => find(id) ?? null) });
}

const SEARCH_TYPES = [
  'album',
  'artist',
  'playlist',
  'track',
  'show',
  'episode',
  'audiobook',
] as const;

/** Lower-case words of a query, field filters (`artist:x`) reduced to their value. */
function searchWords(q: string): string[] {
  return q
    .toLowerCase()
    .split(/\s+/)
    .map((word) => word.replace(/^[a-z]+:/, '').replace(/^"|"$/g, ''))
    .filter((word) => word !== '');
}

const matches = (words: readonly string[], ...texts: string[]) => {
  const haystack = texts.join(' ').toLowerCase();
  return words.every((word) => haystack.includes(word));
};

export const CATALOGUE_ROUTES: RouteTable = {
  'GET /albums/{id}': { handle: (c) => one(c, (id) => fullAlbum(c.links, id)) },
  // The withdrawn multi-gets: the router refuses them to apps in Development Mode.
  'GET /albums': { handle: (c) => several(c, 'albums', 20, (id) => fullAlbum(c.links, id)) },
  'GET /artists': {
    handle: (c) =>
      several(c, 'artists', 50, (id) => {
        const artist = findArtist(id);
        return artist && artistObject(c.links, artist);
      }),
  },
  'GET /tracks': {
    handle: (c) =>
      several(c, 'tracks', 50, (id) => {
        const track = findTrack(id);
        return track && trackObject(c.links, track);
      }),
  },
  'GET /albums/{id}/tracks': {
    handle(c) {
      checkMarket(c.url);
      const album = findAlbum(checkId(c.params.id ?? ''));
      if (album === undefined) return notFound();
      return jsonResponse(albumTracksPage(c.links, album.id, c.url, pageParams(c.url)));
    },
  },
  'GET /artists/{id}': {
    handle: (c) =>
      one(c, (id) => {
        const artist = findArtist(id);
        return artist && artistObject(c.links, artist);
      }),
  },
  'GET /artists/{id}/albums': {
    handle(c) {
      checkMarket(c.url);
      const artist = findArtist(checkId(c.params.id ?? ''));
      const params = pageParams(c.url, { min: 0, max: 10, default: 5 });
      const groups = (
        c.url.searchParams.get('include_groups') ?? 'album,single,appears_on,compilation'
      )
        .split(',')
        .map((group) => group.trim());
      for (const group of groups)
        if (!['album', 'single', 'appears_on', 'compilation'].includes(group))
          throw new ParamError('Invalid include_groups');
      if (artist === undefined) return notFound();
      const albums = ALBUMS_LIST.filter(
        (album) => album.artistIds.includes(artist.id) && groups.includes(album.albumType),
      );
      // limit=0 is allowed by the reference: an empty page that still tells the total.
      return jsonResponse(
        page(c.url, albums, params, (album) => ({
          ...simplifiedAlbum(c.links, album),
          album_group: album.albumType,
        })),
      );
    },
  },
  'GET /tracks/{id}': {
    handle: (c) =>
      one(c, (id) => {
        const track = findTrack(id);
        return track && trackObject(c.links, track);
      }),
  },
  'GET /shows/{id}': { handle: (c) => one(c, (id) => fullShow(c.links, id)) },
  'GET /shows/{id}/episodes': {
    handle(c) {
      checkMarket(c.url);
      const show = findShow(checkId(c.params.id ?? ''));
      const params = pageParams(c.url);
      if (show === undefined) return notFound();
      const episodes = show.episodeIds.flatMap((id) => findEpisode(id) ?? []);
      return jsonResponse(
        page(c.url, episodes, params, (episode) => simplifiedEpisode(c.links, episode)),
      );
    },
  },
  'GET /episodes/{id}': {
    handle: (c) =>
      one(c, (id) => {
        const episode = findEpisode(id);
        return episode && episodeObject(c.links, episode);
      }),
  },
  'GET /search': {
    handle(c) {
      const q = c.url.searchParams.get('q');
      if (q === null || q.trim() === '') return badRequest('No search query');
      const typeParam = c.url.searchParams.get('type');
      if (typeParam === null || typeParam === '') return badRequest('Missing parameter type');
      const types = typeParam.split(',').map((type) => type.trim());
      for (const type of types)
        if (!(SEARCH_TYPES as readonly string[]).includes(type))
          return badRequest('Bad search type field');
      checkMarket(c.url);
      const params = pageParams(c.url, { max: 10, default: 5, maxOffset: 1000 });
      const include = c.url.searchParams.get('include_external');
      if (include !== null && include !== 'audio') return badRequest('Invalid include_external');
      const words = searchWords(q);
      const body: Record<string, unknown> = {};
      const pageOf = <T>(items: readonly T[], map: (item: T) => unknown) => {
        const url = new URL(c.url.href);
        return page(url, items, params, map);
      };
      for (const type of new Set(types)) {
        switch (type) {
          case 'track':
            body.tracks = pageOf(
              TRACKS.filter((track) =>
                matches(
                  words,
                  track.name,
                  findAlbum(track.albumId)?.name ?? '',
                  ...track.artistIds.map((id) => findArtist(id)?.name ?? ''),
                ),
              ),
              (track) => trackObject(c.links, track),
            );
            break;
          case 'album':
            body.albums = pageOf(
              ALBUMS_LIST.filter((album) =>
                matches(
                  words,
                  album.name,
                  ...album.artistIds.map((id) => findArtist(id)?.name ?? ''),
                ),
              ),
              (album) => simplifiedAlbum(c.links, album),
            );
            break;
          case 'artist':
            body.artists = pageOf(
              ARTISTS.filter((artist) => matches(words, artist.name)),
              (artist) => artistObject(c.links, artist),
            );
            break;
          case 'playlist':
            body.playlists = pageOf(
              [...c.state.playlists.values()].filter(
                (playlist) =>
                  playlist.public && matches(words, playlist.name, playlist.description),
              ),
              (playlist) => playlistObjectSimplified(c, playlist),
            );
            break;
          case 'show':
            body.shows = pageOf(
              SHOWS_LIST.filter((show) => matches(words, show.name, show.publisher)),
              (show) => simplifiedShow(c.links, show),
            );
            break;
          case 'episode':
            body.episodes = pageOf(
              EPISODES.filter((episode) => matches(words, episode.name, episode.description)),
              (episode) => simplifiedEpisode(c.links, episode),
            );
            break;
          case 'audiobook':
            body.audiobooks = pageOf([], (item) => item);
            break;
        }
      }
      return jsonResponse(body);
    },
  },
};
