/**
 * The Web API emulator over real HTTP with raw fetch: token enforcement,
 * Spotify's error shapes, faults, and the emulated endpoints one by one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  ALL_USER_SCOPES,
  type ApiAnswer,
  api,
  appToken,
  CLIENT_ID,
  control,
  userToken,
} from '../../src/emulator/_test-http.js';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/emulator/index.js';

let emulator: Emulator;
let server: EmulatorServer;
let url: string;
const T0 = Date.UTC(2026, 5, 1);

const TRACK = 'emuTrack00000000000001';
const ALBUM = 'emuAlbum00000000000001';
const ARTIST = 'emuArtist0000000000001';
const SHOW = 'emuShow000000000000001';
const EPISODE = 'emuEpisode000000000001';
const MIX = 'emuPlaylist00000000001';
const PRIVATE = 'emuPlaylist00000000002';
const LONG = 'emuPlaylist00000000003';
const SECOND_USERS = 'emuPlaylist00000000004';
const LAPTOP = `e0010001${'0'.repeat(32)}`;
const PHONE = `e0010002${'0'.repeat(32)}`;

beforeAll(async () => {
  emulator = createEmulator({ now: () => T0 });
  server = await emulator.listen({ port: 0 });
  url = server.url;
});
afterEach(() => {
  emulator.reset();
});
afterAll(async () => {
  await server?.close();
});

const everything = async (user = 'demo-user') =>
  (await userToken(url, ALL_USER_SCOPES, user)).accessToken;
const errorOf = (answer: ApiAnswer) => (answer.body as { error: Record<string, unknown> }).error;
const get = (token: string | null, path: string) => api(url, token, 'GET', path);

function expectError(answer: ApiAnswer, status: number, message: string | RegExp, reason?: string) {
  expect(answer.status).toBe(status);
  const error = errorOf(answer);
  expect(error.status).toBe(status);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
  if (reason === undefined) expect(error).not.toHaveProperty('reason');
  else expect(error.reason).toBe(reason);
}

describe('token enforcement', () => {
  const CHALLENGE =
    'Bearer realm="spotify", error="invalid_token", error_description="Missing/invalid/expired access token"';

  test('a user token reads /me; the profile has no country, email or product', async () => {
    const me = await get(await everything(), '/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      id: 'demo-user',
      display_name: 'Demo User',
      type: 'user',
      uri: 'spotify:user:demo-user',
    });
    expect(typeof (me.body as { account_id: unknown }).account_id).toBe('string');
    for (const dropped of ['country', 'email', 'product'])
      expect(me.body).not.toHaveProperty(dropped);
    expect(me.headers.get('content-type')).toMatch(/^application\/json/);
  });

  test('missing, empty, unknown and expired tokens → 401 with WWW-Authenticate', async () => {
    const token = await everything();
    const cases: (string | null)[] = [null, '', 'BQnot-a-token'];
    for (const bearer of cases) {
      const headers: Record<string, string> =
        bearer === null ? {} : { Authorization: `Bearer ${bearer}` };
      const answer = await api(url, null, 'GET', '/me', undefined, headers);
      expectError(answer, 401, 'Missing/invalid/expired access token');
      expect(answer.headers.get('www-authenticate')).toBe(CHALLENGE);
    }
    emulator.advanceClock(3599);
    expect((await get(token, '/me')).status).toBe(200);
    emulator.advanceClock(1);
    const expired = await get(token, '/me');
    expectError(expired, 401, 'Missing/invalid/expired access token');
    expect(expired.headers.get('www-authenticate')).toBe(CHALLENGE);
  });

  test('expire a token now: method and control API', async () => {
    const first = await everything();
    expect(emulator.expireAccessToken(first)).toBe(true);
    expect(emulator.expireAccessToken(first)).toBe(false);
    expect((await get(first, '/me')).status).toBe(401);
    const second = await everything();
    expect(await control(url, 'POST', '/expire', { access_token: second })).toEqual({
      status: 200,
      body: { expired: true },
    });
    expect((await get(second, '/me')).status).toBe(401);
    expect((await control(url, 'POST', '/expire', { access_token: 'nope' })).body).toEqual({
      expired: false,
    });
    expect((await control(url, 'POST', '/expire', {})).status).toBe(400);
  });

  test('a malformed Authorization header → 400 "Only valid bearer authentication supported"', async () => {
    for (const header of ['Basic abc', 'Token', 'Bearer two words', 'BQsomething']) {
      const answer = await api(url, null, 'GET', '/me', undefined, { Authorization: header });
      expectError(answer, 400, 'Only valid bearer authentication supported');
    }
  });

  test('a missing scope → 403 "Insufficient client scope"', async () => {
    const { accessToken } = await userToken(url, ['user-read-private']);
    expect((await get(accessToken, '/me')).status).toBe(200);
    expectError(await get(accessToken, '/me/tracks'), 403, 'Insufficient client scope');
    expectError(await get(accessToken, '/me/player'), 403, 'Insufficient client scope');
    expectError(
      await api(url, accessToken, 'PUT', `/me/library?uris=spotify:track:${TRACK}`),
      403,
      'Insufficient client scope',
    );
  });

  test('a user not allowlisted → 403 "User not registered in the Developer Dashboard"', async () => {
    const token = await everything();
    emulator.setAllowlisted('demo-user', false);
    expectError(await get(token, '/me'), 403, 'User not registered in the Developer Dashboard');
    expectError(
      await get(token, `/tracks/${TRACK}`),
      403,
      'User not registered in the Developer Dashboard',
    );
    expect(
      await control(url, 'POST', '/allowlist', { user: 'demo-user', allowlisted: true }),
    ).toEqual({
      status: 200,
      body: { user: 'demo-user', allowlisted: true },
    });
    expect((await get(token, '/me')).status).toBe(200);
    expect(
      (await control(url, 'POST', '/allowlist', { user: 'nobody', allowlisted: false })).status,
    ).toBe(400);
    expect(() => emulator.setAllowlisted('nobody', false)).toThrow(TypeError);
  });

  test('a client-credentials token reads the catalogue but no user endpoint', async () => {
    const token = await appToken(url);
    expect((await get(token, `/tracks/${TRACK}`)).status).toBe(200);
    expect((await get(token, `/playlists/${MIX}`)).status).toBe(200);
    expectError(await get(token, '/me'), 401, 'This request requires user authentication.');
    expectError(await get(token, '/me/player'), 401, 'This request requires user authentication.');
    expect((await get(token, `/playlists/${PRIVATE}`)).status).toBe(404);
  });

  test('unknown path → 404 "Service not found"; wrong method → 405; unemulated → 501 after auth', async () => {
    const token = await everything();
    expectError(await get(token, '/nope'), 404, 'Service not found');
    expectError(await get(null, '/'), 404, 'Service not found');
    const wrong = await api(url, token, 'POST', '/me');
    expectError(wrong, 405, 'Method not allowed');
    expect(wrong.headers.get('allow')).toBe('GET');
    expectError(await get(null, '/audiobooks/emuAudiobook0000000001'), 401, /invalid/);
    expectError(
      await get(token, '/audiobooks/emuAudiobook0000000001'),
      501,
      /^Not emulated: GET \/audiobooks\/\{id\}/,
    );
  });

  test('withdrawn endpoints: 403 Forbidden (404 for recommendations) in Development Mode, answered with extended quota', async () => {
    const token = await everything();
    // February 2026: 403 "Forbidden", whether emulated (/albums) or not (/markets, /me/tracks).
    for (const [method, path] of [
      ['GET', `/albums?ids=${ALBUM}`],
      ['GET', '/markets'],
      ['PUT', `/me/tracks?ids=${TRACK}`],
      ['GET', `/playlists/${MIX}/tracks`],
      ['GET', `/artists/${ARTIST}/top-tracks`],
      ['GET', `/audio-features/${TRACK}`],
    ] as const) {
      expectError(await api(url, token, method, path), 403, 'Forbidden');
    }
    // November 2024: the recommendations, featured and category playlists are gone (404).
    expectError(await get(token, '/recommendations?seed_tracks=x'), 404, 'Service not found');
    expectError(await get(token, '/browse/featured-playlists'), 404, 'Service not found');
    // The token checks come first; an app token is refused the same way.
    expectError(await get(null, '/markets'), 401, 'Missing/invalid/expired access token');
    expectError(await get(await appToken(url), `/tracks?ids=${TRACK}`), 403, 'Forbidden');

    // Switched to extended quota (method or control API), the app reaches them again.
    emulator.setExtendedQuota(CLIENT_ID, true);
    const several = await get(token, `/albums?ids=${ALBUM},${ALBUM.slice(0, -1)}9`);
    expect(several.status).toBe(200);
    expect(several.body).toMatchObject({ albums: [{ id: ALBUM }, null] });
    expect(
      ((await get(token, `/tracks?ids=${TRACK}`)).body as { tracks: { id: string }[] }).tracks,
    ).toMatchObject([{ id: TRACK }]);
    expect(
      ((await get(token, `/artists?ids=${ARTIST}`)).body as { artists: { id: string }[] }).artists,
    ).toMatchObject([{ id: ARTIST }]);
    expectError(await get(token, '/markets'), 501, /^Not emulated: GET \/markets/);
    expectError(await get(token, `/tracks?ids=${'x'.repeat(22)},bad`), 400, 'Invalid base62 id');
    expectError(
      await get(token, `/albums?ids=${Array(21).fill(ALBUM).join(',')}`),
      400,
      'Too many ids requested (maximum 20)',
    );
    const off = await control(url, 'POST', '/extended-quota', {
      client_id: CLIENT_ID,
      extended_quota: false,
    });
    expect(off).toEqual({ status: 200, body: { client_id: CLIENT_ID, extended_quota: false } });
    expectError(await get(token, '/markets'), 403, 'Forbidden');
    const unknown = await control(url, 'POST', '/extended-quota', {
      client_id: 'nobody',
      extended_quota: true,
    });
    expect(unknown.status).toBe(400);
    expect(() => emulator.setExtendedQuota('nobody', true)).toThrow(/No app "nobody"/);
    // reset() restores the app's registered mode (Development Mode for the demo app).
    emulator.setExtendedQuota(CLIENT_ID, true);
    emulator.reset();
    expectError(await get(await everything(), '/markets'), 403, 'Forbidden');
  });

  test('CORS: a browser app may call the Web API, and read a 429', async () => {
    const preflight = await fetch(`${url}/v1/me`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://127.0.0.1:3000',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    emulator.setFault({ endpoint: '/v1', type: 'status', status: 429, count: 1 });
    const limited = await fetch(`${url}/v1/me`, { headers: { Origin: 'http://127.0.0.1:3000' } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('access-control-allow-origin')).toBe('*');
    expect(limited.headers.get('access-control-expose-headers')).toMatch(/Retry-After/i);
  });
});

describe('faults on the Web API', () => {
  test('429 with Retry-After, then the real answer', async () => {
    const token = await everything();
    emulator.setFault({ endpoint: '/v1', type: 'status', status: 429, retryAfter: 7, count: 1 });
    const limited = await get(token, '/me');
    expectError(limited, 429, 'API rate limit exceeded');
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await get(token, '/me')).status).toBe(200);
  });

  test('QUOTA_EXCEEDED, an empty 429, a 503, by exact path or template', async () => {
    const token = await everything();
    emulator.setFault({
      endpoint: '/v1/tracks/{id}',
      type: 'status',
      status: 429,
      reason: 'QUOTA_EXCEEDED',
      retryAfter: 3600,
      count: 1,
    });
    expect((await get(token, '/me')).status).toBe(200);
    const quota = await get(token, `/tracks/${TRACK}`);
    expectError(quota, 429, 'Too many requests', 'QUOTA_EXCEEDED');
    expect(quota.headers.get('retry-after')).toBe('3600');
    emulator.setFault({
      endpoint: '/v1/me',
      type: 'status',
      status: 429,
      emptyBody: true,
      count: 1,
    });
    const empty = await get(token, '/me');
    expect(empty.status).toBe(429);
    expect(empty.body).toBeUndefined();
    expect(empty.headers.get('retry-after')).toBe('1');
    const created = await control(url, 'POST', '/faults', {
      endpoint: '/v1/me',
      type: 'status',
      status: 503,
      count: 1,
    });
    expect(created.status).toBe(201);
    expectError(await get(token, '/me'), 503, 'Service unavailable');
    expect(
      (await control(url, 'POST', '/faults', { endpoint: '/v2/me', type: 'drop' })).status,
    ).toBe(400);
    expect(
      (
        await control(url, 'POST', '/faults', {
          endpoint: '/v1',
          type: 'status',
          status: 503,
          reason: 'QUOTA_EXCEEDED',
        })
      ).status,
    ).toBe(400);
  });
});

describe('catalogue', () => {
  test('track, album, artist, show, episode', async () => {
    const token = await everything();
    const track = await get(token, `/tracks/${TRACK}`);
    expect(track.body).toMatchObject({
      id: TRACK,
      type: 'track',
      name: '127.0.0.1',
      album: { id: ALBUM },
      artists: [{ id: ARTIST }],
    });
    const album = await get(token, `/albums/${ALBUM}?market=SE`);
    expect(album.body).toMatchObject({
      id: ALBUM,
      name: 'Localhost Sessions',
      total_tracks: 5,
      tracks: { total: 5, next: null },
    });
    expect((await get(token, `/artists/${ARTIST}`)).body).toMatchObject({
      id: ARTIST,
      name: 'The Emulators',
    });
    expect((await get(token, `/shows/${SHOW}`)).body).toMatchObject({
      id: SHOW,
      episodes: { total: 3 },
    });
    expect((await get(token, `/episodes/${EPISODE}`)).body).toMatchObject({
      id: EPISODE,
      show: { id: SHOW },
    });
    expect((await get(token, `/shows/${SHOW}/episodes?limit=2`)).body).toMatchObject({
      total: 3,
      limit: 2,
    });
  });

  test('ids: malformed → 400 "Invalid base62 id"; unknown → 404; bad market → 400', async () => {
    const token = await everything();
    expectError(await get(token, '/tracks/not-an-id'), 400, 'Invalid base62 id');
    expectError(await get(token, '/tracks/0000000000000000000000'), 404, 'Resource not found');
    expectError(await get(token, `/tracks/${TRACK}?market=sweden`), 400, 'Invalid market code');
  });

  test('album tracks and artist albums are offset-paged with validated limits', async () => {
    const token = await everything();
    const first = await get(token, `/albums/${ALBUM}/tracks?limit=2`);
    expect(first.body).toMatchObject({ limit: 2, offset: 0, total: 5, previous: null });
    const next = (first.body as { next: string }).next;
    expect(next).toBe(`${url}/v1/albums/${ALBUM}/tracks?limit=2&offset=2`);
    const second = await fetch(next, { headers: { Authorization: `Bearer ${token}` } });
    expect(await second.json()).toMatchObject({
      offset: 2,
      total: 5,
      previous: `${url}/v1/albums/${ALBUM}/tracks?limit=2&offset=0`,
    });
    for (const query of ['limit=0', 'limit=51', 'limit=abc', 'offset=-1', 'limit=2.5'])
      expect((await get(token, `/albums/${ALBUM}/tracks?${query}`)).status).toBe(400);
    const albums = await get(token, `/artists/${ARTIST}/albums`);
    expect(albums.body).toMatchObject({
      limit: 5,
      total: 2,
      items: [{ album_group: 'album' }, { album_group: 'single' }],
    });
    expect((await get(token, `/artists/${ARTIST}/albums?limit=0`)).body).toMatchObject({
      items: [],
      total: 2,
    });
    expect(
      (await get(token, `/artists/${ARTIST}/albums?include_groups=single`)).body,
    ).toMatchObject({ total: 1 });
    expectError(await get(token, `/artists/${ARTIST}/albums?limit=11`), 400, 'Invalid limit');
  });

  test('search', async () => {
    const token = await everything();
    const found = await get(
      token,
      '/search?q=retry&type=track,artist,album,playlist,show,episode,audiobook',
    );
    const body = found.body as Record<
      string,
      { total: number; items: { name: string }[]; limit: number }
    >;
    expect(found.status).toBe(200);
    expect(body.tracks?.items.map((item) => item.name)).toContain('Retry-After');
    expect(body.tracks?.limit).toBe(5);
    expect(body.albums?.total).toBe(1);
    expect(body.audiobooks?.total).toBe(0);
    const filtered = await get(token, '/search?q=artist:emulators&type=track&limit=10');
    expect((filtered.body as { tracks: { total: number } }).tracks.total).toBe(7);
    expectError(await get(token, '/search?type=track'), 400, 'No search query');
    expectError(await get(token, '/search?q=x&type=song'), 400, 'Bad search type field');
    expectError(await get(token, '/search?q=x&type=track&limit=11'), 400, 'Invalid limit');
    expectError(await get(token, '/search?q=x&type=track&offset=1001'), 400, 'Invalid offset');
  });
});

describe('library', () => {
  test('saved tracks page to the end; albums, shows, episodes', async () => {
    const token = await everything();
    const first = await get(token, '/me/tracks');
    const page = first.body as {
      items: { added_at: string; track: { id: string } }[];
      total: number;
      next: string;
      limit: number;
    };
    expect(page).toMatchObject({ total: 24, limit: 20, offset: 0 });
    expect(page.items).toHaveLength(20);
    expect(page.items[0]?.added_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const last = await (
      await fetch(page.next, { headers: { Authorization: `Bearer ${token}` } })
    ).json();
    expect(last).toMatchObject({ offset: 20, next: null });
    expect((last as { items: unknown[] }).items).toHaveLength(4);
    expect((await get(token, '/me/albums')).body).toMatchObject({
      total: 3,
      items: [{ album: { tracks: {} } }, {}, {}],
    });
    expect((await get(token, '/me/shows')).body).toMatchObject({ total: 1 });
    expect((await get(token, '/me/episodes')).body).toMatchObject({ total: 1 });
  });

  test('save, contains, remove by URI (/me/library)', async () => {
    const token = await everything();
    const newest = `spotify:album:emuAlbum00000000000008`;
    const uris = `spotify:track:${TRACK},${newest},spotify:artist:${ARTIST}`;
    expect((await get(token, `/me/library/contains?uris=${uris}`)).body).toEqual([
      true,
      false,
      false,
    ]);
    const saved = await api(
      url,
      token,
      'PUT',
      `/me/library?uris=${newest},spotify:playlist:${LONG}`,
    );
    expect(saved.status).toBe(200);
    expect((await get(token, `/me/library/contains?uris=${uris}`)).body).toEqual([
      true,
      true,
      false,
    ]);
    expect((await get(token, '/me/albums?limit=1')).body).toMatchObject({
      total: 4,
      items: [{ album: { id: 'emuAlbum00000000000008' } }],
    });
    expect(
      (await api(url, token, 'DELETE', `/me/library?uris=spotify:track:${TRACK}`)).status,
    ).toBe(200);
    expect((await get(token, `/me/library/contains?uris=spotify:track:${TRACK}`)).body).toEqual([
      false,
    ]);
    expectError(
      await api(url, token, 'PUT', `/me/library?uris=spotify:artist:${ARTIST}`),
      400,
      'Unsupported URI type: artist',
    );
    expectError(
      await api(url, token, 'PUT', '/me/library?uris=spotify:track:short'),
      400,
      /^Invalid Spotify URI/,
    );
    expectError(
      await api(url, token, 'PUT', '/me/library'),
      400,
      'Missing required parameter: uris',
    );
    const many = Array.from({ length: 41 }, () => `spotify:track:${TRACK}`).join(',');
    expectError(await get(token, `/me/library/contains?uris=${many}`), 400, /maximum 40/);
  });

  test('library scopes follow the URI type', async () => {
    const { accessToken } = await userToken(url, ['user-library-read']);
    expect(
      (await get(accessToken, `/me/library/contains?uris=spotify:track:${TRACK}`)).status,
    ).toBe(200);
    expectError(
      await get(accessToken, `/me/library/contains?uris=spotify:artist:${ARTIST}`),
      403,
      'Insufficient client scope',
    );
  });

  test('followed artists are cursor-paged by id; audiobooks are an empty page', async () => {
    const token = await everything();
    await api(url, token, 'PUT', `/me/following?type=artist&ids=${ARTIST}`); // withdrawn: 403, not followed
    const first = (await get(token, '/me/following?type=artist&limit=1')).body as {
      artists: {
        items: { id: string }[];
        next: string | null;
        cursors: { after: string | null };
        total: number;
      };
    };
    expect(first.artists).toMatchObject({ total: 1, next: null, cursors: { after: null } });
    expect(first.artists.items.map((artist) => artist.id)).toEqual(['emuArtist0000000000002']);
    expectError(await get(token, '/me/following?type=user'), 400, 'Invalid type');
    expectError(await get(token, '/me/following'), 400, 'Missing required parameter: type');
    expect((await get(token, '/me/audiobooks')).body).toMatchObject({
      items: [],
      total: 0,
      next: null,
    });
  });

  test('top items by time range', async () => {
    const token = await everything();
    const medium = (await get(token, '/me/top/tracks?limit=3')).body as {
      items: { id: string }[];
      total: number;
    };
    const short = (await get(token, '/me/top/tracks?limit=3&time_range=short_term'))
      .body as typeof medium;
    expect(medium.items).toHaveLength(3);
    expect(medium.total).toBe(24);
    expect(short.items.map((t) => t.id)).not.toEqual(medium.items.map((t) => t.id));
    expect((await get(token, '/me/top/artists')).body).toMatchObject({ total: 4 });
    expectError(await get(token, '/me/top/artists?time_range=forever'), 400, 'Invalid time range');
  });

  test('recently played: cursor pages to the end', async () => {
    const token = await everything();
    let next: string | null = `${url}/v1/me/player/recently-played?limit=25`;
    const seen: string[] = [];
    let pages = 0;
    while (next !== null) {
      const answer = await fetch(next, { headers: { Authorization: `Bearer ${token}` } });
      const page = (await answer.json()) as {
        items: { played_at: string }[];
        next: string | null;
        cursors: { before: string } | null;
        limit: number;
      };
      expect(page.limit).toBe(25);
      expect(page).not.toHaveProperty('offset');
      seen.push(...page.items.map((item) => item.played_at));
      if (page.items.length > 0)
        expect(page.cursors?.before).toBe(String(Date.parse(seen[seen.length - 1] ?? '')));
      next = page.next;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(60);
    expect([...seen].sort().reverse()).toEqual(seen);
    const oldest = Date.parse(seen[seen.length - 1] ?? '');
    expect((await get(token, `/me/player/recently-played?before=${oldest}`)).body).toMatchObject({
      items: [],
      next: null,
      cursors: null,
    });
    const after = (await get(token, `/me/player/recently-played?after=${oldest}&limit=2`)).body as {
      items: { played_at: string }[];
      next: string;
    };
    expect(after.items.map((item) => item.played_at)).toEqual([seen[57], seen[58]]);
    expect(after.next).toContain('after=');
    expectError(
      await get(token, '/me/player/recently-played?after=1&before=2'),
      400,
      /Only one of/,
    );
  });
});

describe('playlists', () => {
  test("the user's playlists, a playlist, its items (item, not track, in Development Mode)", async () => {
    const token = await everything();
    const mine = (await get(token, '/me/playlists')).body as {
      items: { id: string; items: { total: number } }[];
      total: number;
    };
    expect(mine.total).toBe(4);
    expect(mine.items.map((p) => p.id).sort()).toEqual([MIX, PRIVATE, LONG, SECOND_USERS].sort());
    const mix = await get(token, `/playlists/${MIX}`);
    expect(mix.body).toMatchObject({
      id: MIX,
      owner: { id: 'demo-user', display_name: 'Demo User' },
      public: true,
      items: { total: 9 },
    });
    expect(mix.body).not.toHaveProperty('tracks');
    const items = (await get(token, `/playlists/${MIX}/items?limit=50`)).body as {
      items: Record<string, unknown>[];
      total: number;
    };
    expect(items.total).toBe(9);
    expect(items.items[0]).toHaveProperty('item.type', 'track');
    expect(items.items[8]).toHaveProperty('item.type', 'episode');
    expect(items.items[0]).not.toHaveProperty('track');
    expectError(await get(token, `/playlists/${MIX}/tracks`), 403, 'Forbidden');
    expectError(await get(token, `/playlists/${MIX}/items?limit=51`), 400, 'Invalid limit');
    const long = (await get(token, `/playlists/${LONG}/items?offset=100&limit=50`)).body;
    expect(long).toMatchObject({ total: 120, offset: 100, next: null });
  });

  test('add, reorder, replace and remove items; snapshot ids change', async () => {
    const token = await everything();
    const before = ((await get(token, `/playlists/${PRIVATE}`)).body as { snapshot_id: string })
      .snapshot_id;
    const ids = async () =>
      (
        (await get(token, `/playlists/${PRIVATE}/items`)).body as {
          items: { item: { id: string } }[];
        }
      ).items.map((i) => i.item.id);
    const original = await ids();
    const added = await api(url, token, 'POST', `/playlists/${PRIVATE}/items`, {
      uris: [`spotify:track:${TRACK}`, `spotify:episode:${EPISODE}`],
      position: 1,
    });
    expect(added.status).toBe(201);
    const snapshot = (added.body as { snapshot_id: string }).snapshot_id;
    expect(snapshot).not.toBe(before);
    expect(await ids()).toEqual([original[0], TRACK, EPISODE, original[1], original[2]]);
    const moved = await api(url, token, 'PUT', `/playlists/${PRIVATE}/items`, {
      range_start: 0,
      insert_before: 5,
      snapshot_id: snapshot,
    });
    expect(moved.status).toBe(200);
    expect(await ids()).toEqual([TRACK, EPISODE, original[1], original[2], original[0]]);
    const removed = await api(url, token, 'DELETE', `/playlists/${PRIVATE}/items`, {
      items: [{ uri: `spotify:track:${TRACK}` }],
      snapshot_id: before,
    });
    expect(removed.status).toBe(200);
    expect(await ids()).toEqual([EPISODE, original[1], original[2], original[0]]);
    const query = await api(
      url,
      token,
      'POST',
      `/playlists/${PRIVATE}/items?uris=spotify:track:${TRACK}&position=0`,
    );
    expect(query.status).toBe(201);
    expect((await ids())[0]).toBe(TRACK);
    const replaced = await api(url, token, 'PUT', `/playlists/${PRIVATE}/items`, {
      uris: [`spotify:track:${TRACK}`],
    });
    expect(replaced.status).toBe(200);
    expect(await ids()).toEqual([TRACK]);
    expectError(
      await api(url, token, 'PUT', `/playlists/${PRIVATE}/items`, {
        range_start: 0,
        insert_before: 1,
        snapshot_id: 'bogus',
      }),
      400,
      'Invalid snapshot_id',
    );
    expectError(
      await api(url, token, 'PUT', `/playlists/${PRIVATE}/items`, {
        range_start: 3,
        insert_before: 0,
      }),
      400,
      'Invalid range_start',
    );
    expectError(
      await api(url, token, 'POST', `/playlists/${PRIVATE}/items`, {
        uris: ['spotify:track:0000000000000000000000'],
      }),
      400,
      'Payload contains a non-existing ID',
    );
    expectError(
      await api(url, token, 'POST', `/playlists/${PRIVATE}/items`, {
        uris: [`spotify:track:${TRACK}`],
        position: 99,
      }),
      400,
      'Index out of bounds',
    );
    expectError(
      await api(url, token, 'POST', `/playlists/${PRIVATE}/items`, '{'),
      400,
      'Error parsing JSON.',
    );
  });

  test('create a playlist; ownership, visibility and scopes', async () => {
    const token = await everything();
    const created = await api(url, token, 'POST', '/me/playlists', {
      name: 'New one',
      public: false,
      description: 'made in a test',
    });
    expect(created.status).toBe(201);
    const playlist = created.body as {
      id: string;
      public: boolean;
      owner: { id: string };
      items: { total: number };
    };
    expect(playlist).toMatchObject({
      name: 'New one',
      public: false,
      owner: { id: 'demo-user' },
      items: { total: 0 },
    });
    expect((await get(token, '/me/playlists?limit=1')).body).toMatchObject({
      total: 5,
      items: [{ id: playlist.id }],
    });
    expectError(
      await api(url, token, 'POST', '/me/playlists', {}),
      400,
      'Missing required field: name',
    );
    expectError(
      await api(url, token, 'POST', '/me/playlists', { name: 'x', collaborative: true }),
      400,
      /must not be public/,
    );
    const second = await everything('demo-user-2');
    expectError(await get(second, `/playlists/${PRIVATE}`), 404, 'Resource not found');
    expectError(
      await api(url, second, 'POST', `/playlists/${MIX}/items`, {
        uris: [`spotify:track:${TRACK}`],
      }),
      403,
      'Forbidden',
    );
    const publicOnly = (await userToken(url, ['playlist-modify-public'])).accessToken;
    expectError(
      await api(url, publicOnly, 'POST', '/me/playlists', { name: 'private', public: false }),
      403,
      'Insufficient client scope',
    );
    expect((await api(url, publicOnly, 'POST', '/me/playlists', { name: 'public' })).status).toBe(
      201,
    );
    expectError(
      await api(url, publicOnly, 'POST', `/playlists/${PRIVATE}/items`, {
        uris: [`spotify:track:${TRACK}`],
      }),
      403,
      'Insufficient client scope',
    );
  });

  test('change details; cover images', async () => {
    const token = await everything();
    const before = ((await get(token, `/playlists/${MIX}`)).body as { snapshot_id: string })
      .snapshot_id;
    const changed = await api(url, token, 'PUT', `/playlists/${MIX}`, {
      name: 'Renamed',
      public: false,
      description: 'now private',
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toBeUndefined();
    const after = (await get(token, `/playlists/${MIX}`)).body as Record<string, unknown>;
    expect(after).toMatchObject({ name: 'Renamed', public: false, description: 'now private' });
    expect(after.snapshot_id).not.toBe(before);
    expectError(
      await api(url, token, 'PUT', `/playlists/${MIX}`, { public: 'no' }),
      400,
      'public must be a boolean',
    );
    const second = await everything('demo-user-2');
    expectError(
      await api(url, second, 'PUT', `/playlists/${SECOND_USERS}`, { name: '' }),
      400,
      'name must be a non-empty string',
    );
    expectError(
      await api(url, second, 'PUT', `/playlists/${LONG}`, { name: 'mine' }),
      403,
      'Forbidden',
    );
    const images = await get(token, `/playlists/${LONG}/images`);
    expect(images.status).toBe(200);
    expect(images.body).toMatchObject([{ height: 640, width: 640 }]);
  });

  test('an app with extended quota still reaches /playlists/{id}/tracks, with `track`', async () => {
    const extended = createEmulator({
      apps: [
        { clientId: 'big-app', clientSecret: 'secret', redirectUris: [], extendedQuota: true },
      ],
    });
    const running = await extended.listen();
    try {
      const answer = await fetch(`${running.url}/api/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=big-app&client_secret=secret',
      });
      const { access_token } = (await answer.json()) as { access_token: string };
      const page = await api(
        running.url,
        access_token,
        'GET',
        `/playlists/${MIX}/tracks?limit=100`,
      );
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ total: 9, limit: 100 });
      expect((page.body as { items: unknown[] }).items[0]).toMatchObject({
        track: { id: TRACK },
        item: { id: TRACK },
      });
      expect((await api(running.url, access_token, 'GET', `/playlists/${MIX}`)).body).toMatchObject(
        { tracks: { total: 9 }, items: { total: 9 } },
      );
    } finally {
      await running.close();
    }
  });
});

describe('player', () => {
  test('state, devices, play/pause, next/previous, seek, volume, shuffle, repeat, queue', async () => {
    const token = await everything();
    const state = await get(token, '/me/player');
    expect(state.body).toMatchObject({
      device: { id: LAPTOP, is_active: true, volume_percent: 70 },
      is_playing: false,
      progress_ms: 30_000,
      repeat_state: 'off',
      shuffle_state: false,
      context: { uri: `spotify:album:${ALBUM}` },
      item: { id: 'emuTrack00000000000002' },
      currently_playing_type: 'track',
    });
    expect((await get(token, '/me/player/devices')).body).toMatchObject({
      devices: [{ id: LAPTOP }, { id: PHONE, is_active: false, supports_volume: false }],
    });
    expectError(
      await api(url, token, 'PUT', '/me/player/pause'),
      403,
      'Player command failed: Restriction violated',
      'ALREADY_PAUSED',
    );
    expect((await api(url, token, 'PUT', '/me/player/play')).status).toBe(204);
    emulator.advanceClock(10);
    expect((await get(token, '/me/player/currently-playing')).body).toMatchObject({
      is_playing: true,
      progress_ms: 40_000,
    });
    expectError(
      await api(url, token, 'PUT', '/me/player/play'),
      403,
      /Restriction violated/,
      'ALREADY_PLAYING',
    );
    expect((await api(url, token, 'PUT', '/me/player/pause')).status).toBe(204);
    expect((await api(url, token, 'POST', '/me/player/previous')).status).toBe(204);
    expectError(
      await api(url, token, 'POST', '/me/player/previous'),
      403,
      /Restriction violated/,
      'NO_PREV_TRACK',
    );
    expect(
      (await api(url, token, 'POST', `/me/player/queue?uri=spotify:episode:${EPISODE}`)).status,
    ).toBe(204);
    const queue = (await get(token, '/me/player/queue')).body as {
      currently_playing: { id: string };
      queue: { id: string }[];
    };
    expect(queue.currently_playing.id).toBe(TRACK);
    expect(queue.queue[0]?.id).toBe(EPISODE);
    expect((await api(url, token, 'POST', '/me/player/next')).status).toBe(204);
    expect((await get(token, '/me/player')).body).toMatchObject({
      item: { id: EPISODE },
      currently_playing_type: 'episode',
      is_playing: true,
    });
    const history = (await get(token, '/me/player/recently-played?limit=1')).body as {
      items: { track: { id: string }; played_at: string }[];
    };
    expect(history.items[0]?.track.id).toBe(TRACK);
    expect(history.items[0]?.played_at).toBe(new Date(T0 + 10_000).toISOString());
    expect((await api(url, token, 'PUT', '/me/player/seek?position_ms=5000')).status).toBe(204);
    expect((await get(token, '/me/player')).body).toMatchObject({ progress_ms: 5000 });
    expectError(
      await api(url, token, 'PUT', '/me/player/seek'),
      400,
      'Missing required parameter: position_ms',
    );
    expect((await api(url, token, 'PUT', '/me/player/volume?volume_percent=30')).status).toBe(204);
    expectError(
      await api(url, token, 'PUT', '/me/player/volume?volume_percent=101'),
      400,
      'Invalid volume_percent',
    );
    expect((await api(url, token, 'PUT', '/me/player/shuffle?state=true')).status).toBe(204);
    expect((await api(url, token, 'PUT', '/me/player/repeat?state=context')).status).toBe(204);
    expectError(
      await api(url, token, 'PUT', '/me/player/repeat?state=sometimes'),
      400,
      'Invalid state',
    );
    expect((await get(token, '/me/player')).body).toMatchObject({
      shuffle_state: true,
      repeat_state: 'context',
      device: { volume_percent: 30 },
    });
    // The phone cannot change its volume.
    expect(
      (await api(url, token, 'PUT', '/me/player', { device_ids: [PHONE], play: true })).status,
    ).toBe(204);
    expectError(
      await api(url, token, 'PUT', '/me/player/volume?volume_percent=10'),
      403,
      /volume/,
      'VOLUME_CONTROL_DISALLOW',
    );
    expectError(
      await api(url, token, 'PUT', '/me/player/pause?device_id=nope'),
      404,
      'Device not found',
    );
  });

  test('play a context with an offset, or a list of URIs; end of context', async () => {
    const token = await everything();
    const play = await api(url, token, 'PUT', '/me/player/play', {
      context_uri: `spotify:playlist:${MIX}`,
      offset: { position: 8 },
      position_ms: 1000,
    });
    expect(play.status).toBe(204);
    expect((await get(token, '/me/player')).body).toMatchObject({
      context: { uri: `spotify:playlist:${MIX}`, type: 'playlist' },
      item: { type: 'episode' },
      progress_ms: 1000,
    });
    expectError(
      await api(url, token, 'POST', '/me/player/next'),
      403,
      /Restriction violated/,
      'NO_NEXT_TRACK',
    );
    expect(
      (await api(url, token, 'PUT', '/me/player/play', { uris: [`spotify:track:${TRACK}`] }))
        .status,
    ).toBe(204);
    const state = (await get(token, '/me/player')).body as Record<string, unknown>;
    expect(state.context).toBeNull();
    expect(state.item).toMatchObject({ id: TRACK });
    expectError(
      await api(url, token, 'PUT', '/me/player/play', { uris: [TRACK] }),
      400,
      'Invalid track uri',
    );
    expectError(
      await api(url, token, 'PUT', '/me/player/play', {
        context_uri: `spotify:album:${ALBUM}`,
        offset: { position: 9 },
      }),
      403,
      /Restriction/,
      'NO_SPECIFIC_TRACK',
    );
  });

  test('no active device → 404 NO_ACTIVE_DEVICE and an empty /me/player', async () => {
    const token = await everything();
    emulator.setActiveDevice('demo-user', null);
    expect((await get(token, '/me/player')).status).toBe(204);
    expect((await get(token, '/me/player/currently-playing')).status).toBe(204);
    expect((await get(token, '/me/player/queue')).body).toEqual({
      currently_playing: null,
      queue: [],
    });
    for (const [method, path] of [
      ['PUT', '/me/player/play'],
      ['PUT', '/me/player/pause'],
      ['POST', '/me/player/next'],
      ['POST', `/me/player/queue?uri=spotify:track:${TRACK}`],
    ] as const)
      expectError(
        await api(url, token, method, path),
        404,
        'Player command failed: No active device found',
        'NO_ACTIVE_DEVICE',
      );
    expect(
      await control(url, 'POST', '/active-device', { user: 'demo-user', device_id: PHONE }),
    ).toEqual({ status: 200, body: { user: 'demo-user', device_id: PHONE } });
    expect((await get(token, '/me/player')).body).toMatchObject({ device: { id: PHONE } });
    expect(
      (await control(url, 'POST', '/active-device', { user: 'demo-user', device_id: 'nope' }))
        .status,
    ).toBe(400);
    // A device_id names the device to use, active or not.
    emulator.setActiveDevice('demo-user', null);
    expect((await api(url, token, 'PUT', `/me/player/play?device_id=${LAPTOP}`)).status).toBe(204);
  });

  test('a free user → 403 PREMIUM_REQUIRED; reading the state still works', async () => {
    const free = await everything('demo-user-2');
    expect((await get(free, '/me/player')).status).toBe(200);
    expectError(
      await api(url, free, 'PUT', '/me/player/play'),
      403,
      'Player command failed: Premium required',
      'PREMIUM_REQUIRED',
    );
    const premium = await everything();
    emulator.setProduct('demo-user', 'free');
    expectError(
      await api(url, premium, 'POST', '/me/player/next'),
      403,
      /Premium required/,
      'PREMIUM_REQUIRED',
    );
    expect(
      (await control(url, 'POST', '/product', { user: 'demo-user', product: 'premium' })).status,
    ).toBe(200);
    expect((await api(url, premium, 'POST', '/me/player/next')).status).toBe(204);
  });
});

describe('stats', () => {
  test('Web API calls are counted by operation template; grants by type', async () => {
    const token = await everything();
    await get(token, `/tracks/${TRACK}`);
    await get(token, '/tracks/emuTrack00000000000002');
    await get(token, '/me');
    await get(null, '/me');
    await get(token, '/what/ever');
    await fetch(`${url}/random-${Math.random()}`);
    const stats = emulator.stats();
    expect(stats.requests).toMatchObject({
      'GET /v1/tracks/{id}': 2,
      'GET /v1/me': 2,
      'GET (other path)': 2,
      'POST /api/token': 1,
    });
    expect(stats.requests).not.toHaveProperty('GET /v1/what/ever');
    expect(stats.grants.authorization_code).toBe(1);
  });
});
