/**
 * The client's request, error, retry, hook and paging rules against a
 * scripted Web API on a real port (test/support/web-api-server.ts).
 * Refresh against the emulator is in test/e2e/api-refresh.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Answer,
  type SeenRequest,
  startTestServer,
  type TestServer,
} from '../../test/support/web-api-server.js';
import {
  AbortedError,
  ConfigurationError,
  InvalidArgumentError,
  InvalidResponseError,
  isSpotifyError,
  NetworkError,
  RateLimitError,
  SpotifyError,
  TimeoutError,
} from '../core/index.js';
import { SpotifyWebAPI, type SpotifyWebAPIOptions, WebAPIError } from './index.js';

const TOKEN = 'BQtest-access-token';
const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function setup(
  handler: (request: SeenRequest, index: number) => Answer | Promise<Answer>,
  options: SpotifyWebAPIOptions = {},
) {
  const server = await startTestServer(handler);
  servers.push(server);
  const api = new SpotifyWebAPI({
    apiUrl: server.apiUrl,
    retry: { backoff: () => 0 },
    ...options,
  }).setAccessToken(TOKEN);
  return { api, server, seen: server.seen };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('requests', () => {
  it('sends the bearer token and returns the JSON answer', async () => {
    const { api, seen } = await setup(() => ({ body: { id: 'demo-user', type: 'user' } }));
    const me = await api.me();
    expect(me.id).toBe('demo-user');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.url).toBe('/v1/me');
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('encodes query values: lists comma-joined, booleans as text, undefined left out', async () => {
    const { api, seen } = await setup(() => ({ body: {} }));
    await api.request('GET', '/tracks', {
      query: { ids: ['a', 'b', 3], limit: 20, public: false, offset: undefined },
    });
    const url = new URL(`http://x${seen[0]?.url}`);
    expect(url.pathname).toBe('/v1/tracks');
    expect([...url.searchParams]).toEqual([
      ['ids', 'a,b,3'],
      ['limit', '20'],
      ['public', 'false'],
    ]);
  });

  it('fills the default market where the operation takes one, and a call’s own market wins', async () => {
    const { api, seen } = await setup(() => ({ body: {} }), { market: 'SE' });
    await api.request('GET', '/albums/x', { query: { market: undefined } });
    await api.request('GET', '/albums/x', { query: { market: 'US' } });
    await api.request('GET', '/me');
    expect(seen.map((request) => request.url)).toEqual([
      '/v1/albums/x?market=SE',
      '/v1/albums/x?market=US',
      '/v1/me',
    ]);
  });

  it('sends the default market from generated methods whose operation takes one, and only there', async () => {
    const { api, seen } = await setup(
      (request) => ({ status: request.method === 'PUT' ? 204 : 200, body: {} }),
      {
        market: 'SE',
      },
    );
    await api.albums.get('a1');
    await api.tracks.get('t1');
    await api.search('abba', 'track', { limit: 1 });
    await api.playlists.items.list('p1');
    await api.player.state();
    await api.player.pause();
    await api.me();
    await api.users.me();
    await api.users.topTracks();
    await api.playlists.mine();
    expect(seen.map((request) => request.url)).toEqual([
      '/v1/albums/a1?market=SE',
      '/v1/tracks/t1?market=SE',
      '/v1/search?q=abba&type=track&market=SE&limit=1',
      '/v1/playlists/p1/items?market=SE',
      '/v1/me/player?market=SE',
      '/v1/me/player/pause',
      '/v1/me',
      '/v1/me',
      '/v1/me/top/tracks',
      '/v1/me/playlists',
    ]);
  });

  it('lets a call’s own market win over the default, and sends none without a default', async () => {
    const { api, seen } = await setup(() => ({ body: {} }), { market: 'SE' });
    await api.albums.get('a1', { market: 'US' });
    await api.search('abba', ['album'], { market: 'from_token' });
    await api.albums.get('a1', { market: undefined });
    const plain = await setup(() => ({ body: {} }));
    await plain.api.albums.get('a1');
    await plain.api.tracks.get('t1', { market: 'DE' });
    expect(seen.map((request) => request.url)).toEqual([
      '/v1/albums/a1?market=US',
      '/v1/search?q=abba&type=album&market=from_token',
      '/v1/albums/a1?market=SE',
    ]);
    expect(plain.seen.map((request) => request.url)).toEqual([
      '/v1/albums/a1',
      '/v1/tracks/t1?market=DE',
    ]);
  });

  it('sends objects as JSON and strings as they are', async () => {
    const { api, seen } = await setup(() => ({ status: 201, body: { snapshot_id: 's1' } }));
    const answer = await api.request('POST', '/playlists/p1/items', {
      body: { uris: ['spotify:track:1'], position: 0 },
    });
    expect(answer).toEqual({ snapshot_id: 's1' });
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ uris: ['spotify:track:1'], position: 0 });

    await api.request('PUT', '/playlists/p1/images', {
      body: '/9j/4AAQ',
      headers: { 'Content-Type': 'image/jpeg' },
    });
    expect(seen[1]?.headers['content-type']).toBe('image/jpeg');
    expect(seen[1]?.body).toBe('/9j/4AAQ');
  });

  it('never crashes on 204, empty or plain-text 2xx bodies', async () => {
    const answers: Answer[] = [
      { status: 204 },
      { status: 200, body: '' },
      { status: 200, body: 'AAAAAbcSnapshotId', headers: { 'content-type': 'text/plain' } },
      { status: 202, body: 'not { json', headers: { 'content-type': 'application/json' } },
    ];
    const { api } = await setup((_request, index) => answers[index] ?? {});
    expect(await api.request('PUT', '/me/player/pause')).toBeUndefined();
    expect(await api.request('GET', '/me/player')).toBeUndefined();
    expect(await api.request('PUT', '/playlists/p1/items')).toBe('AAAAAbcSnapshotId');
    expect(await api.request('POST', '/me/player/next')).toBe('not { json');
  });

  it('accepts a full URL under apiUrl and refuses any other host (the token never leaves)', async () => {
    const { api, server, seen } = await setup(() => ({ body: { ok: true } }));
    expect(await api.request('GET', `${server.apiUrl}/me?fields=id`)).toEqual({ ok: true });
    expect(seen[0]?.url).toBe('/v1/me?fields=id');
    for (const path of ['me', '//evil.example/v1/me', 'https://evil.example/v1/me']) {
      const error = await rejection(api.request('GET', path));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe('path');
    }
    expect(seen).toHaveLength(1);
  });

  it('refuses unusable options and calls with a clear error', async () => {
    expect(() => new SpotifyWebAPI({ apiUrl: 'http://api.example.com/v1' })).toThrow(
      ConfigurationError,
    );
    expect(() => new SpotifyWebAPI({ timeout: 0 })).toThrow(/timeout/);
    expect(() => new SpotifyWebAPI({ market: 'sweden' })).toThrow(/market/);
    expect(() => new SpotifyWebAPI({ retry: { limit: -1 } })).toThrow(/retry\.limit/);
    expect(() => new SpotifyWebAPI({ hooks: { beforeRequest: ['x' as never] } })).toThrow(
      /hooks\.beforeRequest/,
    );
    expect(() => new SpotifyWebAPI().setAccessToken('two words')).toThrow(InvalidArgumentError);
    const noToken = await rejection(new SpotifyWebAPI().me());
    expect(noToken).toBeInstanceOf(ConfigurationError);
    expect((noToken as Error).message).toMatch(/setAccessToken/);
    const api = new SpotifyWebAPI().setAccessToken(TOKEN);
    await expect(api.request('PATCH' as never, '/me')).rejects.toThrow(/GET, POST, PUT or DELETE/);
    await expect(api.me({ signal: 'soon' as never })).rejects.toThrow(/AbortSignal/);
  });

  it('keeps its own methods next to the resource groups', () => {
    const api = new SpotifyWebAPI();
    for (const name of ['request', 'me', 'paginate', 'setSession', 'setAccessToken'] as const) {
      expect(api[name]).toBe(SpotifyWebAPI.prototype[name]);
    }
    for (const group of ['albums', 'artists', 'library', 'player', 'playlists', 'users'] as const) {
      expect(typeof api[group]).toBe('object');
    }
    expect(typeof api.search).toBe('function');
  });

  it('exposes the generated resource groups, which call through the client', async () => {
    const { api, seen } = await setup(() => ({ body: { id: '4aaw', name: 'An album' } }));
    const album = await api.albums.get('4aaw');
    expect(album.name).toBe('An album');
    expect(seen[0]?.url).toBe('/v1/albums/4aaw');
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });
});

describe('errors', () => {
  const cases: Array<[string, Answer, Partial<WebAPIError>]> = [
    [
      '401 any token problem',
      {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="spotify", error="invalid_token"' },
        body: { error: { status: 401, message: 'Missing/invalid/expired access token' } },
      },
      { kind: 'invalid_token', status: 401, message: 'Missing/invalid/expired access token' },
    ],
    [
      '400 malformed bearer',
      {
        status: 400,
        body: { error: { status: 400, message: 'Only valid bearer authentication supported' } },
      },
      { kind: 'malformed_authorization', status: 400 },
    ],
    [
      '403 missing scope',
      { status: 403, body: { error: { status: 403, message: 'Insufficient client scope' } } },
      { kind: 'insufficient_scope', status: 403 },
    ],
    [
      '403 user not allowlisted in Development Mode',
      {
        status: 403,
        body: {
          error: { status: 403, message: 'User not registered in the Developer Dashboard' },
        },
      },
      { kind: 'user_not_registered', status: 403 },
    ],
    [
      '403 owner without Premium',
      {
        status: 403,
        body: {
          error: {
            status: 403,
            message:
              'Active premium subscription required for the owner of the app. When the subscription status changes, it can take a few hours before requests are allowed again.',
          },
        },
      },
      { kind: 'owner_premium_required', status: 403 },
    ],
    [
      '404 player reason',
      {
        status: 404,
        body: {
          error: {
            status: 404,
            message: 'Player command failed: No active device found',
            reason: 'NO_ACTIVE_DEVICE',
          },
        },
      },
      { kind: 'player', status: 404, reason: 'NO_ACTIVE_DEVICE' },
    ],
    [
      '403 player reason',
      {
        status: 403,
        body: {
          error: {
            status: 403,
            message: 'Player command failed: Restriction violated',
            reason: 'UNKNOWN',
          },
        },
      },
      { kind: 'player', status: 403, reason: 'UNKNOWN' },
    ],
    [
      '501 not implemented (not retried)',
      { status: 501, body: { error: { status: 501, message: 'Not implemented' } } },
      { kind: 'server_error', status: 501 },
    ],
    [
      '404 with an HTML body',
      { status: 404, body: '<html>nope</html>', headers: { 'content-type': 'text/html' } },
      {
        kind: 'other',
        status: 404,
        message: 'Spotify answered HTTP 404',
        body: '<html>nope</html>',
      },
    ],
  ];

  it.each(cases)('%s → WebAPIError with a typed kind', async (_name, answer, expected) => {
    const { api, seen } = await setup(() => answer);
    const error = await rejection(api.request('GET', '/me/player/x'));
    expect(error).toBeInstanceOf(WebAPIError);
    expect(error).toBeInstanceOf(SpotifyError);
    expect(isSpotifyError(error, 'WEB_API_ERROR')).toBe(true);
    expect(error).toMatchObject({ ...expected, code: 'WEB_API_ERROR', method: 'GET' });
    const webError = error as WebAPIError;
    expect(webError.path).toBe('/me/player/x');
    expect(webError.response).toBeInstanceOf(Response);
    expect(webError.response?.status).toBe(expected.status);
    expect(Object.keys(webError)).not.toContain('response');
    expect(JSON.stringify(webError)).not.toContain(TOKEN);
    expect(seen).toHaveLength(1);
  });

  it('a bare token that gets 401 is not refreshed or retried', async () => {
    const { api, seen } = await setup(() => ({
      status: 401,
      body: { error: { status: 401, message: 'The access token expired' } },
    }));
    await expect(api.me()).rejects.toMatchObject({ kind: 'invalid_token' });
    expect(seen).toHaveLength(1);
  });
});

describe('redirects (Spotify’s Web API never redirects)', () => {
  it('a same-origin redirect is not followed: the token never reaches the other path', async () => {
    const { api, seen } = await setup((request) =>
      request.url === '/v1/me' ? { status: 302, headers: { location: '/v1/elsewhere?x=1' } } : {},
    );
    const error = await rejection(api.me());
    expect(error).toBeInstanceOf(WebAPIError);
    expect(error).toMatchObject({ kind: 'redirect', status: 302, method: 'GET', path: '/me' });
    expect((error as Error).message).toMatch(/Spotify never redirects/);
    expect((error as Error).message).toMatch(/apiUrl/);
    expect((error as Error).message).not.toMatch(/x=1/);
    expect(seen.map((request) => request.url)).toEqual(['/v1/me']);
  });

  it('a cross-origin 307 never re-sends the POST body elsewhere, hooks or not', async () => {
    const other = await startTestServer(() => ({ body: { snapshot_id: 'from-elsewhere' } }));
    servers.push(other);
    for (const hooks of [{}, { afterResponse: [() => undefined] }]) {
      const { api, seen } = await setup(
        () => ({ status: 307, headers: { location: `${other.apiUrl}/playlists/p/items` } }),
        { hooks },
      );
      const error = await rejection(
        api.request('POST', '/playlists/p/items', { body: { uris: ['spotify:track:x'] } }),
      );
      expect(error).toMatchObject({ kind: 'redirect', status: 307, code: 'WEB_API_ERROR' });
      expect(seen).toHaveLength(1);
    }
    expect(other.seen).toHaveLength(0);
  });

  it('a browser’s opaque redirect (status 0) is the same error', async () => {
    const opaque = Response.error();
    Object.defineProperty(opaque, 'type', { value: 'opaqueredirect' });
    const api = new SpotifyWebAPI({
      apiUrl: 'http://127.0.0.1:9/v1',
      fetch: async (_url, init) => {
        expect(init.redirect).toBe('manual');
        return opaque;
      },
    }).setAccessToken(TOKEN);
    await expect(api.me()).rejects.toMatchObject({ kind: 'redirect', status: 0 });
  });

  it('304 Not Modified (a conditional request) stays what it was: kind other', async () => {
    const { api } = await setup(() => ({ status: 304 }));
    await expect(
      api.request('GET', '/me', { headers: { 'if-none-match': '"abc"' } }),
    ).rejects.toMatchObject({ kind: 'other', status: 304 });
  });
});

describe('paths stay under apiUrl', () => {
  const escaping = [
    '/../__emulator/stats',
    '/%2e%2e/__emulator/stats',
    '/%2E%2E/__emulator/reset',
    '/.%2e/x',
    '/%2e./x',
    '/me/../../x',
    '/me/./player',
    '/me/%2e/player',
    '/albums/..',
    '/albums/..%2f..%2fx',
    '/albums\\..\\..\\x',
    '/me\\player',
    '/.\t./x',
    '/%2e\n%2e/x',
  ];

  it.each(escaping)('refuses %j before sending anything', async (path) => {
    const { api, server, seen } = await setup(() => ({ body: {} }));
    for (const candidate of [path, `${server.apiUrl}${path}`]) {
      const error = await rejection(api.request('POST', candidate));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ argument: 'path' });
      expect((error as Error).message).toMatch(/could leave .*encodeURIComponent/);
    }
    expect(seen).toHaveLength(0);
  });

  it('keeps dots that are not whole segments, and dots in the query', async () => {
    const { api, seen } = await setup(() => ({ body: {} }));
    await api.request('GET', '/users/john.doe/playlists');
    await api.request('GET', '/users/.../playlists');
    await api.request('GET', '/search', { query: { q: '../..' } });
    await api.request('GET', '/search?q=../x');
    expect(seen.map((request) => request.url)).toEqual([
      '/v1/users/john.doe/playlists',
      '/v1/users/.../playlists',
      '/v1/search?q=..%2F..',
      '/v1/search?q=../x',
    ]);
  });

  it('an id substituted into an operation cannot leave its segment', async () => {
    const { api, seen } = await setup(() => ({ body: {} }));
    for (const call of [
      () => api.albums.get('..'),
      () => api.artists.albums('.'),
      () => api.users.get('..'),
      () => api.playlists.ofUser('.'),
      // encodeURIComponent keeps the dots: `a%2F..%2Fb`, a dot segment to a server that
      // decodes the slash before resolving.
      () => api.albums.get('a/../b'),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'path' });
    }
    expect(seen).toHaveLength(0);
    // Encoded by the client, so the server sees text, not a dot segment.
    await api.albums.get('%2e%2e');
    await api.albums.get('a/b.c');
    expect(seen.map((request) => request.url)).toEqual([
      '/v1/albums/%252e%252e',
      '/v1/albums/a%2Fb.c',
    ]);
  });

  it('refuses a next link with dot segments, or off the API’s base path', async () => {
    for (const link of [
      (base: string) => `${base}/../__emulator/stats`,
      (base: string) => `${base}/me/tracks/%2e%2e/%2e%2e/x`,
      () => 'https://api.spotify.com/v1/../x',
      () => 'https://api.spotify.com/v1/me/%2E%2e/x',
      (base: string) => `${new URL(base).origin}/other/me/tracks`,
      (base: string) => `${base.replace('127.0.0.1', 'localhost')}/me/tracks`,
    ]) {
      let base = '';
      const { api, server, seen } = await setup(() => ({ body: { items: [1], next: link(base) } }));
      base = server.apiUrl;
      const collected: unknown[] = [];
      const error = await rejection(
        (async () => {
          for await (const item of api.paginate('/me/tracks')) collected.push(item);
        })(),
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(collected).toEqual([1]);
      expect(seen).toHaveLength(1);
    }
  });
});

describe('retries', () => {
  const rateLimited = (seconds: string, reason?: string): Answer => ({
    status: 429,
    headers: { 'retry-after': seconds },
    body: {
      error: { status: 429, message: 'API rate limit exceeded', ...(reason ? { reason } : {}) },
    },
  });

  it('429 within the cap: waits Retry-After, then retries', async () => {
    const { api, seen } = await setup((_r, index) =>
      index === 0 ? rateLimited('1') : { body: { id: 'u' } },
    );
    const started = performance.now();
    expect(await api.me()).toEqual({ id: 'u' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen).toHaveLength(2);
  });

  it('429 over the cap: RateLimitError at once, with retryAfter and Spotify’s error as cause', async () => {
    const { api, seen } = await setup(() => rateLimited('3600'));
    const started = performance.now();
    const error = await rejection(api.me());
    expect(performance.now() - started).toBeLessThan(5_000); // no wait: the cap is 60 s
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfter: 3600, code: 'RATE_LIMITED' });
    expect((error as RateLimitError).headers.get('retry-after')).toBe('3600');
    expect((error as Error).cause).toBeInstanceOf(WebAPIError);
    expect(seen).toHaveLength(1);
  });

  it('429 with QUOTA_EXCEEDED keeps the reason on the cause', async () => {
    const { api } = await setup(() => rateLimited('86400', 'QUOTA_EXCEEDED'));
    const error = (await rejection(api.me())) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.cause).toMatchObject({ kind: 'rate_limited', reason: 'QUOTA_EXCEEDED' });
  });

  it('429 on every attempt: retries `limit` times, then RateLimitError', async () => {
    const { api, seen } = await setup(() => rateLimited('0'), { retry: { limit: 3 } });
    await expect(api.request('POST', '/me/player/next')).rejects.toBeInstanceOf(RateLimitError);
    expect(seen).toHaveLength(4);
  });

  it('a custom maxRetryAfter is the cap', async () => {
    const { api, seen } = await setup(() => rateLimited('2'), { retry: { maxRetryAfter: 1 } });
    await expect(api.me()).rejects.toMatchObject({ retryAfter: 2 });
    expect(seen).toHaveLength(1);
  });

  it('autoRetry: false throws at the first 429 and 5xx', async () => {
    const { api, seen } = await setup(
      (_r, index) => (index === 0 ? rateLimited('0') : { status: 503 }),
      {
        autoRetry: false,
      },
    );
    await expect(api.me()).rejects.toBeInstanceOf(RateLimitError);
    await expect(api.me()).rejects.toMatchObject({ kind: 'server_error', status: 503 });
    expect(seen).toHaveLength(2);
  });

  it('5xx is retried for GET, PUT and DELETE with backoff, never for POST', async () => {
    const delays: number[] = [];
    const { api, seen } = await setup(
      (request) =>
        request.url.endsWith('ok') && seen.filter((r) => r.url === request.url).length > 2
          ? { status: 200, body: { done: true } }
          : { status: 503, body: { error: { status: 503, message: 'Service unavailable' } } },
      {
        retry: {
          limit: 2,
          backoff: (retry) => {
            delays.push(retry);
            return 1;
          },
        },
      },
    );
    expect(await api.request('GET', '/get-ok')).toEqual({ done: true });
    expect(delays).toEqual([1, 2]);
    expect(await api.request('PUT', '/put-ok')).toEqual({ done: true });
    expect(await api.request('DELETE', '/delete-ok')).toEqual({ done: true });
    await expect(api.request('GET', '/get-fails')).rejects.toMatchObject({ status: 503 });
    expect(seen.filter((r) => r.url === '/v1/get-fails')).toHaveLength(3);
    await expect(api.request('POST', '/post-ok')).rejects.toMatchObject({ status: 503 });
    expect(seen.filter((r) => r.url === '/v1/post-ok')).toHaveLength(1);
  });

  it('a dropped connection is retried for GET, not for POST', async () => {
    const { api, seen } = await setup((request) =>
      seen.filter((r) => r.url === request.url).length === 1 ? { drop: true } : { body: { ok: 1 } },
    );
    expect(await api.request('GET', '/a')).toEqual({ ok: 1 });
    expect(seen.filter((r) => r.url === '/v1/a')).toHaveLength(2);
    await expect(api.request('POST', '/b')).rejects.toBeInstanceOf(NetworkError);
    expect(seen.filter((r) => r.url === '/v1/b')).toHaveLength(1);
  });

  it('aborting ends a Retry-After wait at once', async () => {
    const { api, seen } = await setup(() => rateLimited('30'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user left')), 100);
    const started = performance.now();
    const error = await rejection(api.me({ signal: controller.signal }));
    expect(performance.now() - started).toBeLessThan(10_000); // not the 30 s Retry-After
    expect(error).toBeInstanceOf(AbortedError);
    expect(seen).toHaveLength(1);
  });

  it('aborting ends a backoff wait and a request in flight', async () => {
    const { api } = await setup(() => ({ status: 503 }), { retry: { backoff: () => 30_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(api.request('GET', '/x', { signal: controller.signal })).rejects.toBeInstanceOf(
      AbortedError,
    );
    const slow = await setup(() => ({ delay: 5000, body: {} }));
    const inFlight = new AbortController();
    setTimeout(() => inFlight.abort(), 100);
    await expect(slow.api.me({ signal: inFlight.signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it('a timeout is per attempt and not retried', async () => {
    const { api, seen } = await setup(() => ({ delay: 2000, body: {} }), { timeout: 100 });
    await expect(api.me()).rejects.toBeInstanceOf(TimeoutError);
    expect(seen).toHaveLength(1);
  });
});

describe('hooks', () => {
  it('beforeRequest can change the request; afterResponse sees every answer', async () => {
    const seenByHook: Array<[string, number, string]> = [];
    const { api, seen } = await setup(
      (_r, index) => (index === 0 ? { status: 503 } : { body: { id: 'u' } }),
      {
        hooks: {
          beforeRequest: [
            (request) => {
              request.headers.set('x-trace', 'abc');
            },
          ],
          afterResponse: [
            async (request, response) => {
              seenByHook.push([request.method, response.status, await response.text()]);
            },
          ],
        },
      },
    );
    expect(await api.me()).toEqual({ id: 'u' });
    expect(seen.map((r) => r.headers['x-trace'])).toEqual(['abc', 'abc']);
    expect(seenByHook).toEqual([
      ['GET', 503, ''],
      ['GET', 200, '{"id":"u"}'],
    ]);
  });

  it('a hook may answer instead of the network, or replace the answer', async () => {
    const { api, seen } = await setup(() => ({ body: { from: 'server' } }), {
      hooks: {
        beforeRequest: [
          (request) =>
            request.url.endsWith('/cached') ? Response.json({ from: 'cache' }) : undefined,
        ],
        afterResponse: [
          (_request, response) =>
            response.status === 200 ? undefined : Response.json({ replaced: true }),
        ],
      },
    });
    expect(await api.request('GET', '/cached')).toEqual({ from: 'cache' });
    expect(seen).toHaveLength(0);
    expect(await api.request('POST', '/fresh', { body: { a: 1 } })).toEqual({ from: 'server' });
    expect(seen[0]?.body).toBe('{"a":1}');
  });
});

describe('paginate', () => {
  function pages(apiUrl: () => string, total: number, pageSize = 3) {
    return (request: SeenRequest): Answer => {
      const url = new URL(`http://x${request.url}`);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? pageSize);
      const items = Array.from(
        { length: Math.max(0, Math.min(limit, total - offset)) },
        (_, i) => ({
          n: offset + i,
        }),
      );
      const next =
        offset + limit < total
          ? `${apiUrl()}/me/tracks?offset=${offset + limit}&limit=${limit}`
          : null;
      return { body: { href: request.url, items, limit, offset, total, next, previous: null } };
    };
  }

  it('walks offset pages to the end', async () => {
    let base = '';
    const { api, server, seen } = await setup((request) => pages(() => base, 10)(request));
    base = server.apiUrl;
    const items: unknown[] = [];
    for await (const item of api.paginate<{ n: number }>('/me/tracks', { query: { limit: 3 } })) {
      items.push(item.n);
    }
    expect(items).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen).toHaveLength(4);
  });

  it('stops at max, and starts from a page a generated method returned', async () => {
    let base = '';
    const { api, server, seen } = await setup((request) => pages(() => base, 100)(request));
    base = server.apiUrl;
    const items: number[] = [];
    const first = api.request<{ items: { n: number }[]; next: string | null }>('GET', '/me/tracks');
    for await (const item of api.paginate(first, { max: 7 })) items.push(item.n);
    expect(items).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(seen).toHaveLength(3);
  });

  it('walks a search for one type, typed from the answer (a page under one key)', async () => {
    const { api, seen } = await setup((request) => ({
      body: {
        tracks: {
          href: request.url,
          items: request.url.includes('offset=1')
            ? [{ name: 'second', type: 'track' }]
            : [{ name: 'first', type: 'track' }],
          limit: 1,
          offset: 0,
          total: 2,
          previous: null,
          next: request.url.includes('offset=1')
            ? null
            : 'https://api.spotify.com/v1/search?q=abba&type=track&offset=1&limit=1',
        },
      },
    }));
    const names: (string | undefined)[] = [];
    for await (const item of api.paginate(api.search('abba', 'track', { limit: 1 }))) {
      // @ts-expect-error items are typed from SearchItems' pages, not `any`
      item.notAField;
      names.push(item.name);
    }
    expect(names).toEqual(['first', 'second']);
    expect(seen.map((r) => r.url)).toEqual([
      '/v1/search?q=abba&type=track&limit=1',
      '/v1/search?q=abba&type=track&offset=1&limit=1',
    ]);
  });

  it('follows cursor pages wrapped under one key, rebasing api.spotify.com links', async () => {
    const { api, seen } = await setup((request) => {
      const after = new URL(`http://x${request.url}`).searchParams.get('after');
      const start = after === null ? 0 : Number(after);
      const items = [{ id: `a${start}` }, { id: `a${start + 1}` }];
      const nextAfter = start + 2;
      return {
        body: {
          artists: {
            href: request.url,
            items,
            limit: 2,
            cursors: { after: String(nextAfter) },
            next:
              nextAfter < 6
                ? `https://api.spotify.com/v1/me/following?type=artist&after=${nextAfter}&limit=2`
                : null,
          },
        },
      };
    });
    const ids: string[] = [];
    for await (const artist of api.paginate<{ id: string }>('/me/following', {
      query: { type: 'artist', limit: 2 },
    })) {
      ids.push(artist.id);
    }
    expect(ids).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect(seen.map((r) => r.url)).toEqual([
      '/v1/me/following?type=artist&limit=2',
      '/v1/me/following?type=artist&after=2&limit=2',
      '/v1/me/following?type=artist&after=4&limit=2',
    ]);
  });

  it('refuses a next link to another host and a link that repeats', async () => {
    const { api } = await setup(() => ({
      body: { items: [1], next: 'https://evil.example/v1/me/tracks?offset=1' },
    }));
    const collected: unknown[] = [];
    await expect(async () => {
      for await (const item of api.paginate('/me/tracks')) collected.push(item);
    }).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(collected).toEqual([1]);

    let base = '';
    const loop = await setup(() => ({ body: { items: [1], next: `${base}/me/tracks?offset=0` } }));
    base = loop.server.apiUrl;
    await expect(async () => {
      for await (const _item of loop.api.paginate('/me/tracks')) {
        // drain
      }
    }).rejects.toBeInstanceOf(InvalidResponseError);
    expect(loop.seen).toHaveLength(2);
  });

  it('refuses a bad max at once', () => {
    const api = new SpotifyWebAPI().setAccessToken(TOKEN);
    expect(() => api.paginate('/me/tracks', { max: -1 })).toThrow(InvalidArgumentError);
  });

  it('stops when the caller’s signal aborts between pages', async () => {
    let base = '';
    const { api, server, seen } = await setup((request) => pages(() => base, 100)(request));
    base = server.apiUrl;
    const controller = new AbortController();
    const items: number[] = [];
    await expect(async () => {
      for await (const item of api.paginate<{ n: number }>('/me/tracks', {
        signal: controller.signal,
      })) {
        items.push(item.n);
        if (item.n === 4) controller.abort();
      }
    }).rejects.toBeInstanceOf(AbortedError);
    expect(items).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen).toHaveLength(2);
  });
});
