/** The Web API's mutable state: playlists, libraries, players, history, Development Mode allowlist. */
import {
  ALBUMS_LIST,
  ARTISTS,
  type CataloguePlaylist,
  catalogueId,
  EPISODES,
  findEpisode,
  findTrack,
  SHOWS_LIST,
  seedPlaylistsFor,
  TRACKS,
} from './catalogue.js';

/** A user as the Web API emulator sees them. */
export interface WebApiUser {
  id: string;
  displayName: string;
  product: 'premium' | 'free' | 'open';
}

export interface PlaylistItem {
  uri: string;
  addedAt: number;
  addedBy: string;
}

export interface PlaylistRecord extends Omit<CataloguePlaylist, 'uris'> {
  items: PlaylistItem[];
  /** Bumped by every change; the snapshot id encodes it. */
  version: number;
}

/** A device of a user's player. */
export interface DeviceRecord {
  id: string;
  name: string;
  type: 'Computer' | 'Smartphone' | 'Speaker';
  supportsVolume: boolean;
  volumePercent: number | null;
}

export interface PlayerRecord {
  devices: DeviceRecord[];
  activeDeviceId: string | null;
  isPlaying: boolean;
  /** `spotify:album:…` / `spotify:playlist:…`, or `null` when playing a list of URIs. */
  contextUri: string | null;
  /** What plays, in order (the context's items, or the URIs given to play). */
  uris: string[];
  index: number;
  /** What plays now (a context item, or a queued one); `null` before anything played. */
  current: string | null;
  /** Progress when last paused/seeked, and when playback (re)started on the emulator clock. */
  progressMs: number;
  since: number;
  shuffle: boolean;
  repeat: 'off' | 'track' | 'context';
  queue: string[];
}

export interface PlayRecord {
  uri: string;
  playedAt: number;
  contextUri: string | null;
}

/** A user's library: URI → when it was saved (ms), newest last. */
export interface LibraryRecord {
  saved: Map<string, number>;
  history: PlayRecord[];
}

/** The start of the seeded history (2026-01-01T00:00:00Z), so ids and times are the same on every run. */
const SEED_EPOCH = Date.UTC(2026, 0, 1);

/** The snapshot id of a playlist version: opaque, like Spotify's, and stable. */
export function snapshotId(playlist: PlaylistRecord): string {
  return btoa(`${playlist.version},${playlist.id}`).replace(/=+$/, '');
}

export class WebApiState {
  playlists = new Map<string, PlaylistRecord>();
  libraries = new Map<string, LibraryRecord>();
  players = new Map<string, PlayerRecord>();
  notAllowlisted = new Set<string>();
  products = new Map<string, WebApiUser['product']>();
  /** Client ids of the apps with extended quota; every other app is in Development Mode. */
  extendedQuota = new Set<string>();
  #nextPlaylist = 100;

  constructor(
    private readonly users: readonly WebApiUser[],
    private readonly now: () => number,
    /** The apps registered with `extendedQuota: true`, restored by every reset. */
    private readonly extendedQuotaApps: readonly string[] = [],
  ) {
    this.reset();
  }

  reset(): void {
    this.playlists.clear();
    this.libraries.clear();
    this.players.clear();
    this.notAllowlisted.clear();
    this.products.clear();
    this.extendedQuota = new Set(this.extendedQuotaApps);
    this.#nextPlaylist = 100;
    for (const seed of seedPlaylistsFor(this.users.map((user) => user.id))) {
      const { uris, ...rest } = seed;
      this.playlists.set(seed.id, {
        ...rest,
        version: 1,
        items: uris.map((uri, index) => ({
          uri,
          addedAt: SEED_EPOCH - (uris.length - index) * 3_600_000,
          addedBy: seed.ownerId,
        })),
      });
    }
    this.users.forEach((user, userIndex) => {
      this.libraries.set(user.id, seedLibrary(userIndex, this.users[1]?.id));
      this.players.set(user.id, seedPlayer(user, userIndex));
    });
    // Owners have their playlists in their library, oldest seed first.
    [...this.playlists.values()].forEach((playlist, index) => {
      this.library(playlist.ownerId).saved.set(
        `spotify:playlist:${playlist.id}`,
        SEED_EPOCH - (10 - index) * 86_400_000,
      );
    });
  }

  user(id: string): WebApiUser | undefined {
    const user = this.users.find((candidate) => candidate.id === id);
    if (user === undefined) return undefined;
    return { ...user, product: this.products.get(id) ?? user.product };
  }

  library(userId: string): LibraryRecord {
    let library = this.libraries.get(userId);
    if (library === undefined) {
      library = { saved: new Map(), history: [] };
      this.libraries.set(userId, library);
    }
    return library;
  }

  player(userId: string): PlayerRecord {
    let player = this.players.get(userId);
    if (player === undefined) {
      player = seedPlayer({ id: userId, displayName: userId, product: 'premium' }, 0);
      this.players.set(userId, player);
    }
    return player;
  }

  createPlaylist(
    ownerId: string,
    fields: Pick<PlaylistRecord, 'name' | 'description' | 'public' | 'collaborative'>,
  ): PlaylistRecord {
    const playlist: PlaylistRecord = {
      id: catalogueId('emuPlaylist', this.#nextPlaylist++),
      ownerId,
      ...fields,
      items: [],
      version: 1,
    };
    this.playlists.set(playlist.id, playlist);
    this.library(ownerId).saved.set(`spotify:playlist:${playlist.id}`, this.now());
    return playlist;
  }

  /** Progress of what plays now, advancing with the emulator clock while playing. */
  currentProgress(player: PlayerRecord): number {
    return this.progress(player, itemDuration(player.current));
  }

  /** Progress of the current item, advancing with the emulator clock while playing. */
  progress(player: PlayerRecord, durationMs: number): number {
    const elapsed = player.isPlaying ? Math.max(0, this.now() - player.since) : 0;
    return Math.min(durationMs, player.progressMs + elapsed);
  }
}

/** Duration of a track or episode URI; 0 for anything else. */
export function itemDuration(uri: string | null | undefined): number {
  const [, type, id = ''] = (uri ?? '').split(':');
  if (type === 'track') return findTrack(id)?.durationMs ?? 0;
  if (type === 'episode') return findEpisode(id)?.durationMs ?? 0;
  return 0;
}

function seedLibrary(userIndex: number, secondUserId: string | undefined): LibraryRecord {
  const saved = new Map<string, number>();
  const history: PlayRecord[] = [];
  if (userIndex === 0) {
    // Every track (more than one default page of 20), 3 albums, a show, an episode,
    // an artist, and the second user's playlist.
    TRACKS.forEach((track, index) => {
      saved.set(`spotify:track:${track.id}`, SEED_EPOCH - (TRACKS.length - index) * 86_400_000);
    });
    ALBUMS_LIST.slice(0, 3).forEach((album, index) => {
      saved.set(`spotify:album:${album.id}`, SEED_EPOCH - (3 - index) * 86_400_000);
    });
    const show = SHOWS_LIST[0];
    if (show !== undefined) saved.set(`spotify:show:${show.id}`, SEED_EPOCH - 86_400_000);
    const episode = EPISODES[1];
    if (episode !== undefined) saved.set(`spotify:episode:${episode.id}`, SEED_EPOCH - 86_400_000);
    const artist = ARTISTS[1];
    if (artist !== undefined) saved.set(`spotify:artist:${artist.id}`, SEED_EPOCH - 86_400_000);
    if (secondUserId !== undefined)
      saved.set(`spotify:playlist:${catalogueId('emuPlaylist', 4)}`, SEED_EPOCH - 43_200_000);
    for (let index = 0; index < 60; index++) {
      const track = TRACKS[(index * 5) % TRACKS.length];
      if (track === undefined) continue;
      history.push({
        uri: `spotify:track:${track.id}`,
        playedAt: SEED_EPOCH - (60 - index) * 240_000,
        contextUri: `spotify:album:${track.albumId}`,
      });
    }
  }
  return { saved, history };
}

function seedPlayer(user: WebApiUser, userIndex: number): PlayerRecord {
  const album = ALBUMS_LIST[0];
  const devices: DeviceRecord[] =
    user.product === 'premium'
      ? [
          {
            id: deviceId(userIndex, 1),
            name: 'Emulator Laptop',
            type: 'Computer',
            supportsVolume: true,
            volumePercent: 70,
          },
          {
            id: deviceId(userIndex, 2),
            name: 'Emulator Phone',
            type: 'Smartphone',
            supportsVolume: false,
            volumePercent: null,
          },
        ]
      : [
          {
            id: deviceId(userIndex, 1),
            name: 'Emulator Phone',
            type: 'Smartphone',
            supportsVolume: false,
            volumePercent: null,
          },
        ];
  return {
    devices,
    activeDeviceId: devices[0]?.id ?? null,
    isPlaying: false,
    contextUri: album === undefined ? null : `spotify:album:${album.id}`,
    uris: (album?.trackIds ?? []).map((id) => `spotify:track:${id}`),
    index: 1,
    current: album?.trackIds[1] === undefined ? null : `spotify:track:${album.trackIds[1]}`,
    progressMs: 30_000,
    since: 0,
    shuffle: false,
    repeat: 'off',
    queue: [],
  };
}

/** Device ids are 40 hex characters, like Spotify Connect's. */
function deviceId(userIndex: number, n: number): string {
  return `e${String(userIndex + 1).padStart(3, '0')}${String(n).padStart(4, '0')}`.padEnd(40, '0');
}
