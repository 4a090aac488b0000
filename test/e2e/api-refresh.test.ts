/**
 * SpotifyWebAPI's automatic refresh end to end: a real Session and the
 * emulator's Accounts service (token requests counted by the emulator) and
 * its Web API on the same port, over real HTTP on 127.0.0.1.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SpotifyWebAPI, WebAPIError } from '../../src/api/index.js';
import {
  AbortedError,
  NoRefreshTokenError,
  RefreshTokenRevokedError,
  Session,
  type SessionTokens,
  type TokensEvent,
} from '../../src/core/index.js';
import {
  createEmulator,
  DEMO_APP,
  type Emulator,
  type EmulatorOptions,
  type EmulatorServer,
} from '../../src/emulator/index.js';

const REDIRECT_URI = 'http://127.0.0.1:8888/callback';
const SCOPES = ['user-read-private', 'user-read-email', 'playlist-read-private'];
const CONCURRENCY = 1000;
/** Per-request deadline (ms) and test timeout for the stampede tests. */
const SLOW = 120_000;
/** The emulator's first demo album. */
const ALBUM_ID = 'emuAlbum00000000000001';

interface Running {
  emulator: Emulator;
  server: EmulatorServer;
  apiUrl: string;
}

const running: Array<{ close(): Promise<void> }> = [];

afterAll(async () => {
  await Promise.all(running.map((entry) => entry.close()));
});

async function start(options: EmulatorOptions = {}): Promise<Running> {
  const emulator = createEmulator({ autoApprove: true, ...options });
  const server = await emulator.listen({ port: 0, host: '127.0.0.1' });
  running.push(server);
  return { emulator, server, apiUrl: `${server.url}/v1` };
}

async function loggedIn(
  { server }: Running,
  onTokens?: (tokens: SessionTokens, event: TokensEvent) => void,
): Promise<Session> {
  const session = new Session({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUri: REDIRECT_URI,
    accountsUrl: server.url,
    // A thousand calls queue up behind each other on a shared 2-core machine: these tests
    // count requests, they do not time them.
    timeout: SLOW,
    ...(onTokens === undefined ? {} : { onTokens }),
  });
  const state = Session.generateState();
  const response = await fetch(session.getAuthorizeUrl({ scope: SCOPES, state }), {
    redirect: 'manual',
  });
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (location === null) throw new Error('the emulator did not redirect');
  await session.requestAccessToken(session.getCodeFromCallback(location, state));
  return session;
}

function refreshCount(emulator: Emulator): number {
  return emulator.stats().grants.refresh_token ?? 0;
}

function meRequests(emulator: Emulator): number {
  return emulator.stats().requests['GET /v1/me'] ?? 0;
}

describe('proactive refresh (the token expires within the skew)', () => {
  it('refreshes before the call, once, and the call uses the new token', async () => {
    const running = await start({ accessTokenLifetime: 30 }); // inside the 60 s skew at once
    const session = await loggedIn(running);
    const before = session.getAccessToken();
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, timeout: SLOW }, session);
    const me = await api.me();
    expect(me.id).toBe('demo-user');
    expect(refreshCount(running.emulator)).toBe(1);
    expect(session.getAccessToken()).not.toBe(before);
    expect(meRequests(running.emulator)).toBe(1); // no 401 round trip
  });

  it(`${CONCURRENCY} concurrent calls on an expiring token → exactly one token request`, {
    timeout: SLOW * 2,
  }, async () => {
    const running = await start({ accessTokenLifetime: 30 });
    const session = await loggedIn(running);
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, timeout: SLOW }, session);
    const results = await Promise.all(Array.from({ length: CONCURRENCY }, () => api.me()));
    expect(results.every((me) => me.id === 'demo-user')).toBe(true);
    expect(refreshCount(running.emulator)).toBe(1);
  });
});

describe('reactive refresh (HTTP 401 on a token the client believed valid)', () => {
  it('401 → one refresh → one retry', async () => {
    const running = await start();
    const session = await loggedIn(running);
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, timeout: SLOW }, session);
    // The emulator's clock moves on; the client's does not: only the 401 tells.
    running.emulator.advanceClock(3601);
    const me = await api.me();
    expect(me.id).toBe('demo-user');
    expect(refreshCount(running.emulator)).toBe(1);
    expect(meRequests(running.emulator)).toBe(2);
  });

  it(`${CONCURRENCY} concurrent 401s → exactly one token request, every call succeeds`, {
    timeout: SLOW * 2,
  }, async () => {
    const running = await start();
    const session = await loggedIn(running);
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, timeout: SLOW }, session);
    running.emulator.advanceClock(3601);
    const results = await Promise.all(Array.from({ length: CONCURRENCY }, () => api.me()));
    expect(results.every((me) => me.id === 'demo-user')).toBe(true);
    expect(refreshCount(running.emulator)).toBe(1);
    expect(meRequests(running.emulator)).toBe(2 * CONCURRENCY);
  });

  it(`with a rotating refresh token: one token request, and the rotated token reaches onTokens`, {
    timeout: SLOW * 2,
  }, async () => {
    const running = await start({ rotation: 'always' });
    const events: Array<{ tokens: SessionTokens; event: TokensEvent }> = [];
    const session = await loggedIn(running, (tokens, event) => {
      events.push({ tokens, event });
    });
    const original = session.getRefreshToken();
    events.length = 0;
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, timeout: SLOW }, session);

    running.emulator.advanceClock(3601);
    await Promise.all(Array.from({ length: CONCURRENCY }, () => api.me()));
    expect(refreshCount(running.emulator)).toBe(1);
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toMatchObject({ grant: 'refresh_token', rotated: true });
    const rotated = events[0]?.tokens.refreshToken;
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(original);
    expect(session.getRefreshToken()).toBe(rotated);

    // The rotated token is the one in use: a second expiry refreshes with it.
    running.emulator.advanceClock(3601);
    await Promise.all(Array.from({ length: 50 }, () => api.me()));
    expect(refreshCount(running.emulator)).toBe(2);
    expect(events).toHaveLength(2);
  });

  it('a revoked refresh token fails every waiting call with RefreshTokenRevokedError after one attempt', async () => {
    const running = await start();
    const session = await loggedIn(running);
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, timeout: SLOW }, session);
    running.emulator.revokeRefreshToken(session.getRefreshToken() as string);
    running.emulator.advanceClock(3601);
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => api.me()));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as RefreshTokenRevokedError;
      expect(reason).toBeInstanceOf(RefreshTokenRevokedError);
      expect(reason.error).toBe('invalid_grant');
    }
    expect(refreshCount(running.emulator)).toBe(1);
    expect(meRequests(running.emulator)).toBe(100); // no retry without a new token
  });

  it('a client-credentials session requests a new app token instead of refreshing', async () => {
    const running = await start();
    const session = new Session({
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      accountsUrl: running.server.url,
      timeout: SLOW,
    });
    await session.requestCredentialsToken();
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, timeout: SLOW }, session);
    const album = await api.albums.get(ALBUM_ID);
    expect(album.id).toBe(ALBUM_ID);
    running.emulator.advanceClock(3601);
    await Promise.all(Array.from({ length: 200 }, () => api.albums.get(ALBUM_ID)));
    const { grants } = running.emulator.stats();
    expect(grants.client_credentials).toBe(2);
    expect(grants.refresh_token ?? 0).toBe(0);
  });

  it('a Session holding only an access token: the 401 is the error (cause NoRefreshTokenError)', async () => {
    const running = await start();
    const user = await loggedIn(running);
    const session = new Session({ clientId: DEMO_APP.clientId, accountsUrl: running.server.url });
    session.setAccessToken(user.getAccessToken() as string);
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl }, session);
    expect((await api.me()).id).toBe('demo-user');
    running.emulator.advanceClock(3601);
    const error = await api.me().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebAPIError);
    expect(error).toMatchObject({ status: 401, kind: 'invalid_token' });
    expect((error as WebAPIError).cause).toBeInstanceOf(NoRefreshTokenError);
    expect(running.emulator.stats().grants.refresh_token ?? 0).toBe(0);
  });

  it('autoRefresh: false surfaces the 401 as WebAPIError invalid_token', async () => {
    const running = await start();
    const session = await loggedIn(running);
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, autoRefresh: false }, session);
    running.emulator.advanceClock(3601);
    await expect(api.me()).rejects.toMatchObject({ kind: 'invalid_token', status: 401 });
    await expect(api.me()).rejects.toBeInstanceOf(WebAPIError);
    expect(refreshCount(running.emulator)).toBe(0);
  });

  it('an API that refuses every token: 10 calls in a row → one refresh, then a clear error', async () => {
    const accounts = await start();
    // Another emulator's Web API: it never issued the Session's tokens (apiUrl and
    // accountsUrl that do not belong together), so it answers 401 to each of them.
    const other = await start();
    const session = await loggedIn(accounts);
    const api = new SpotifyWebAPI({ apiUrl: other.apiUrl }, session);
    const errors: unknown[] = [];
    for (let call = 0; call < 10; call++) errors.push(await api.me().catch((error) => error));
    expect(refreshCount(accounts.emulator)).toBe(1);
    expect(meRequests(other.emulator)).toBe(11);
    for (const error of errors) {
      expect(error).toBeInstanceOf(WebAPIError);
      expect(error).toMatchObject({ status: 401, kind: 'invalid_token' });
      expect((error as Error).message).toMatch(
        /^Missing\/invalid\/expired access token\. The token refreshed after a 401 was refused too.*apiUrl/,
      );
    }
    // Concurrent calls on the refused token make no refresh either.
    await Promise.all(Array.from({ length: 10 }, () => api.me().catch(() => undefined)));
    expect(refreshCount(accounts.emulator)).toBe(1);

    // Once the window has passed, a 401 is worth one refresh again.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 6_000);
    try {
      await expect(api.me()).rejects.toMatchObject({ message: /refused too/ });
      expect(refreshCount(accounts.emulator)).toBe(2);
    } finally {
      clock.mockRestore();
    }
  });

  it('a refreshed token that worked and then gets a 401 is refreshed again, at once', async () => {
    const running = await start();
    const session = await loggedIn(running);
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl }, session);
    for (let expiry = 1; expiry <= 3; expiry++) {
      running.emulator.advanceClock(3601);
      expect((await api.me()).id).toBe('demo-user');
      expect(refreshCount(running.emulator)).toBe(expiry);
    }
  });

  it('a caller that aborts stops waiting for the shared refresh; the others get the new token', async () => {
    const running = await start();
    const session = await loggedIn(running);
    const api = new SpotifyWebAPI({ apiUrl: running.apiUrl, timeout: SLOW }, session);
    running.emulator.advanceClock(3601);
    running.emulator.setFault({ endpoint: '/api/token', type: 'latency', latencyMs: 400 });
    const controller = new AbortController();
    const impatient = api.me({ signal: controller.signal });
    const patient = Array.from({ length: 10 }, () => api.me());
    setTimeout(() => controller.abort(), 150);
    await expect(impatient).rejects.toBeInstanceOf(AbortedError);
    const results = await Promise.all(patient);
    expect(results.every((me) => me.id === 'demo-user')).toBe(true);
    expect(refreshCount(running.emulator)).toBe(1);
  });
});
