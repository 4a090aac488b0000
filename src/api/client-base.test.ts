/**
 * `SpotifyWebAPIBase`: the client without the resource groups and the pager,
 * for small browser bundles. It must behave like `SpotifyWebAPI` for what it
 * has; test/bundle.test.ts checks that its bundles leave the operation table
 * out, and `npm run size` checks the bytes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type SeenRequest,
  startTestServer,
  type TestServer,
} from '../../test/support/web-api-server.js';
import { Session } from '../core/index.js';
import { SpotifyWebAPI, SpotifyWebAPIBase } from './index.js';

const TOKEN = 'BQbase-access-token';
const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('SpotifyWebAPIBase', () => {
  it('has me() and request(), and neither resource groups nor paginate()', () => {
    const api = new SpotifyWebAPIBase();
    expect(typeof api.me).toBe('function');
    expect(typeof api.request).toBe('function');
    for (const name of ['albums', 'player', 'playlists', 'search', 'paginate']) {
      expect(name in api).toBe(false);
    }
  });

  it('is what SpotifyWebAPI extends: same methods, same option checks', () => {
    const full = new SpotifyWebAPI();
    expect(full).toBeInstanceOf(SpotifyWebAPIBase);
    expect(full.me).toBe(SpotifyWebAPIBase.prototype.me);
    // SpotifyWebAPI's request() is the base's, wrapped with the operation table's checks.
    expect(full.request).not.toBe(SpotifyWebAPIBase.prototype.request);
    expect(Object.getPrototypeOf(SpotifyWebAPI.prototype)).toBe(SpotifyWebAPIBase.prototype);
    expect(() => new SpotifyWebAPIBase({ apiUrl: 'http://example.com/v1' })).toThrow(/apiUrl/);
    expect(() => new SpotifyWebAPI({ apiUrl: 'http://example.com/v1' })).toThrow(/apiUrl/);
  });

  it('calls /me with the Session’s token', async () => {
    const seen: SeenRequest[] = [];
    const server = await startTestServer((request) => {
      seen.push(request);
      return { body: { id: 'demo-user', type: 'user' } };
    });
    servers.push(server);
    const session = new Session({ clientId: 'id', tokens: { accessToken: TOKEN } });
    const api = new SpotifyWebAPIBase({ apiUrl: server.apiUrl }, session);
    expect((await api.me()).id).toBe('demo-user');
    expect(seen[0]?.url).toBe('/v1/me');
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });
});
