/**
 * Builds Web API objects (track, album, artist, show, episode, user,
 * playlist, paging) from the catalogue, in the shapes of Spotify's reference.
 * Fields Spotify dropped in 2024–2026 (popularity, followers, genres of
 * artists, a user's country/email/product) are left out unless the
 * reference still lists them as required.
 */
import {
  type CatalogueAlbum,
  type CatalogueArtist,
  type CatalogueEpisode,
  type CatalogueShow,
  type CatalogueTrack,
  findAlbum,
  findArtist,
  findShow,
} from './catalogue.js';

/** Markets of the demo catalogue (the reference still requires `available_markets` on albums and shows). */
const MARKETS = ['DE', 'GB', 'SE', 'US'];

type Json = Record<string, unknown>;

/** Where the objects' `href`s point: the emulator's own `/v1`. */
export interface Links {
  /** e.g. `http://127.0.0.1:4510/v1` */
  api: string;
}

const openUrl = (type: string, id: string) => ({
  spotify: `https://open.spotify.com/${type}/${id}`,
});

/** A deterministic placeholder cover (Spotify's CDN shape; not served by the emulator). */
function images(id: string): Json[] {
  let hash = 0;
  for (const char of id) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  const hex = hash.toString(16).padStart(8, '0').repeat(5);
  return [
    { url: `https://i.scdn.co/image/${hex}`, height: 640, width: 640 },
    { url: `https://i.scdn.co/image/${hex.slice(0, 32)}00000300`, height: 300, width: 300 },
  ];
}

function simplifiedArtist(links: Links, artist: CatalogueArtist): Json {
  return {
    external_urls: openUrl('artist', artist.id),
    href: `${links.api}/artists/${artist.id}`,
    id: artist.id,
    name: artist.name,
    type: 'artist',
    uri: `spotify:artist:${artist.id}`,
  };
}

export function artistObject(links: Links, artist: CatalogueArtist): Json {
  return { ...simplifiedArtist(links, artist), images: images(artist.id) };
}

const artistsOf = (links: Links, ids: readonly string[]) =>
  ids.flatMap((id) => {
    const artist = findArtist(id);
    return artist === undefined ? [] : [simplifiedArtist(links, artist)];
  });

export function simplifiedAlbum(links: Links, album: CatalogueAlbum): Json {
  return {
    album_type: album.albumType,
    total_tracks: album.trackIds.length,
    available_markets: MARKETS,
    external_urls: openUrl('album', album.id),
    href: `${links.api}/albums/${album.id}`,
    id: album.id,
    images: images(album.id),
    name: album.name,
    release_date: album.releaseDate,
    release_date_precision: 'day',
    type: 'album',
    uri: `spotify:album:${album.id}`,
    artists: artistsOf(links, album.artistIds),
  };
}

export function simplifiedTrack(links: Links, track: CatalogueTrack): Json {
  return {
    artists: artistsOf(links, track.artistIds),
    disc_number: 1,
    duration_ms: track.durationMs,
    explicit: track.explicit,
    external_urls: openUrl('track', track.id),
    href: `${links.api}/tracks/${track.id}`,
    id: track.id,
    is_playable: true,
    name: track.name,
    track_number: track.trackNumber,
    type: 'track',
    uri: `spotify:track:${track.id}`,
    is_local: false,
  };
}

export function trackObject(links: Links, track: CatalogueTrack): Json {
  const album = findAlbum(track.albumId);
  return {
    ...simplifiedTrack(links, track),
    album: album === undefined ? undefined : simplifiedAlbum(links, album),
    external_ids: { isrc: track.isrc },
  };
}

export function albumObject(links: Links, album: CatalogueAlbum, tracksPage: Json): Json {
  return {
    ...simplifiedAlbum(links, album),
    tracks: tracksPage,
    copyrights: [
      { text: `© ${album.releaseDate.slice(0, 4)} ${album.label}`, type: 'C' },
      { text: `℗ ${album.releaseDate.slice(0, 4)} ${album.label}`, type: 'P' },
    ],
    external_ids: { upc: `0${album.id.replace(/\D/g, '').padStart(11, '0')}` },
    genres: [],
    label: album.label,
    popularity: 0,
  };
}

export function simplifiedShow(links: Links, show: CatalogueShow): Json {
  return {
    available_markets: MARKETS,
    copyrights: [],
    description: show.description,
    html_description: `<p>${show.description}</p>`,
    explicit: false,
    external_urls: openUrl('show', show.id),
    href: `${links.api}/shows/${show.id}`,
    id: show.id,
    images: images(show.id),
    is_externally_hosted: false,
    languages: ['en'],
    media_type: 'audio',
    name: show.name,
    publisher: show.publisher,
    type: 'show',
    uri: `spotify:show:${show.id}`,
    total_episodes: show.episodeIds.length,
  };
}

export function simplifiedEpisode(links: Links, episode: CatalogueEpisode): Json {
  return {
    audio_preview_url: null,
    description: episode.description,
    html_description: `<p>${episode.description}</p>`,
    duration_ms: episode.durationMs,
    explicit: false,
    external_urls: openUrl('episode', episode.id),
    href: `${links.api}/episodes/${episode.id}`,
    id: episode.id,
    images: images(episode.id),
    is_externally_hosted: false,
    is_playable: true,
    languages: ['en'],
    name: episode.name,
    release_date: episode.releaseDate,
    release_date_precision: 'day',
    type: 'episode',
    uri: `spotify:episode:${episode.id}`,
  };
}

export function episodeObject(links: Links, episode: CatalogueEpisode): Json {
  const show = findShow(episode.showId);
  return {
    ...simplifiedEpisode(links, episode),
    show: show === undefined ? undefined : simplifiedShow(links, show),
  };
}

export function showObject(links: Links, show: CatalogueShow, episodesPage: Json): Json {
  return { ...simplifiedShow(links, show), episodes: episodesPage };
}

/** A user as a playlist's owner / `added_by`. */
export function playlistUser(links: Links, userId: string, displayName?: string | null): Json {
  const user: Json = {
    external_urls: openUrl('user', userId),
    href: `${links.api}/users/${encodeURIComponent(userId)}`,
    id: userId,
    type: 'user',
    uri: `spotify:user:${userId}`,
  };
  if (displayName !== undefined) user.display_name = displayName;
  return user;
}

/**
 * An offset paging object. `url` is the request's URL: `href`, `next` and
 * `previous` keep its other query parameters and point at the emulator.
 */
export function pagingObject(
  url: URL,
  items: unknown[],
  page: { offset: number; limit: number; total: number },
): Json {
  const at = (offset: number) => {
    const link = new URL(url.href);
    link.searchParams.set('offset', String(offset));
    link.searchParams.set('limit', String(page.limit));
    return link.href;
  };
  return {
    href: at(page.offset),
    items,
    limit: page.limit,
    next: page.offset + page.limit < page.total ? at(page.offset + page.limit) : null,
    offset: page.offset,
    previous: page.offset > 0 ? at(Math.max(0, page.offset - page.limit)) : null,
    total: page.total,
  };
}
