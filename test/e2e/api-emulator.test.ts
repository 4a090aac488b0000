/**
 * SpotifyWebAPI against the emulator's Web API on a real port: every emulated
 * operation through the typed client, Spotify's error answers as typed
 * errors, rate limits and outages through fault injection, and paging.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpotifyWebAPI, WebAPIError } from '../../src/api/index.js';
import { AbortedError, RateLimitError, Session } from '../../src/core/index.js';
import { ROUTES } from '../../src/emulator/_webapi/router.js';
import {
  createEmulator,
  DEMO_APP,
  type Emulator,
  type EmulatorServer,
  STANDARD_SCOPES,
} from '../../src/emulator/index.js';

/** The emulator's catalogue ids: a prefix padded with zeros to Spotify's 22 characters. */
const catalogueId = (prefix: string, n: number) =>
  prefix + String(n).padStart(22 - prefix.length, '0');
const ALBUM = catalogueId('emuAlbum', 1);
const ARTIST = catalogueId('emuArtist', 1);
const TRACK = catalogueId('emuTrack', 1);
const SHOW = catalogueId('emuShow', 1);
const EPISODE = catalogueId('emuEpisode', 1);
const PLAYLIST = catalogueId('emuPlaylist', 1);

let emulator: Emulator;
let server: EmulatorServer;

beforeAll(async () => {
  emulator = createEmulator({ autoApprove: true });
  server = await emulator.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  emulator.reset();
});

async function login(scope: readonly string[] = STANDARD_SCOPES): Promise<Session> {
  const session = new Session({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUri: 'http://127.0.0.1:8888/callback',
    accountsUrl: server.url,
  });
  const state = Session.generateState();
  const response = await fetch(session.getAuthorizeUrl({ scope: [...scope], state }), {
    redirect: 'manual',
  });
  await response.body?.cancel();
  await session.requestAccessToken(
    session.getCodeFromCallback(response.headers.get('location') ?? '', state),
  );
  return session;
}

async function client(
  options: ConstructorParameters<typeof SpotifyWebAPI>[0] = {},
  scope?: readonly string[],
): Promise<SpotifyWebAPI> {
  return new SpotifyWebAPI({ apiUrl: `${server.url}/v1`, ...options }, await login(scope));
}

function webApiKeysCalled(): string[] {
  return Object.keys(emulator.stats().requests)
    .filter((key) => / \/v1\//.test(key))
    .map((key) => key.replace(' /v1/', ' /'));
}

describe('every emulated operation through the typed client', () => {
  it('answers each one (none is a 501), with the documented shapes', async () => {
    const api = await client();
    const uri = `spotify:track:${TRACK}`;

    expect((await api.albums.get(ALBUM)).id).toBe(ALBUM);
    expect((await api.albums.tracks(ALBUM, { limit: 2 })).items).toHaveLength(2);
    expect((await api.artists.get(ARTIST)).id).toBe(ARTIST);
    expect((await api.artists.albums(ARTIST)).items.length).toBeGreaterThan(0);
    expect((await api.tracks.get(TRACK)).id).toBe(TRACK);
    expect((await api.shows.get(SHOW)).id).toBe(SHOW);
    expect((await api.shows.episodes(SHOW)).items.length).toBeGreaterThan(0);
    expect((await api.episodes.get(EPISODE)).id).toBe(EPISODE);
    const found = await api.search('Loopback', ['track', 'artist'], { limit: 5 });
    expect(found.artists?.items.length).toBeGreaterThan(0);
    expect((await api.me()).id).toBe('demo-user');

    await api.library.save([uri]);
    expect(await api.library.contains([uri])).toEqual([true]);
    await api.library.remove([uri]);
    expect(await api.library.contains([uri])).toEqual([false]);
    expect((await api.library.tracks.list()).items).toBeDefined();
    expect((await api.library.albums.list()).items).toBeDefined();
    expect((await api.library.episodes.list()).items).toBeDefined();
    expect((await api.library.shows.list()).items).toBeDefined();
    expect((await api.library.audiobooks.list()).items).toBeDefined();
    expect((await api.library.following.list('artist', { limit: 1 })).artists.items).toBeDefined();
    expect((await api.users.topArtists()).items).toBeDefined();
    expect((await api.users.topTracks()).items).toBeDefined();
    expect((await api.player.recentlyPlayed({ limit: 2 })).items).toBeDefined();

    expect((await api.playlists.get(PLAYLIST)).id).toBe(PLAYLIST);
    expect((await api.playlists.items.list(PLAYLIST)).items.length).toBeGreaterThan(0);
    // Development Mode apps are refused the old path, as Spotify does.
    await expect(api.playlists.tracks.list(PLAYLIST)).rejects.toMatchObject({
      status: 403,
      kind: 'withdrawn',
      replacement: 'playlists.items.list',
    });
    const created = await api.playlists.create('From the client test', { public: false });
    const createdId = created.id as string;
    const added = await api.playlists.items.add(createdId, {
      uris: [uri, `spotify:track:${catalogueId('emuTrack', 2)}`],
    });
    expect(typeof added.snapshot_id).toBe('string');
    const moved = await api.playlists.items.update(createdId, {
      rangeStart: 0,
      insertBefore: 2,
      snapshotId: added.snapshot_id,
    });
    const removed = await api.playlists.items.remove(createdId, [{ uri }], {
      snapshotId: moved.snapshot_id,
    });
    expect(removed.snapshot_id).not.toBe(moved.snapshot_id);
    await api.playlists.update(createdId, { name: 'Renamed by the client test' });
    expect((await api.playlists.get(createdId)).name).toBe('Renamed by the client test');
    expect(Array.isArray(await api.playlists.getCover(createdId))).toBe(true);
    const mine = await api.playlists.mine({ limit: 50 });
    expect(mine.items.some((playlist) => playlist.id === created.id)).toBe(true);

    const { devices } = await api.player.devices();
    const device = devices[0]?.id ?? '';
    expect(device).not.toBe('');
    await api.player.transfer([device]);
    await api.player.play({
      deviceId: device,
      uris: [uri, `spotify:track:${catalogueId('emuTrack', 2)}`],
    });
    expect((await api.player.state())?.is_playing).toBe(true);
    expect((await api.player.currentlyPlaying()).item).toBeDefined();
    await api.player.next();
    await api.player.previous();
    await api.player.seek(1000);
    await api.player.repeat('context');
    await api.player.volume(40);
    await api.player.shuffle(true);
    await api.player.addToQueue(`spotify:track:${catalogueId('emuTrack', 3)}`);
    expect((await api.player.queue()).queue?.length).toBeGreaterThan(0);
    await api.player.pause();

    // The withdrawn multi-gets answer an app with extended quota.
    emulator.setExtendedQuota(DEMO_APP.clientId, true);
    expect((await api.albums.getSeveral([ALBUM])).albums[0]?.id).toBe(ALBUM);
    expect((await api.artists.getSeveral(ARTIST)).artists[0]?.id).toBe(ARTIST);
    expect((await api.tracks.getSeveral([TRACK])).tracks[0]?.id).toBe(TRACK);
    expect((await api.playlists.tracks.list(PLAYLIST)).items.length).toBeGreaterThan(0);

    const emulated = Object.keys(ROUTES).sort();
    expect(webApiKeysCalled().sort()).toEqual(emulated);
  });
});

describe('the default market option', () => {
  it('reaches the emulator with the operations that take a market, never with others; a call’s own market wins', async () => {
    const sent: string[] = [];
    const api = await client({
      market: 'SE',
      fetch: (input, init) => {
        const url = new URL(new Request(input, init).url);
        sent.push(`${url.pathname.replace('/v1', '')}${url.search}`);
        return fetch(input, init);
      },
    });
    expect((await api.albums.get(ALBUM)).id).toBe(ALBUM);
    expect((await api.tracks.get(TRACK)).id).toBe(TRACK);
    expect((await api.search('Loopback', 'track', { limit: 1 })).tracks?.items).toHaveLength(1);
    expect((await api.me()).id).toBe('demo-user');
    expect((await api.users.me()).id).toBe('demo-user');
    const device = (await api.player.devices()).devices[0]?.id ?? '';
    await api.player.transfer([device], { play: true });
    expect((await api.player.state())?.is_playing).toBe(true);
    await api.player.pause();
    expect((await api.albums.get(ALBUM, { market: 'US' })).id).toBe(ALBUM);
    // The emulator checks the market it receives: a malformed one of the call's own is refused,
    // which shows that the call's market, not the default, went out.
    await expect(api.tracks.get(TRACK, { market: 'se' })).rejects.toMatchObject({
      name: 'WebAPIError',
      status: 400,
      message: expect.stringContaining('Invalid market code'),
    });
    expect(sent).toEqual([
      `/albums/${ALBUM}?market=SE`,
      `/tracks/${TRACK}?market=SE`,
      '/search?q=Loopback&type=track&market=SE&limit=1',
      '/me',
      '/me',
      '/me/player/devices',
      '/me/player',
      '/me/player?market=SE',
      '/me/player/pause',
      `/albums/${ALBUM}?market=US`,
      `/tracks/${TRACK}?market=se`,
    ]);
  });
});

describe('Spotify’s error answers become typed errors', () => {
  it('403 user not allowlisted → kind user_not_registered', async () => {
    const api = await client();
    emulator.setAllowlisted('demo-user', false);
    const error = await api.me().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebAPIError);
    expect(error).toMatchObject({ status: 403, kind: 'user_not_registered' });
  });

  it('400 malformed Authorization header → kind malformed_authorization', async () => {
    const api = await client({
      hooks: {
        beforeRequest: [
          (request) => {
            request.headers.set('authorization', 'Basic c3BvdGlmeTpzZXNzaW9u');
          },
        ],
      },
    });
    await expect(api.me()).rejects.toMatchObject({ status: 400, kind: 'malformed_authorization' });
  });

  it('403 missing scope → kind insufficient_scope', async () => {
    const api = await client({}, ['user-read-private']);
    await expect(api.player.devices()).rejects.toMatchObject({
      status: 403,
      kind: 'insufficient_scope',
    });
  });

  it('player: no active device → 404 with reason NO_ACTIVE_DEVICE', async () => {
    const api = await client();
    emulator.setActiveDevice('demo-user', null);
    await expect(api.player.pause()).rejects.toMatchObject({
      status: 404,
      kind: 'player',
      reason: 'NO_ACTIVE_DEVICE',
    });
  });

  it('an expired token (control API) is refreshed once and the call succeeds', async () => {
    const api = await client();
    const session = api.getSession() as Session;
    const before = session.getAccessToken() as string;
    expect(emulator.expireAccessToken(before)).toBe(true);
    expect((await api.me()).id).toBe('demo-user');
    expect(session.getAccessToken()).not.toBe(before);
    expect(emulator.stats().grants.refresh_token).toBe(1);
  });
});

describe('rate limits and outages (fault injection)', () => {
  it('429 within the cap: waits Retry-After and succeeds', async () => {
    const api = await client();
    emulator.setFault({ endpoint: '/v1/me', type: 'status', status: 429, retryAfter: 1, count: 1 });
    const started = performance.now();
    expect((await api.me()).id).toBe('demo-user');
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(emulator.stats().requests['GET /v1/me']).toBe(2);
  });

  it('429 over the cap: RateLimitError at once', async () => {
    const api = await client({ retry: { maxRetryAfter: 60 } });
    emulator.setFault({ endpoint: '/v1/me', type: 'status', status: 429, retryAfter: 3600 });
    const started = performance.now();
    const error = await api.me().catch((caught: unknown) => caught);
    expect(performance.now() - started).toBeLessThan(5_000); // no wait: the cap is 60 s
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfter: 3600 });
    expect(emulator.stats().requests['GET /v1/me']).toBe(1);
  });

  it('429 QUOTA_EXCEEDED: the reason is on the RateLimitError’s cause', async () => {
    const api = await client();
    emulator.setFault({
      endpoint: '/v1',
      type: 'status',
      status: 429,
      retryAfter: 86_400,
      reason: 'QUOTA_EXCEEDED',
    });
    const error = (await api.me().catch((caught: unknown) => caught)) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.cause).toMatchObject({ kind: 'rate_limited', reason: 'QUOTA_EXCEEDED' });
  });

  it('5xx: GET is retried, POST is not', async () => {
    const api = await client({ retry: { backoff: () => 10 } });
    emulator.setFault({ endpoint: '/v1/me', type: 'status', status: 503, count: 2 });
    expect((await api.me()).id).toBe('demo-user');
    expect(emulator.stats().requests['GET /v1/me']).toBe(3);

    emulator.setFault({ endpoint: '/v1/me/playlists', type: 'status', status: 500, count: 1 });
    await expect(api.playlists.create('Not twice')).rejects.toMatchObject({
      status: 500,
      kind: 'server_error',
    });
    expect(emulator.stats().requests['POST /v1/me/playlists']).toBe(1);
    const names = (await api.playlists.mine({ limit: 50 })).items.map((p) => p.name);
    expect(names).not.toContain('Not twice');
  });

  it('a dropped connection is retried for GET', async () => {
    const api = await client({ retry: { backoff: () => 10 } });
    emulator.setFault({ endpoint: '/v1/me', type: 'drop', count: 1 });
    expect((await api.me()).id).toBe('demo-user');
  });

  it('aborting ends a Retry-After wait at once', async () => {
    const api = await client();
    emulator.setFault({ endpoint: '/v1/me', type: 'status', status: 429, retryAfter: 30 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = performance.now();
    await expect(api.me({ signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(performance.now() - started).toBeLessThan(10_000); // not the 30 s Retry-After
  });
});

describe('paging', () => {
  it('walks a playlist’s items to the end, page by page', async () => {
    const api = await client();
    const first = await api.playlists.items.list(PLAYLIST, { limit: 1 });
    const ids: string[] = [];
    for await (const entry of api.paginate(first)) ids.push(String(entry.item?.id));
    expect(ids).toHaveLength(first.total);
    expect(new Set(ids).size).toBe(ids.length);
    expect(emulator.stats().requests['GET /v1/playlists/{playlist_id}/items']).toBe(first.total);
  });

  it('walks an album’s tracks with a max, and cursor pages of recently played', async () => {
    const api = await client();
    const tracks: string[] = [];
    for await (const track of api.paginate(api.albums.tracks(ALBUM, { limit: 2 }), { max: 3 })) {
      tracks.push(String(track.id));
    }
    expect(tracks).toHaveLength(3);

    const count = async (limit: number) => {
      let played = 0;
      for await (const _entry of api.paginate(api.player.recentlyPlayed({ limit }))) played += 1;
      return played;
    };
    const inPagesOfTwo = await count(2);
    expect(inPagesOfTwo).toBeGreaterThan(2);
    expect(await count(50)).toBe(inPagesOfTwo);
  });
});
