/**
 * Spotify's official TypeScript SDK (`@spotify/web-api-ts-sdk`) against the
 * emulator: a real client agreeing with our Web API. The SDK has a fixed
 * base URL (`https://api.spotify.com/v1/`) but takes a `fetch`: ours
 * rewrites that origin to the emulator's and records what was asked.
 */
import { type AccessToken, SpotifyApi } from '@spotify/web-api-ts-sdk';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { userToken } from '../../src/emulator/_test-http.js';
import { createEmulator, DEMO_APP, type EmulatorServer } from '../../src/emulator/index.js';

const SPOTIFY_API = 'https://api.spotify.com';
const TRACK = 'emuTrack00000000000001';
const MIX = 'emuPlaylist00000000001';
const SCOPES = ['user-read-private', 'playlist-read-private'];

let devServer: EmulatorServer;
let extendedServer: EmulatorServer;

beforeAll(async () => {
  devServer = await createEmulator().listen();
  // The same demo app, with extended quota: withdrawn endpoints still answer it.
  extendedServer = await createEmulator({ apps: [{ ...DEMO_APP, extendedQuota: true }] }).listen();
});
afterAll(async () => {
  await devServer?.close();
  await extendedServer?.close();
});

/** The SDK, logged in as `demo-user`, talking to `server`; `urls` collects every URL it fetched. */
async function sdkFor(server: EmulatorServer, urls: string[]): Promise<SpotifyApi> {
  const { accessToken, refreshToken } = await userToken(server.url, SCOPES);
  const token: AccessToken = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: refreshToken,
  };
  return SpotifyApi.withAccessToken(DEMO_APP.clientId, token, {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => {
      const original = input instanceof Request ? input.url : String(input);
      if (!original.startsWith(`${SPOTIFY_API}/`)) throw new Error(`unexpected URL ${original}`);
      const url = server.url + original.slice(SPOTIFY_API.length);
      urls.push(url);
      return fetch(url, init);
    },
  });
}

describe('@spotify/web-api-ts-sdk against the emulator', () => {
  test('reads /me, a track and a playlist', async () => {
    const urls: string[] = [];
    const sdk = await sdkFor(devServer, urls);
    const me = await sdk.currentUser.profile();
    expect(me).toMatchObject({ id: 'demo-user', display_name: 'Demo User', type: 'user' });
    const track = await sdk.tracks.get(TRACK);
    expect(track).toMatchObject({
      id: TRACK,
      name: '127.0.0.1',
      album: { name: 'Localhost Sessions' },
    });
    expect(track.artists[0]?.name).toBe('The Emulators');
    const playlist = await sdk.playlists.getPlaylist(MIX);
    expect(playlist).toMatchObject({ id: MIX, name: 'Emulator Mix', owner: { id: 'demo-user' } });
    expect(urls).toEqual([
      `${devServer.url}/v1/me`,
      `${devServer.url}/v1/tracks/${TRACK}`,
      `${devServer.url}/v1/playlists/${MIX}`,
    ]);
  });

  test('its playlist items call uses the withdrawn /tracks path: 403 in Development Mode, as on Spotify', async () => {
    const sdk = await sdkFor(devServer, []);
    await expect(sdk.playlists.getPlaylistItems(MIX)).rejects.toThrow(
      /"status":403,"message":"Forbidden"/,
    );
  });

  test('an app with extended quota reads the playlist items through the SDK', async () => {
    const urls: string[] = [];
    const sdk = await sdkFor(extendedServer, urls);
    const page = await sdk.playlists.getPlaylistItems(MIX, undefined, undefined, 5);
    expect(page).toMatchObject({ total: 9, limit: 5, offset: 0, previous: null });
    expect(page.items).toHaveLength(5);
    expect(page.items[0]?.track).toMatchObject({ id: TRACK, type: 'track' });
    expect(typeof page.next).toBe('string');
    const rest = await sdk.playlists.getPlaylistItems(MIX, undefined, undefined, 5, 5);
    expect(rest.items).toHaveLength(4);
    expect(rest.next).toBeNull();
    expect(rest.items[3]?.track).toMatchObject({ type: 'episode' });
    const playlist = await sdk.playlists.getPlaylist(MIX);
    expect(playlist.tracks.total).toBe(9);
    expect(urls[0]).toBe(`${extendedServer.url}/v1/playlists/${MIX}/tracks?limit=5`);
  });
});
