/**
 * The emulator's demo catalogue: a small, fixed, deterministic set of
 * artists, albums, tracks, shows and episodes. Ids are 22 base62 characters,
 * like Spotify's, and readable: `emuTrack00000000000001`.
 */

export interface CatalogueArtist {
  id: string;
  name: string;
}

export interface CatalogueAlbum {
  id: string;
  name: string;
  albumType: 'album' | 'single' | 'compilation';
  artistIds: string[];
  releaseDate: string;
  label: string;
  trackIds: string[];
}

export interface CatalogueTrack {
  id: string;
  name: string;
  albumId: string;
  artistIds: string[];
  durationMs: number;
  trackNumber: number;
  explicit: boolean;
  isrc: string;
}

export interface CatalogueShow {
  id: string;
  name: string;
  publisher: string;
  description: string;
  episodeIds: string[];
}

export interface CatalogueEpisode {
  id: string;
  name: string;
  showId: string;
  description: string;
  durationMs: number;
  releaseDate: string;
}

/** A seeded playlist (the emulator copies these per instance, so edits stay local). */
export interface CataloguePlaylist {
  id: string;
  name: string;
  description: string;
  ownerId: string;
  public: boolean;
  collaborative: boolean;
  /** `spotify:track:…` / `spotify:episode:…` URIs. */
  uris: string[];
}

/** `prefix` + zero-padded number, 22 characters in all. */
export function catalogueId(prefix: string, n: number): string {
  return prefix + String(n).padStart(22 - prefix.length, '0');
}

const ARTIST_NAMES = ['The Emulators', 'Loopback Quartet', 'Null Pointer', 'Rate Limiters'];
const ALBUMS: [
  name: string,
  type: 'album' | 'single',
  artist: number,
  year: number,
  tracks: string[],
][] = [
  [
    'Localhost Sessions',
    'album',
    0,
    2024,
    ['127.0.0.1', 'Port Zero', 'Keep-Alive', 'Handshake', 'Graceful Shutdown'],
  ],
  ['Mock Turtle', 'single', 0, 2025, ['Mock Turtle', 'Mock Turtle (Acoustic)']],
  ['Round Trip', 'album', 1, 2023, ['Syn', 'Ack', 'Fin', 'Time Wait']],
  ['Echo Reply', 'single', 1, 2026, ['Echo Reply']],
  [
    'Undefined Behaviour',
    'album',
    2,
    2022,
    ['Segfault Serenade', 'Dangling Reference', 'Use After Free', 'Stack Trace'],
  ],
  ['Optional Chaining', 'single', 2, 2025, ['Optional Chaining', 'Nullish Coalescing']],
  [
    'Retry-After',
    'album',
    3,
    2026,
    ['Retry-After', 'Exponential Backoff', 'Jitter', 'Too Many Requests', 'Circuit Breaker'],
  ],
  ['Quota Exceeded', 'single', 3, 2026, ['Quota Exceeded']],
];
const SHOWS: [name: string, publisher: string, episodes: string[]][] = [
  [
    'Emulator Radio',
    'Spotify Session',
    ['Pilot: Hello, Localhost', 'Tokens and Where to Keep Them', 'Six Months of Refresh'],
  ],
  ['The Paging Podcast', 'Offset & Cursor', ['Offsets', 'Cursors', 'The Last Page']],
];

export const ARTISTS: readonly CatalogueArtist[] = ARTIST_NAMES.map((name, index) => ({
  id: catalogueId('emuArtist', index + 1),
  name,
}));

const albums: CatalogueAlbum[] = [];
const tracks: CatalogueTrack[] = [];
ALBUMS.forEach(([name, albumType, artist, year, trackNames], albumIndex) => {
  const albumId = catalogueId('emuAlbum', albumIndex + 1);
  const artistIds = [ARTISTS[artist]?.id ?? ''];
  const trackIds = trackNames.map((trackName, trackIndex) => {
    const n = tracks.length + 1;
    const id = catalogueId('emuTrack', n);
    tracks.push({
      id,
      name: trackName,
      albumId,
      artistIds,
      durationMs: 150_000 + ((n * 37_123) % 120_000),
      trackNumber: trackIndex + 1,
      explicit: n % 7 === 0,
      isrc: `QZEMU${String(year).slice(2)}${String(n).padStart(5, '0')}`,
    });
    return id;
  });
  albums.push({
    id: albumId,
    name,
    albumType,
    artistIds,
    releaseDate: `${year}-0${(albumIndex % 9) + 1}-1${albumIndex % 10}`,
    label: 'Emulator Records',
    trackIds,
  });
});
export const ALBUMS_LIST: readonly CatalogueAlbum[] = albums;
export const TRACKS: readonly CatalogueTrack[] = tracks;

const shows: CatalogueShow[] = [];
const episodes: CatalogueEpisode[] = [];
SHOWS.forEach(([name, publisher, episodeNames], showIndex) => {
  const showId = catalogueId('emuShow', showIndex + 1);
  const episodeIds = episodeNames.map((episodeName, episodeIndex) => {
    const n = episodes.length + 1;
    const id = catalogueId('emuEpisode', n);
    episodes.push({
      id,
      name: episodeName,
      showId,
      description: `Episode ${episodeIndex + 1} of ${name}.`,
      durationMs: 1_200_000 + n * 60_000,
      releaseDate: `2026-0${episodeIndex + 1}-0${showIndex + 1}`,
    });
    return id;
  });
  shows.push({
    id: showId,
    name,
    publisher,
    description: `${name}, a show of the Spotify emulator's demo catalogue.`,
    episodeIds,
  });
});
export const SHOWS_LIST: readonly CatalogueShow[] = shows;
export const EPISODES: readonly CatalogueEpisode[] = episodes;

const trackUri = (index: number) => `spotify:track:${TRACKS[index % TRACKS.length]?.id ?? ''}`;

/**
 * Seeded playlists. The first user of the emulator owns the first three, the
 * second user the fourth (other users get an empty library): see
 * `seedPlaylists` in the Web API state.
 */
export function seedPlaylistsFor(ownerIds: readonly string[]): CataloguePlaylist[] {
  const first = ownerIds[0];
  const second = ownerIds[1];
  const playlists: CataloguePlaylist[] = [];
  if (first !== undefined) {
    playlists.push(
      {
        id: catalogueId('emuPlaylist', 1),
        name: 'Emulator Mix',
        description: 'A public playlist of the demo catalogue, with one episode.',
        ownerId: first,
        public: true,
        collaborative: false,
        uris: [0, 3, 7, 11, 12, 16, 21, 25]
          .map(trackUri)
          .concat(`spotify:episode:${EPISODES[0]?.id ?? ''}`),
      },
      {
        id: catalogueId('emuPlaylist', 2),
        name: 'Private Demo',
        description: 'A private playlist.',
        ownerId: first,
        public: false,
        collaborative: false,
        uris: [1, 2, 4].map(trackUri),
      },
      {
        id: catalogueId('emuPlaylist', 3),
        name: 'Long Playlist',
        description: '120 items, to page through.',
        ownerId: first,
        public: true,
        collaborative: false,
        uris: Array.from({ length: 120 }, (_, index) => trackUri(index)),
      },
    );
  }
  if (second !== undefined)
    playlists.push({
      id: catalogueId('emuPlaylist', 4),
      name: 'Second User Picks',
      description: 'Owned by the second demo user; the first one follows it.',
      ownerId: second,
      public: true,
      collaborative: false,
      uris: [5, 9, 13, 17].map(trackUri),
    });
  return playlists;
}

export const findArtist = (id: string) => ARTISTS.find((artist) => artist.id === id);
export const findAlbum = (id: string) => ALBUMS_LIST.find((album) => album.id === id);
export const findTrack = (id: string) => TRACKS.find((track) => track.id === id);
export const findShow = (id: string) => SHOWS_LIST.find((show) => show.id === id);
export const findEpisode = (id: string) => EPISODES.find((episode) => episode.id === id);
