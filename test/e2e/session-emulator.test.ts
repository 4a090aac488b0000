/**
 * Every Session flow end to end against the emulator over real HTTP
 * (127.0.0.1, port 0), with the emulator's auto-approve: the authorize URL
 * answers with the 302 to the redirect URI at once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  SCOPES as ALL_SCOPES,
  HTTPError,
  NetworkError,
  NoRefreshTokenError,
  OAuthError,
  RateLimitError,
  RefreshTokenRevokedError,
  Session,
  type SessionOptions,
  TimeoutError,
} from '../../src/core/index.js';
import {
  createEmulator,
  DEMO_APP,
  type Emulator,
  type EmulatorServer,
  OPEN_ACCESS_SCOPES,
  STANDARD_SCOPES,
} from '../../src/emulator/index.js';

const REDIRECT_URI = 'http://127.0.0.1:8888/callback';
const SCOPES = ['playlist-read-private', 'user-read-private'];
const SIX_MONTHS = 15_552_000;

interface Running {
  emulator: Emulator;
  server: EmulatorServer;
}

const running: Running[] = [];

async function start(options: Parameters<typeof createEmulator>[0] = {}): Promise<Running> {
  const emulator = createEmulator({ autoApprove: true, ...options });
  const server = await emulator.listen({ port: 0, host: '127.0.0.1' });
  const entry = { emulator, server };
  running.push(entry);
  return entry;
}

afterAll(async () => {
  await Promise.all(running.map(({ server }) => server.close()));
});

interface SeenRequest {
  url: string;
  headers: Headers;
  body: URLSearchParams;
}

/** A fetch that records what it sends, then really sends it. */
function spyFetch(rewrite?: (init: RequestInit) => RequestInit) {
  const seen: SeenRequest[] = [];
  const fetchSpy = async (url: string, init: RequestInit): Promise<Response> => {
    const sent = rewrite === undefined ? init : rewrite(init);
    seen.push({
      url,
      headers: new Headers(sent.headers),
      body: new URLSearchParams(String(sent.body ?? '')),
    });
    return fetch(url, sent);
  };
  return { fetch: fetchSpy, seen };
}

function confidential(server: EmulatorServer, options: Partial<SessionOptions> = {}): Session {
  return new Session({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUri: REDIRECT_URI,
    accountsUrl: server.url,
    ...options,
  });
}

function publicClient(server: EmulatorServer, options: Partial<SessionOptions> = {}): Session {
  return new Session({
    clientId: DEMO_APP.clientId,
    redirectUri: REDIRECT_URI,
    accountsUrl: server.url,
    ...options,
  });
}

/** Follows the authorize URL like a browser whose user approves, and returns the callback URL. */
async function approve(authorizeUrl: string): Promise<string> {
  const response = await fetch(authorizeUrl, { redirect: 'manual' });
  await response.body?.cancel();
  expect(response.status).toBe(302);
  const location = response.headers.get('location');
  if (location === null) throw new Error('the emulator sent no Location');
  return location;
}

async function authorizeConfidential(session: Session): Promise<string> {
  const state = Session.generateState();
  const callback = await approve(session.getAuthorizeUrl({ scope: SCOPES, state }));
  return session.getCodeFromCallback(callback, state);
}

async function authorizePkce(session: Session): Promise<{ code: string; verifier: string }> {
  const verifier = Session.generateCodeVerifier();
  const state = Session.generateState();
  const url = session.getAuthorizeUrl({
    scope: SCOPES,
    state,
    codeChallenge: await Session.generateCodeChallenge(verifier),
  });
  return { code: session.getCodeFromCallback(await approve(url), state), verifier };
}

async function control(server: EmulatorServer, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${server.url}/__emulator/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.ok).toBe(true);
  return response.json();
}

async function tokenGrants(server: EmulatorServer): Promise<Record<string, number>> {
  const stats = (await control(server, 'stats')) as { grants: Record<string, number> };
  return stats.grants;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('Session × emulator: the flows', () => {
  let main: Running;
  beforeAll(async () => {
    main = await start();
  });
  afterEach(async () => {
    await fetch(`${main.server.url}/__emulator/faults`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
    });
  });

  it('authorization code flow (confidential app, HTTP Basic)', async () => {
    const { fetch, seen } = spyFetch();
    const session = confidential(main.server, { fetch });
    const code = await authorizeConfidential(session);
    const result = await session.requestAccessToken(code);

    expect(seen[0]?.headers.get('authorization')).toMatch(/^Basic /);
    expect(seen[0]?.body.get('client_id')).toBeNull();
    expect(result.tokenType).toBe('Bearer');
    expect(result.expiresIn).toBe(3600);
    expect(result.scope.sort()).toEqual([...SCOPES].sort());
    expect(result.refreshToken).toEqual(expect.any(String));
    expect(session.getAccessToken()).toBe(result.accessToken);
    expect(session.getRefreshToken()).toBe(result.refreshToken);
    expect(main.emulator.lookupAccessToken(result.accessToken)).toBeDefined();
    // Codes are single-use.
    const reused = await rejection(session.requestAccessToken(code));
    expect(reused).toBeInstanceOf(OAuthError);
    expect(reused).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('PKCE flow: client_id and code_verifier in the body, no Basic, also on refresh', async () => {
    const { fetch, seen } = spyFetch();
    const session = publicClient(main.server, { fetch });
    const { code, verifier } = await authorizePkce(session);
    const result = await session.requestAccessToken(code, verifier);
    expect(result.refreshToken).toEqual(expect.any(String));

    const exchange = seen[0];
    expect(exchange?.headers.get('authorization')).toBeNull();
    expect(exchange?.body.get('client_id')).toBe(DEMO_APP.clientId);
    expect(exchange?.body.get('code_verifier')).toBe(verifier);
    expect(exchange?.body.get('client_secret')).toBeNull();

    const refreshed = await session.refreshAccessToken();
    expect(refreshed.accessToken).not.toBe(result.accessToken);
    const refresh = seen[1];
    expect(refresh?.headers.get('authorization')).toBeNull();
    expect(Object.fromEntries(refresh?.body ?? [])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: result.refreshToken,
      client_id: DEMO_APP.clientId,
    });
  });

  it('client credentials flow', async () => {
    const session = confidential(main.server);
    const result = await session.requestCredentialsToken();
    expect(result.accessToken).toEqual(expect.any(String));
    expect(result.refreshToken).toBeUndefined();
    expect(session.getRefreshToken()).toBeUndefined();
    expect(session.isExpired()).toBe(false);
  });

  it('toJSON / fromJSON round trip, then refresh from the restored session', async () => {
    const session = confidential(main.server);
    await session.requestAccessToken(await authorizeConfidential(session));
    const stored = JSON.stringify(session);
    const restored = Session.fromJSON(
      {
        clientId: DEMO_APP.clientId,
        clientSecret: DEMO_APP.clientSecret,
        accountsUrl: main.server.url,
      },
      stored,
    );
    expect(restored.toJSON()).toEqual(session.toJSON());
    const refreshed = await restored.refreshAccessToken();
    expect(refreshed.accessToken).not.toBe(session.getAccessToken());
  });

  it('awaits onTokens before resolving (ordering proven)', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let persisted: string | undefined;
    let accessTokenDuringOnTokens: string | undefined = 'not called';
    const session = confidential(main.server, {
      onTokens: async (tokens) => {
        persisted = tokens.refreshToken;
        accessTokenDuringOnTokens = session.getAccessToken();
        await gate;
      },
    });
    const code = await authorizeConfidential(session);
    let resolved = false;
    const pending = session.requestAccessToken(code).then((result) => {
      resolved = true;
      return result;
    });
    await vi.waitFor(() => expect(persisted).toEqual(expect.any(String)));
    // onTokens is holding: the call has not resolved and the new token is not handed out yet.
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    expect(accessTokenDuringOnTokens).toBeUndefined();
    expect(session.getAccessToken()).toBeUndefined();
    release();
    const result = await pending;
    expect(persisted).toBe(result.refreshToken);
    expect(session.getAccessToken()).toBe(result.accessToken);
  });

  it('every documented scope is typed, and the emulator grants them all', async () => {
    expect([...ALL_SCOPES]).toEqual([...STANDARD_SCOPES, ...OPEN_ACCESS_SCOPES]);
    const session = confidential(main.server);
    const state = Session.generateState();
    const callback = await approve(session.getAuthorizeUrl({ scope: [...ALL_SCOPES], state }));
    const result = await session.requestAccessToken(session.getCodeFromCallback(callback, state));
    expect(result.scope).toEqual([...ALL_SCOPES]);
  });

  it('100 concurrent refreshAccessToken() calls make exactly one token request', async () => {
    let onTokensCalls = 0;
    const session = confidential(main.server, {
      onTokens: () => {
        onTokensCalls++;
      },
    });
    await session.requestAccessToken(await authorizeConfidential(session));
    onTokensCalls = 0;
    const before = (await tokenGrants(main.server)).refresh_token ?? 0;
    const results = await Promise.all(
      Array.from({ length: 100 }, () => session.refreshAccessToken()),
    );
    const after = (await tokenGrants(main.server)).refresh_token ?? 0;
    expect(after - before).toBe(1);
    expect(onTokensCalls).toBe(1);
    expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
  });
});

describe('Session × emulator: rotation policies', () => {
  it("rotation 'never': no refresh_token in the answer, the old one stays and keeps working", async () => {
    const { server } = await start({ rotation: 'never' });
    const session = confidential(server);
    const first = await session.requestAccessToken(await authorizeConfidential(session));
    const refreshed = await session.refreshAccessToken();
    expect(refreshed.refreshToken).toBeUndefined();
    expect(session.getRefreshToken()).toBe(first.refreshToken);
    await expect(session.refreshAccessToken()).resolves.toMatchObject({
      accessToken: expect.any(String),
    });
  });

  it("rotation 'always': the new refresh token replaces the old, which is then refused", async () => {
    const { server } = await start({ rotation: 'always' });
    const events: boolean[] = [];
    const session = confidential(server, {
      onTokens: (_tokens, event) => {
        events.push(event.rotated);
      },
    });
    const first = await session.requestAccessToken(await authorizeConfidential(session));
    const refreshed = await session.refreshAccessToken();
    expect(refreshed.refreshToken).toEqual(expect.any(String));
    expect(refreshed.refreshToken).not.toBe(first.refreshToken);
    expect(session.getRefreshToken()).toBe(refreshed.refreshToken);
    expect(events).toEqual([false, true]);
    const old = await rejection(confidential(server).refreshAccessToken(first.refreshToken));
    expect(old).toBeInstanceOf(RefreshTokenRevokedError);
    await expect(session.refreshAccessToken()).resolves.toBeDefined();
  });

  it("rotation 'pkce': PKCE refresh tokens rotate, confidential ones do not", async () => {
    const { server } = await start({ rotation: 'pkce' });
    const pkce = publicClient(server);
    const { code, verifier } = await authorizePkce(pkce);
    const first = await pkce.requestAccessToken(code, verifier);
    const rotated = await pkce.refreshAccessToken();
    expect(rotated.refreshToken).toEqual(expect.any(String));
    expect(rotated.refreshToken).not.toBe(first.refreshToken);
    expect(pkce.getRefreshToken()).toBe(rotated.refreshToken);
    await expect(
      publicClient(server).refreshAccessToken(first.refreshToken),
    ).rejects.toBeInstanceOf(RefreshTokenRevokedError);

    const app = confidential(server);
    const appFirst = await app.requestAccessToken(await authorizeConfidential(app));
    const appRefreshed = await app.refreshAccessToken();
    expect(appRefreshed.refreshToken).toBeUndefined();
    expect(app.getRefreshToken()).toBe(appFirst.refreshToken);
  });

  it('getRefreshTokenExpiresAt() is the very second the emulator starts refusing, however often it rotated', async () => {
    const T0 = 1_800_000_000_000;
    let clock = T0;
    const { server } = await start({ rotation: 'always', now: () => clock });
    const logins = [
      async (options: Partial<SessionOptions>) => {
        const session = confidential(server, options);
        await session.requestAccessToken(await authorizeConfidential(session));
        return session;
      },
      async (options: Partial<SessionOptions>) => {
        const session = publicClient(server, options);
        const { code, verifier } = await authorizePkce(session);
        await session.requestAccessToken(code, verifier);
        return session;
      },
    ];
    for (const login of logins) {
      clock = T0;
      const warnings: unknown[] = [];
      const session = await login({
        now: () => clock,
        onLoginExpiring: (warning) => warnings.push(warning),
      });
      const end = session.getRefreshTokenExpiresAt() as number;
      expect(end).toBe(T0 / 1000 + SIX_MONTHS);
      for (let day = 30; day < 180; day += 30) {
        clock = T0 + day * 86_400_000;
        const rotatedFrom = session.getRefreshToken();
        await session.refreshAccessToken();
        expect(session.getRefreshToken()).not.toBe(rotatedFrom);
        expect(session.getRefreshTokenExpiresAt()).toBe(end);
      }
      expect(warnings).toEqual([]);
      clock = (end - 1) * 1000; // the last second the emulator still accepts it
      await session.refreshAccessToken();
      expect(warnings).toEqual([{ expiresAt: end, remaining: 1 }]);
      // A restored copy agrees, and warns too (once for its own authorization).
      const restored = Session.fromJSON(
        {
          clientId: DEMO_APP.clientId,
          now: () => clock,
          onLoginExpiring: (warning) => warnings.push(warning),
        },
        session.toJSON(),
      );
      expect(restored.getRefreshTokenExpiresAt()).toBe(end);
      clock = end * 1000;
      const error = await rejection(session.refreshAccessToken());
      expect(error).toBeInstanceOf(RefreshTokenRevokedError);
      expect(warnings).toHaveLength(2);
    }
  });

  it('six months after the original authorization, refresh fails with RefreshTokenRevokedError, never retried', async () => {
    const { server } = await start({ rotation: 'always' });
    const session = confidential(server);
    await session.requestAccessToken(await authorizeConfidential(session));
    await control(server, 'clock', { advance: SIX_MONTHS - 60 });
    // Refreshing (and rotating) does not extend the lifetime.
    await session.refreshAccessToken();
    await control(server, 'clock', { advance: 61 });
    const before = (await tokenGrants(server)).refresh_token;
    const error = await rejection(session.refreshAccessToken());
    expect(error).toBeInstanceOf(RefreshTokenRevokedError);
    expect(error).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      errorDescription: 'Refresh token revoked',
      code: 'REFRESH_TOKEN_REVOKED',
    });
    expect(error.message).toMatch(/log in again/);
    // Discarded, not retried: the next attempt fails locally and sends nothing.
    expect(session.getRefreshToken()).toBeUndefined();
    await expect(session.getValidAccessToken({ skewSeconds: 7200 })).rejects.toBeInstanceOf(
      NoRefreshTokenError,
    );
    expect((await tokenGrants(server)).refresh_token).toBe((before ?? 0) + 1);
  });

  it('concurrent refreshes of a revoked token: one request, the error reaches every caller', async () => {
    const { server } = await start();
    const session = confidential(server);
    const { refreshToken } = await session.requestAccessToken(await authorizeConfidential(session));
    await control(server, 'revoke', { refresh_token: refreshToken });
    const before = (await tokenGrants(server)).refresh_token ?? 0;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => session.refreshAccessToken()),
    );
    expect((await tokenGrants(server)).refresh_token).toBe(before + 1);
    const reasons = outcomes.map((outcome) =>
      outcome.status === 'rejected' ? outcome.reason : undefined,
    );
    expect(new Set(reasons).size).toBe(1);
    expect(reasons[0]).toBeInstanceOf(RefreshTokenRevokedError);
  });
});

describe('Session × emulator: the token endpoint’s documented errors', () => {
  let main: Running;
  beforeAll(async () => {
    main = await start();
  });
  afterEach(async () => {
    await fetch(`${main.server.url}/__emulator/faults`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
    });
  });

  async function expectOAuth(
    promise: Promise<unknown>,
    error: string,
    description: string | undefined,
    type: typeof OAuthError = OAuthError,
  ) {
    const failure = await rejection(promise);
    expect(failure).toBeInstanceOf(type);
    if (type === OAuthError) expect(failure).not.toBeInstanceOf(RefreshTokenRevokedError);
    expect(failure).toMatchObject({ status: 400, error, errorDescription: description });
  }

  it('unknown code → OAuthError invalid_grant', async () => {
    await expectOAuth(
      confidential(main.server).requestAccessToken('no-such-code'),
      'invalid_grant',
      'Invalid authorization code',
    );
  });

  it('expired code → OAuthError invalid_grant', async () => {
    const code = await authorizeConfidential(confidential(main.server));
    await control(main.server, 'clock', { advance: 601 });
    const error = await rejection(confidential(main.server).requestAccessToken(code));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect((error as OAuthError).errorDescription).toMatch(
      /^(Invalid authorization code|Authorization code expired)$/,
    );
  });

  it('redirect_uri differing from the authorize request → OAuthError invalid_grant', async () => {
    const code = await authorizeConfidential(confidential(main.server));
    const other = confidential(main.server, { redirectUri: 'http://127.0.0.1:9999/other' });
    await expectOAuth(other.requestAccessToken(code), 'invalid_grant', 'Invalid redirect URI');
  });

  it('wrong PKCE verifier → invalid_grant; missing verifier → invalid_request', async () => {
    const session = publicClient(main.server);
    const { code } = await authorizePkce(session);
    await expectOAuth(
      session.requestAccessToken(code, Session.generateCodeVerifier()),
      'invalid_grant',
      'code_verifier was incorrect',
    );
    const second = await authorizePkce(session);
    // A confidential app may skip the verifier, but not for a code issued with a challenge.
    await expectOAuth(
      confidential(main.server).requestAccessToken(second.code),
      'invalid_request',
      'code_verifier required',
    );
  });

  it('unknown refresh token → RefreshTokenRevokedError (invalid_grant)', async () => {
    await expectOAuth(
      confidential(main.server).refreshAccessToken('no-such-refresh-token'),
      'invalid_grant',
      'Invalid refresh token',
      RefreshTokenRevokedError,
    );
  });

  it('revoked refresh token → RefreshTokenRevokedError', async () => {
    const session = confidential(main.server);
    const { refreshToken } = await session.requestAccessToken(await authorizeConfidential(session));
    expect(await control(main.server, 'revoke', { refresh_token: refreshToken })).toEqual({
      revoked: true,
    });
    await expectOAuth(
      session.refreshAccessToken(),
      'invalid_grant',
      'Refresh token revoked',
      RefreshTokenRevokedError,
    );
  });

  it('unknown client id → OAuthError invalid_client with HTTP 400', async () => {
    await expectOAuth(
      confidential(main.server, { clientId: 'unknown-client' }).requestCredentialsToken(),
      'invalid_client',
      'Invalid client',
    );
  });

  it('wrong client secret → OAuthError invalid_client', async () => {
    await expectOAuth(
      confidential(main.server, { clientSecret: 'wrong-secret' }).requestCredentialsToken(),
      'invalid_client',
      'Invalid client secret',
    );
  });

  it('unsupported or missing grant type and a JSON body (415) → OAuthError', async () => {
    // The Session only sends the three grants; rewrite the wire to reach these answers.
    const asPassword = spyFetch((init) => ({
      ...init,
      body: String(init.body).replace('grant_type=client_credentials', 'grant_type=password'),
    }));
    await expectOAuth(
      confidential(main.server, { fetch: asPassword.fetch }).requestCredentialsToken(),
      'unsupported_grant_type',
      'grant_type must be client_credentials, authorization_code or refresh_token',
    );
    const withoutGrant = spyFetch((init) => ({
      ...init,
      body: String(init.body).replace('grant_type=client_credentials', ''),
    }));
    await expectOAuth(
      confidential(main.server, { fetch: withoutGrant.fetch }).requestCredentialsToken(),
      'unsupported_grant_type',
      'grant_type parameter is missing',
    );
    const asJson = spyFetch((init) => ({
      ...init,
      headers: { ...(init.headers as Record<string, string>), 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    }));
    const error = await rejection(
      confidential(main.server, { fetch: asJson.fetch }).requestCredentialsToken(),
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 415, error: 'server_error' });
  });

  it('latency beyond the timeout → TimeoutError', async () => {
    await control(main.server, 'faults', {
      endpoint: '/api/token',
      type: 'latency',
      latencyMs: 1000,
      count: 1,
    });
    const started = Date.now();
    const error = await rejection(
      confidential(main.server, { timeout: 150 }).requestCredentialsToken(),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timeout: 150, code: 'TIMEOUT' });
    expect(error.cause).toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('a dropped connection → NetworkError', async () => {
    await control(main.server, 'faults', { endpoint: '/api/token', type: 'drop', count: 1 });
    const error = await rejection(confidential(main.server).requestCredentialsToken());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR' });
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('429 → RateLimitError with retryAfter', async () => {
    await control(main.server, 'faults', {
      endpoint: '/api/token',
      type: 'status',
      status: 429,
      retryAfter: 42,
      count: 1,
    });
    const error = await rejection(confidential(main.server).requestCredentialsToken());
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfter: 42 });
  });

  it('5xx → HTTPError', async () => {
    for (const status of [500, 502, 503] as const) {
      await control(main.server, 'faults', {
        endpoint: '/api/token',
        type: 'status',
        status,
        count: 1,
      });
      const error = await rejection(confidential(main.server).requestCredentialsToken());
      expect(error).toBeInstanceOf(HTTPError);
      expect(error).toMatchObject({ status });
    }
    // The fault is spent: the next request works.
    await expect(confidential(main.server).requestCredentialsToken()).resolves.toBeDefined();
  });
});
