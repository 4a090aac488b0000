/**
 * What SpotifyWebAPI adds from the operation table, against a scripted Web API on a real
 * port: scopes checked before sending, withdrawn endpoints named, the rate limit shared
 * through the Session's store, ids as URIs or links, `paginate().collect()`.
 * Against the emulator and real processes: test/e2e/api-features.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rejection } from '../../test/support/rejection.js';
import {
  type Answer,
  type SeenRequest,
  startTestServer,
  type TestServer,
} from '../../test/support/web-api-server.js';
import {
  InvalidArgumentError,
  RateLimitError,
  Session,
  type SessionTokens,
  StoreError,
  type TokenStore,
} from '../core/index.js';
import { MemoryStore } from '../stores/memory.js';
import { OPERATIONS } from './_generated/resources.js';
import { missingScopes } from './_guard.js';
import { operationAt } from './_operations.js';
import {
  SpotifyWebAPI,
  SpotifyWebAPIBase,
  type SpotifyWebAPIOptions,
  WebAPIError,
} from './index.js';

const TOKEN = 'BQguard-access-token';
const ID = '4aawyAB9vmqN3uQ7FjRGTy';
const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler: (request: SeenRequest) => Answer = () => ({ body: {} })) {
  const server = await startTestServer(handler);
  servers.push(server);
  return server;
}

function sessionWith(tokens: SessionTokens, store?: TokenStore, storeKey = 'user'): Session {
  return store === undefined
    ? new Session({ clientId: 'app-id', tokens })
    : new Session({ clientId: 'app-id', store, storeKey });
}

function client(server: TestServer, session: Session, options: SpotifyWebAPIOptions = {}) {
  return new SpotifyWebAPI(
    { apiUrl: server.apiUrl, retry: { backoff: () => 0 }, ...options },
    session,
  );
}

describe('scopes checked before sending', () => {
  const granted = ['user-read-private', 'playlist-read-private'];

  it('refuses a call that needs a scope the login lacks, without a request, showing the fix', async () => {
    const server = await serve();
    const api = client(server, sessionWith({ accessToken: TOKEN, scope: granted }));
    const error = await rejection(api.users.topTracks({ limit: 5 }));
    expect(server.seen).toEqual([]);
    expect(error).toBeInstanceOf(WebAPIError);
    expect(error).toMatchObject({
      status: 403,
      kind: 'insufficient_scope',
      missingScopes: ['user-top-read'],
      method: 'GET',
      path: '/me/top/tracks',
      response: undefined,
    });
    expect((error as Error).message).toContain(
      "session.getAuthorizeUrl({ scope: ['user-read-private', 'playlist-read-private', 'user-top-read'], state })",
    );
    expect((error as Error).message).toMatch(
      /^api\.users\.topTracks\(\) \(GET \/me\/top\/tracks\) needs user-top-read/,
    );
  });

  it('asks for every alternative when none is granted, and is satisfied by any one', async () => {
    const server = await serve(() => ({ status: 201, body: { snapshot_id: 's' } }));
    const refused = client(server, sessionWith({ accessToken: TOKEN, scope: granted }));
    const error = (await rejection(refused.playlists.items.add('p1', { uris: [] }))) as WebAPIError;
    expect(error.missingScopes).toEqual(['playlist-modify-public', 'playlist-modify-private']);
    expect(error.message).toContain('needs playlist-modify-public or playlist-modify-private');
    expect(server.seen).toEqual([]);
    const allowed = client(
      server,
      sessionWith({ accessToken: TOKEN, scope: ['playlist-modify-private'] }),
    );
    await allowed.playlists.items.add('p1', { uris: [] });
    // A required scope and a pair of alternatives: the cover needs both.
    expect(missingScopes(OPERATIONS['playlists.uploadCover']!, ['playlist-modify-public'])).toEqual(
      ['ugc-image-upload'],
    );
    expect(server.seen).toHaveLength(1);
  });

  it('never refuses what the reference lists as optional (GET /me, a show, a playlist’s items)', async () => {
    const server = await serve(() => ({ body: { id: 'x', items: [] } }));
    const api = client(server, sessionWith({ accessToken: TOKEN, scope: ['user-top-read'] }));
    await api.me();
    await api.users.me();
    await api.shows.get(ID);
    await api.playlists.items.list('p1');
    await api.playlists.mine();
    expect(server.seen).toHaveLength(5);
  });

  it('checks api.request() on a path of the table too, and leaves other paths alone', async () => {
    const server = await serve(() => ({ body: {} }));
    const api = client(server, sessionWith({ accessToken: TOKEN, scope: granted }));
    await expect(api.request('PUT', '/me/player/pause/')).rejects.toMatchObject({
      kind: 'insufficient_scope',
      missingScopes: ['user-modify-playback-state'],
    });
    await api.request('GET', '/some/new/endpoint');
    expect(server.seen.map((request) => request.url)).toEqual(['/v1/some/new/endpoint']);
  });

  it('checks nothing when the scopes are unknown, for app tokens, with checkScopes: false, or in SpotifyWebAPIBase', async () => {
    const server = await serve(() => ({ body: { items: [] } }));
    await client(server, sessionWith({ accessToken: TOKEN })).users.topTracks();
    await client(
      server,
      sessionWith({ accessToken: TOKEN, scope: granted, grant: 'client_credentials' }),
    ).users.topTracks();
    await client(server, sessionWith({ accessToken: TOKEN, scope: granted }), {
      checkScopes: false,
    }).users.topTracks();
    await new SpotifyWebAPI({ apiUrl: server.apiUrl }).setAccessToken(TOKEN).users.topTracks();
    await new SpotifyWebAPIBase(
      { apiUrl: server.apiUrl },
      sessionWith({ accessToken: TOKEN, scope: granted }),
    ).request('GET', '/me/top/tracks');
    expect(server.seen).toHaveLength(5);
    expect(() => new SpotifyWebAPI({ checkScopes: 'no' as never })).toThrow(/checkScopes/);
  });

  it('finds the operation of a path: more fixed segments win, one trailing slash is allowed', () => {
    expect(operationAt('GET', '/me/player/currently-playing')?.[0]).toBe('player.currentlyPlaying');
    expect(operationAt('GET', '/me/albums/')?.[0]).toBe('library.albums.list');
    expect(operationAt('GET', '/playlists/abc/items')?.[0]).toBe('playlists.items.list');
    expect(operationAt('DELETE', '/playlists/abc/items')?.[0]).toBe('playlists.items.remove');
    expect(operationAt('GET', '/playlists//items')).toBeUndefined();
    expect(operationAt('PATCH', '/me')).toBeUndefined();
    expect(operationAt('GET', '/nope')).toBeUndefined();
  });
});

describe('withdrawn endpoints named at run time', () => {
  it('turns a 403 or 404 of a withdrawn operation into kind withdrawn, naming the replacement', async () => {
    const server = await serve((request) =>
      request.url.startsWith('/v1/albums')
        ? { status: 403, body: { error: { status: 403, message: 'Forbidden' } } }
        : { status: 404, body: { error: { status: 404, message: 'Service not found' } } },
    );
    const api = client(server, sessionWith({ accessToken: TOKEN }));
    const several = (await rejection(api.albums.getSeveral([ID, ID]))) as WebAPIError;
    expect(several).toMatchObject({
      status: 403,
      kind: 'withdrawn',
      replacement: 'albums.get',
      path: '/albums',
    });
    expect(several.message).toMatch(
      /^Forbidden\. api\.albums\.getSeveral\(\) \(GET \/albums\) was withdrawn by Spotify for apps in Development Mode in February 2026 \(https:\/\/developer\.spotify\.com\/documentation\/web-api\/tutorials\/february-2026-migration-guide\); apps with extended quota still reach it\. Call api\.albums\.get\(\) instead \(GET \/albums\/\{id\}\)\.$/,
    );
    const recommendations = (await rejection(
      api.tracks.recommendations({ seedTracks: [ID] }),
    )) as WebAPIError;
    expect(recommendations).toMatchObject({
      status: 404,
      kind: 'withdrawn',
      replacement: undefined,
    });
    expect(recommendations.message).toContain('27 November 2024');
    expect(recommendations.message).toContain('Spotify offers no replacement');
    expect(recommendations.message).toContain('a 404 means what it says');
    // The raw path of a withdrawn operation is named too.
    await expect(api.request('GET', `/playlists/${ID}/tracks`)).rejects.toMatchObject({
      kind: 'withdrawn',
      replacement: 'playlists.items.list',
    });
  });

  it('leaves other errors alone: a live endpoint’s 403, a known 403 kind, a 500', async () => {
    const server = await serve((request) => {
      if (request.url.startsWith('/v1/albums/'))
        return { status: 404, body: { error: { status: 404, message: 'Resource not found' } } };
      if (request.url.startsWith('/v1/tracks'))
        return {
          status: 403,
          body: {
            error: { status: 403, message: 'User not registered in the Developer Dashboard' },
          },
        };
      return { status: 500, body: { error: { status: 500, message: 'Server error' } } };
    });
    const api = client(server, sessionWith({ accessToken: TOKEN }), { autoRetry: false });
    await expect(api.albums.get(ID)).rejects.toMatchObject({ kind: 'other', status: 404 });
    await expect(api.tracks.getSeveral([ID])).rejects.toMatchObject({
      kind: 'user_not_registered',
    });
    await expect(api.markets.list()).rejects.toMatchObject({ kind: 'server_error' });
  });
});

describe('one 429 for every client on the store', () => {
  const tooMany = (seconds: number): Answer => ({
    status: 429,
    headers: { 'retry-after': String(seconds) },
    body: { error: { status: 429, message: 'API rate limit exceeded' } },
  });

  it('a Retry-After over the cap blocks every client on the store: RateLimitError with the remaining seconds, nothing sent', async () => {
    const server = await serve((_, index = 0) => (index === 0 ? tooMany(30) : { body: {} }));
    const store = new MemoryStore({
      tokens: { a: { accessToken: TOKEN }, b: { accessToken: TOKEN } },
    });
    const first = client(server, sessionWith({}, store, 'a'), { retry: { maxRetryAfter: 5 } });
    const second = client(server, sessionWith({}, store, 'b'), { retry: { maxRetryAfter: 5 } });
    const told = await rejection(first.me());
    expect(told).toBeInstanceOf(RateLimitError);
    expect((told as RateLimitError).retryAfter).toBe(30);
    const until = await store.rateLimitedUntil('app-id');
    expect(until).toBeGreaterThan(Date.now() + 28_000);

    for (const api of [second, first]) {
      const blocked = (await rejection(api.albums.get(ID))) as RateLimitError;
      expect(blocked).toBeInstanceOf(RateLimitError);
      expect(blocked.retryAfter).toBeGreaterThanOrEqual(29);
      expect(blocked.retryAfter).toBeLessThanOrEqual(30);
      expect(blocked.message).toMatch(
        /client id app-id\) with a Retry-After that ends in (29|30) s, and every SpotifyWebAPI on the Session's store waits it out: nothing was sent\. Retry after (29|30) s \(it waits up to retry\.maxRetryAfter, 5 s\)\.$/,
      );
    }
    expect(server.seen).toHaveLength(1);
    // autoRetry: false never waits, whatever the cap.
    await expect(
      client(server, sessionWith({}, store, 'b'), {
        autoRetry: false,
        retry: { maxRetryAfter: 60 },
      }).me(),
    ).rejects.toThrow(/\(it does not wait: autoRetry is off, or retry\.maxRetryAfter 0\)\.$/);
    expect(server.seen).toHaveLength(1);
  });

  it('a wait within the cap is waited out, then the request goes', async () => {
    const server = await serve(() => ({ body: { id: 'demo-user' } }));
    const store = new MemoryStore({ tokens: { a: { accessToken: TOKEN } } });
    await store.recordRateLimit('app-id', Date.now() + 300);
    const started = Date.now();
    const api = client(server, sessionWith({}, store, 'a'), { retry: { maxRetryAfter: 1 } });
    expect((await api.me()).id).toBe('demo-user');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(server.seen).toHaveLength(1);
  });

  it('without a store that shares it, the client that was told still waits; a failing store fails no call', async () => {
    const server = await serve((_, index = 0) => (index === 0 ? tooMany(30) : { body: {} }));
    const api = client(server, sessionWith({ accessToken: TOKEN }), {
      retry: { maxRetryAfter: 5 },
    });
    await expect(api.me()).rejects.toBeInstanceOf(RateLimitError);
    await expect(api.me()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(server.seen).toHaveLength(1);

    const broken: TokenStore = {
      get: async () => ({ accessToken: TOKEN }),
      set: async () => {},
      delete: async () => {},
      rateLimitedUntil: async () => {
        throw new StoreError('get', 'app-id');
      },
      recordRateLimit: async () => {
        throw new StoreError('set', 'app-id');
      },
    };
    const other = await serve((_, index = 0) => (index === 0 ? tooMany(30) : { body: {} }));
    const onBroken = client(other, sessionWith({}, broken), { retry: { maxRetryAfter: 5 } });
    await expect(onBroken.me()).rejects.toBeInstanceOf(RateLimitError);
    await expect(onBroken.me()).rejects.toBeInstanceOf(RateLimitError);
    expect(other.seen).toHaveLength(1);
  });
});

describe('ids as Spotify URIs or open.spotify.com links', () => {
  it('sends the id of a URI or link in a path, in ids, and URIs for links in uris', async () => {
    const server = await serve(() => ({ body: {} }));
    const api = client(server, sessionWith({ accessToken: TOKEN }));
    await api.tracks.get(`spotify:track:${ID}`);
    await api.albums.get(`https://open.spotify.com/intl-de/album/${ID}?si=abc`);
    await api.playlists.get(`open.spotify.com/playlist/${ID}`);
    await api.albums.getSeveral([`spotify:album:${ID}`, ID]);
    await api.library.following.contains('artist', [`https://open.spotify.com/artist/${ID}`]);
    await api.tracks.audioFeatures(`spotify:track:${ID}`);
    await api.library.save([`https://open.spotify.com/track/${ID}?si=1`]);
    await api.player.play({ contextUri: `https://open.spotify.com/album/${ID}` });
    expect(server.seen.map((request) => decodeURIComponent(request.url))).toEqual([
      `/v1/tracks/${ID}`,
      `/v1/albums/${ID}`,
      `/v1/playlists/${ID}`,
      `/v1/albums?ids=${ID},${ID}`,
      `/v1/me/following/contains?type=artist&ids=${ID}`,
      `/v1/audio-features/${ID}`,
      `/v1/me/library?uris=spotify:track:${ID}`,
      '/v1/me/player/play',
    ]);
    expect(JSON.parse(server.seen[7]?.body ?? '')).toEqual({ context_uri: `spotify:album:${ID}` });
  });

  it('refuses a URI of another type, naming both, before any request', async () => {
    const server = await serve();
    const api = client(server, sessionWith({ accessToken: TOKEN }));
    expect(() => api.tracks.get(`spotify:album:${ID}`)).toThrow(InvalidArgumentError);
    expect(() => api.tracks.get(`spotify:album:${ID}`)).toThrow(
      /tracks\.get\(\) needs a track id for `id`, but "spotify:album:.*" is an album's/,
    );
    expect(() => api.albums.getSeveral([ID, `spotify:track:${ID}`])).toThrow(
      /albums\.getSeveral\(\) needs an album id for `ids`, but .* is a track's/,
    );
    expect(() =>
      api.library.following.add('user', [`https://open.spotify.com/artist/${ID}`]),
    ).toThrow(/needs a user id/);
    expect(server.seen).toEqual([]);
  });
});

describe('paginate().collect()', () => {
  it('returns the items of every page as an array, up to max', async () => {
    const server = await serve((request) => {
      const offset = Number(new URL(request.url, 'http://x').searchParams.get('offset') ?? 0);
      return {
        body: {
          items: [offset + 1, offset + 2],
          next: offset < 4 ? `https://api.spotify.com/v1/me/tracks?offset=${offset + 2}` : null,
        },
      };
    });
    const api = client(server, sessionWith({ accessToken: TOKEN }));
    const all: number[] = await api.paginate<number>('/me/tracks').collect();
    expect(all).toEqual([1, 2, 3, 4, 5, 6]);
    const some = await api.paginate<number>('/me/tracks').collect({ max: 3 });
    expect(some).toEqual([1, 2, 3]);
    expect(await api.paginate<number>('/me/tracks', { max: 1 }).collect({ max: 5 })).toEqual([1]);
    expect(await api.paginate<number>('/me/tracks').collect({ max: 0 })).toEqual([]);
    expect(server.seen).toHaveLength(3 + 2 + 1);
    await expect(api.paginate('/me/tracks').collect({ max: -1 })).rejects.toThrow(/max/);
  });
});
