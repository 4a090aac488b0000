import { describe, expect, it, vi } from 'vitest';
import {
  AbortedError,
  ConfigurationError,
  HTTPError,
  InvalidArgumentError,
  InvalidResponseError,
  NetworkError,
  NoRefreshTokenError,
  OAuthError,
  RateLimitError,
  RefreshTokenRevokedError,
  SpotifyError,
  TimeoutError,
  TokenCallbackError,
} from './errors/index.js';
import { Session, type SessionOptions } from './session.js';
import type { SessionTokens } from './tokens.js';

const CLIENT_ID = 'client-id-123';
const CLIENT_SECRET = 'CLIENT-SECRET-never-shown';
const REDIRECT_URI = 'http://127.0.0.1:8888/callback';
const ACCOUNTS = 'https://accounts.test';
const NOW = 1_800_000_000_000;

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: URLSearchParams;
}

type Reply = Response | ((seen: Seen, init: RequestInit) => Response | Promise<Response>);

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const TOKENS = {
  access_token: 'ACCESS-1',
  token_type: 'Bearer',
  expires_in: 3600,
  scope: 'user-read-private user-read-email',
  refresh_token: 'REFRESH-1',
};

/** A fetch that answers from `replies` in order (the last one repeats) and records requests. */
function stub(...replies: Reply[]) {
  const seen: Seen[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const entry: Seen = {
      url,
      method: init.method ?? 'GET',
      headers: Object.fromEntries(
        Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
          k.toLowerCase(),
          v,
        ]),
      ),
      body: new URLSearchParams(String(init.body ?? '')),
    };
    seen.push(entry);
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)];
    if (reply === undefined) throw new Error('no reply configured');
    return typeof reply === 'function' ? reply(entry, init) : reply.clone();
  };
  return { fetch, seen };
}

function session(options: Partial<SessionOptions> = {}) {
  return new Session({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    accountsUrl: ACCOUNTS,
    now: () => NOW,
    ...options,
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('Session construction', () => {
  it('refuses unusable options with ConfigurationError naming the option', () => {
    const cases: Array<[Partial<SessionOptions>, string]> = [
      [{ clientId: '' }, 'clientId'],
      [{ clientId: '   ' }, 'clientId'],
      [{ clientId: 42 as unknown as string }, 'clientId'],
      [{ clientId: undefined as unknown as string }, 'clientId'],
      [{ clientSecret: '' }, 'clientSecret'],
      [{ clientSecret: 42 as unknown as string }, 'clientSecret'],
      [{ redirectUri: 'http://localhost:8888/callback' }, 'redirectUri'],
      [{ redirectUri: '' }, 'redirectUri'],
      [{ redirectUri: 42 as unknown as string }, 'redirectUri'],
      [{ accountsUrl: 'http://accounts.example.com' }, 'accountsUrl'],
      [{ accountsUrl: '' }, 'accountsUrl'],
      [{ timeout: 0 }, 'timeout'],
      [{ timeout: -1 }, 'timeout'],
      [{ timeout: 1.5 }, 'timeout'],
      [{ timeout: Number.NaN }, 'timeout'],
      [{ timeout: Number.POSITIVE_INFINITY }, 'timeout'],
      [{ timeout: 2 ** 31 }, 'timeout'],
      [{ timeout: '1000' as unknown as number }, 'timeout'],
      [{ fetch: 'nope' as unknown as typeof fetch }, 'fetch'],
      [{ now: 1 as unknown as () => number }, 'now'],
      [{ onTokens: {} as unknown as () => void }, 'onTokens'],
    ];
    for (const [options, option] of cases) {
      try {
        session(options);
        throw new Error(`accepted ${JSON.stringify(options)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as ConfigurationError).option).toBe(option);
        // The message names the option ("redirectUri" or "redirect URI"), so the fix is obvious.
        expect((error as Error).message.toLowerCase().replace(/ /g, '')).toContain(
          option.toLowerCase(),
        );
        expect((error as ConfigurationError).code).toBe('INVALID_CONFIGURATION');
      }
    }
    for (const options of [undefined, null, 'client-id']) {
      expect(() => new Session(options as unknown as SessionOptions)).toThrow(
        expect.objectContaining({ option: 'options', message: expect.stringMatching(/clientId/) }),
      );
    }
  });

  it('restores tokens and refuses malformed ones', () => {
    const tokens = { accessToken: 'A', refreshToken: 'R', expiresAt: 1_800_000_100, scope: ['s'] };
    const restored = session({ tokens });
    expect(restored.toJSON()).toEqual(tokens);
    expect(Session.fromJSON({ clientId: CLIENT_ID }, JSON.stringify(tokens)).toJSON()).toEqual(
      tokens,
    );
    expect(() => session({ tokens: { access_token: 'A' } as never })).toThrow(InvalidArgumentError);
    expect(() => session({ tokens: { expiresAt: NOW } })).toThrow(/milliseconds/);
  });
});

describe('getAuthorizeUrl', () => {
  it('builds the Spotify authorize URL', () => {
    const url = new URL(
      session().getAuthorizeUrl({
        scope: ['playlist-read-private', 'user-read-private'],
        state: 'st',
        showDialog: true,
      }),
    );
    expect(url.origin + url.pathname).toBe(`${ACCOUNTS}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'playlist-read-private user-read-private',
      state: 'st',
      show_dialog: 'true',
    });
  });

  it('accepts a space-separated scope string and omits empty scope and absent options', () => {
    const url = new URL(
      session().getAuthorizeUrl({ scope: ' user-read-private  user-read-email ' }),
    );
    expect(url.searchParams.get('scope')).toBe('user-read-private user-read-email');
    const bare = new URL(session().getAuthorizeUrl({ scope: [] }));
    expect([...bare.searchParams.keys()].sort()).toEqual([
      'client_id',
      'redirect_uri',
      'response_type',
    ]);
    expect(
      new URL(session().getAuthorizeUrl({ showDialog: false })).searchParams.get('show_dialog'),
    ).toBe('false');
  });

  it('adds an S256 challenge and refuses anything else', async () => {
    const challenge = await Session.generateCodeChallenge(Session.generateCodeVerifier());
    const url = new URL(
      session({ clientSecret: undefined }).getAuthorizeUrl({ codeChallenge: challenge }),
    );
    expect(url.searchParams.get('code_challenge')).toBe(challenge);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(() => session().getAuthorizeUrl({ codeChallenge: 'too-short' })).toThrow(
      InvalidArgumentError,
    );
    expect(() => session().getAuthorizeUrl({ codeChallenge: `${challenge.slice(1)}=` })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      session().getAuthorizeUrl({
        codeChallenge: challenge,
        codeChallengeMethod: 'plain' as 'S256',
      }),
    ).toThrow(/S256/);
  });

  it('requires PKCE on a public client, a redirectUri, and sane scopes and state', () => {
    expect(() => session({ clientSecret: undefined }).getAuthorizeUrl({})).toThrow(/PKCE/);
    expect(() => session({ redirectUri: undefined }).getAuthorizeUrl({})).toThrow(
      ConfigurationError,
    );
    expect(() => session().getAuthorizeUrl({ scope: ['a b'] })).toThrow(InvalidArgumentError);
    expect(() => session().getAuthorizeUrl({ scope: [''] })).toThrow(InvalidArgumentError);
    expect(() => session().getAuthorizeUrl({ state: '' })).toThrow(InvalidArgumentError);
  });
});

describe('token requests (Spotify’s documented request shapes)', () => {
  it('exchanges a code as a confidential app with HTTP Basic', async () => {
    const { fetch, seen } = stub(json(TOKENS));
    const s = session({ fetch });
    const result = await s.requestAccessToken('CODE-1');
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request?.url).toBe(`${ACCOUNTS}/api/token`);
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request?.headers.authorization).toBe(`Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}`);
    expect(Object.fromEntries(request?.body ?? [])).toEqual({
      grant_type: 'authorization_code',
      code: 'CODE-1',
      redirect_uri: REDIRECT_URI,
    });
    expect(result).toEqual({
      accessToken: 'ACCESS-1',
      tokenType: 'Bearer',
      expiresIn: 3600,
      expiresAt: NOW / 1000 + 3600,
      scope: ['user-read-private', 'user-read-email'],
      refreshToken: 'REFRESH-1',
    });
    expect(s.getAccessToken()).toBe('ACCESS-1');
    expect(s.getRefreshToken()).toBe('REFRESH-1');
    expect(s.getTokenExpiration()).toBe(NOW / 1000 + 3600);
    expect(s.getScope()).toEqual(['user-read-private', 'user-read-email']);
  });

  it('exchanges a code with PKCE: client_id and code_verifier in the body, no Basic', async () => {
    const { fetch, seen } = stub(json(TOKENS));
    const verifier = Session.generateCodeVerifier();
    await session({ fetch, clientSecret: undefined }).requestAccessToken('CODE-1', verifier);
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(seen[0]?.body ?? [])).toEqual({
      grant_type: 'authorization_code',
      code: 'CODE-1',
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: verifier,
    });
  });

  it('refuses a public code exchange without verifier, and a malformed verifier', async () => {
    const { fetch, seen } = stub(json(TOKENS));
    await expect(
      session({ fetch, clientSecret: undefined }).requestAccessToken('CODE'),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(session({ fetch }).requestAccessToken('CODE', 'short')).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      session({ fetch, redirectUri: undefined }).requestAccessToken('CODE'),
    ).rejects.toBeInstanceOf(ConfigurationError);
    expect(seen).toHaveLength(0);
  });

  it('refreshes a public client with client_id in the body (unlike the PHP library)', async () => {
    const { fetch, seen } = stub(json({ ...TOKENS, refresh_token: undefined }));
    const s = session({ fetch, clientSecret: undefined });
    const result = await s.refreshAccessToken('REFRESH-0');
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(seen[0]?.body ?? [])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'REFRESH-0',
      client_id: CLIENT_ID,
    });
    expect(result.refreshToken).toBeUndefined();
    expect('refreshToken' in result).toBe(false);
    expect(s.getRefreshToken()).toBe('REFRESH-0');
  });

  it('refreshes a confidential app with Basic and stores a rotated refresh token', async () => {
    const { fetch, seen } = stub(json({ ...TOKENS, refresh_token: 'REFRESH-2' }));
    const events: unknown[] = [];
    const s = session({
      fetch,
      tokens: { refreshToken: 'REFRESH-1', scope: ['old'] },
      onTokens: (_tokens, event) => {
        events.push(event);
      },
    });
    const result = await s.refreshAccessToken();
    expect(seen[0]?.headers.authorization).toMatch(/^Basic /);
    expect(seen[0]?.body.get('client_id')).toBeNull();
    expect(result.refreshToken).toBe('REFRESH-2');
    expect(s.getRefreshToken()).toBe('REFRESH-2');
    expect(events).toEqual([{ grant: 'refresh_token', rotated: true, revoked: false }]);
  });

  it('keeps the previous scope when a refresh answer has none', async () => {
    const { fetch } = stub(json({ access_token: 'A2', token_type: 'Bearer', expires_in: 3600 }));
    const s = session({ fetch, tokens: { refreshToken: 'R', scope: ['user-read-private'] } });
    const result = await s.refreshAccessToken();
    expect(result.scope).toEqual(['user-read-private']);
    expect(s.getScope()).toEqual(['user-read-private']);
  });

  it('gets a client-credentials token with Basic and drops user tokens', async () => {
    const { fetch, seen } = stub(
      json({ access_token: 'APP', token_type: 'Bearer', expires_in: 3600 }),
    );
    const s = session({ fetch, tokens: { refreshToken: 'USER-REFRESH' } });
    const result = await s.requestCredentialsToken({ scope: ['user-read-private'] });
    expect(seen[0]?.headers.authorization).toMatch(/^Basic /);
    expect(Object.fromEntries(seen[0]?.body ?? [])).toEqual({
      grant_type: 'client_credentials',
      scope: 'user-read-private',
    });
    expect(result).toEqual({
      accessToken: 'APP',
      tokenType: 'Bearer',
      expiresIn: 3600,
      expiresAt: NOW / 1000 + 3600,
      scope: [],
    });
    expect(s.toJSON()).toEqual({
      accessToken: 'APP',
      expiresAt: NOW / 1000 + 3600,
      scope: [],
      grant: 'client_credentials',
    });
    await expect(
      session({ fetch, clientSecret: undefined }).requestCredentialsToken(),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('refuses to refresh without a refresh token, or with a malformed one', async () => {
    await expect(session().refreshAccessToken()).rejects.toBeInstanceOf(NoRefreshTokenError);
    await expect(session().refreshAccessToken('')).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('Spotify quirks oauth4webapi is stricter about', () => {
  it('accepts expires_in as a string', async () => {
    const { fetch } = stub(json({ ...TOKENS, expires_in: '3600' }));
    const result = await session({ fetch }).requestAccessToken('C');
    expect(result.expiresIn).toBe(3600);
    expect(result.expiresAt).toBe(NOW / 1000 + 3600);
  });

  it('accepts an empty-string scope', async () => {
    const { fetch } = stub(json({ ...TOKENS, scope: '' }));
    expect((await session({ fetch }).requestAccessToken('C')).scope).toEqual([]);
  });

  it('assumes one hour when expires_in is missing', async () => {
    const { fetch } = stub(json({ access_token: 'A', token_type: 'Bearer' }));
    expect((await session({ fetch }).requestAccessToken('C')).expiresIn).toBe(3600);
  });

  it('maps a 415 JSON error to OAuthError', async () => {
    const body = { error: 'server_error', error_description: 'Unexpected status: 415' };
    const { fetch } = stub(json(body, 415));
    const error = await rejection(session({ fetch }).requestAccessToken('C'));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 415, error: 'server_error', body });
  });

  it('maps a bare {"error":"invalid_client"} to OAuthError without description', async () => {
    const { fetch } = stub(json({ error: 'invalid_client' }, 400));
    const error = await rejection(session({ fetch }).requestCredentialsToken());
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({
      status: 400,
      error: 'invalid_client',
      errorDescription: undefined,
    });
  });

  it('maps an OAuth error with a WWW-Authenticate header or a text Content-Type to OAuthError', async () => {
    const body = { error: 'invalid_client', error_description: 'Invalid client secret' };
    const { fetch } = stub(
      json(body, 401, { 'www-authenticate': 'Basic realm="spotify"' }),
      new Response(JSON.stringify(body), {
        status: 400,
        headers: { 'content-type': 'text/plain' },
      }),
    );
    const s = session({ fetch });
    expect(await rejection(s.requestCredentialsToken())).toMatchObject({ status: 401, body });
    expect(await rejection(s.requestCredentialsToken())).toMatchObject({ status: 400, body });
  });

  it('ignores an id_token (Spotify sends none; no OpenID Connect here)', async () => {
    const { fetch } = stub(json({ ...TOKENS, id_token: 'not.a.jwt' }));
    expect((await session({ fetch }).requestAccessToken('C')).accessToken).toBe('ACCESS-1');
  });
});

describe('error mapping', () => {
  it('invalid_grant on refresh is RefreshTokenRevokedError, and the token is forgotten', async () => {
    const body = { error: 'invalid_grant', error_description: 'Refresh token revoked' };
    const { fetch, seen } = stub(json(body, 400));
    const events: unknown[] = [];
    const s = session({
      fetch,
      tokens: { accessToken: 'A', refreshToken: 'R' },
      // Told of the drop, so a stored copy of the dead token does not go stale.
      onTokens: (tokens, event) => {
        events.push({ tokens, event });
      },
    });
    const error = await rejection(s.refreshAccessToken());
    expect(error).toBeInstanceOf(RefreshTokenRevokedError);
    expect(error).toMatchObject({ code: 'REFRESH_TOKEN_REVOKED', status: 400, body });
    expect(s.getRefreshToken()).toBeUndefined();
    expect(events).toEqual([
      {
        tokens: { accessToken: 'A' },
        event: { grant: 'refresh_token', rotated: false, revoked: true },
      },
    ]);
    await expect(s.refreshAccessToken()).rejects.toBeInstanceOf(NoRefreshTokenError);
    expect(seen).toHaveLength(1);
  });

  it('invalid_grant on a code exchange stays a plain OAuthError', async () => {
    const { fetch } = stub(
      json({ error: 'invalid_grant', error_description: 'Invalid authorization code' }, 400),
    );
    const error = await rejection(session({ fetch }).requestAccessToken('C'));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).not.toBeInstanceOf(RefreshTokenRevokedError);
  });

  it('maps 429 with delta-seconds and HTTP-date Retry-After', async () => {
    const date = new Date(NOW + 120_000).toUTCString();
    const { fetch } = stub(
      json('', 429, { 'retry-after': '17' }),
      json('', 429, { 'retry-after': date }),
      json('', 429, { 'retry-after': 'soon' }),
    );
    const s = session({ fetch });
    expect(await rejection(s.requestCredentialsToken())).toMatchObject({ retryAfter: 17 });
    const dated = await rejection(s.requestCredentialsToken());
    expect(dated).toBeInstanceOf(RateLimitError);
    expect(dated).toMatchObject({ retryAfter: 120 });
    expect(await rejection(s.requestCredentialsToken())).toMatchObject({ retryAfter: undefined });
  });

  it('maps 5xx and non-OAuth 4xx to HTTPError with the body text', async () => {
    const { fetch } = stub(
      new Response('upstream down', { status: 503 }),
      new Response('<html>nope</html>', { status: 404, headers: { 'content-type': 'text/html' } }),
      json({ error: 'server_error' }, 500),
    );
    const s = session({ fetch });
    expect(await rejection(s.requestCredentialsToken())).toMatchObject({
      status: 503,
      body: 'upstream down',
    });
    const notFound = await rejection(s.requestCredentialsToken());
    expect(notFound).toBeInstanceOf(HTTPError);
    expect(notFound).toMatchObject({ status: 404 });
    expect(await rejection(s.requestCredentialsToken())).toBeInstanceOf(HTTPError);
  });

  it.each([
    ['HTML', new Response('<html></html>', { status: 200 })],
    ['a JSON array', json([1])],
    ['no access_token', json({ token_type: 'Bearer', expires_in: 3600 })],
    ['no token_type', json({ access_token: 'A', expires_in: 3600 })],
    ['a MAC token', json({ access_token: 'A', token_type: 'mac', expires_in: 3600 })],
    ['a negative expires_in', json({ access_token: 'A', token_type: 'Bearer', expires_in: -1 })],
    ['a numeric scope', json({ access_token: 'A', token_type: 'Bearer', scope: 5 })],
    ['a 204', new Response(null, { status: 204 })],
    ['a huge body', json({ access_token: 'A', token_type: 'Bearer', pad: 'x'.repeat(70_000) })],
  ])('maps an unusable 2xx (%s) to InvalidResponseError', async (_name, response) => {
    const { fetch } = stub(response);
    const error = await rejection(session({ fetch }).requestAccessToken('C'));
    expect(error).toBeInstanceOf(InvalidResponseError);
  });

  it('maps a failed fetch to NetworkError with the cause', async () => {
    const cause = new TypeError('fetch failed');
    const s = session({
      fetch: async () => {
        throw cause;
      },
    });
    const error = await rejection(s.requestCredentialsToken());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.cause).toBe(cause);
  });

  it('distinguishes the timeout from the caller aborting', async () => {
    const hang = async (_url: string, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        if (init.signal?.aborted) reject(init.signal.reason);
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const timedOut = await rejection(
      session({ fetch: hang, timeout: 20 }).requestCredentialsToken(),
    );
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect(timedOut).toMatchObject({ timeout: 20 });

    const controller = new AbortController();
    const pending = session({ fetch: hang }).requestCredentialsToken({ signal: controller.signal });
    controller.abort(new Error('user left'));
    const aborted = await rejection(pending);
    expect(aborted).toBeInstanceOf(AbortedError);
    expect((aborted.cause as Error).message).toBe('user left');

    const { fetch, seen } = stub(json(TOKENS));
    await expect(
      session({ fetch }).requestAccessToken('C', undefined, { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(seen).toHaveLength(0);
  });

  it('times out while the body is still arriving', async () => {
    const slowBody = async (_url: string, init: RequestInit) =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"access_token":'));
            init.signal?.addEventListener('abort', () => controller.error(init.signal?.reason));
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    const error = await rejection(
      session({ fetch: slowBody, timeout: 20 }).requestAccessToken('C'),
    );
    expect(error).toBeInstanceOf(TimeoutError);
  });
});

describe('single-flight refresh', () => {
  it('shares one request among concurrent callers; onTokens runs once', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { fetch, seen } = stub(async () => {
      await gate;
      return json({ ...TOKENS, refresh_token: 'REFRESH-2' });
    });
    let calls = 0;
    const s = session({
      fetch,
      tokens: { refreshToken: 'REFRESH-1' },
      onTokens: () => {
        calls++;
      },
    });
    const all = Promise.all(Array.from({ length: 100 }, () => s.refreshAccessToken()));
    release();
    const results = await all;
    expect(seen).toHaveLength(1);
    expect(calls).toBe(1);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(['ACCESS-1']));
    // The flight is over: the next call is a new request with the rotated token.
    await s.refreshAccessToken();
    expect(seen).toHaveLength(2);
    expect(seen[1]?.body.get('refresh_token')).toBe('REFRESH-2');
  });

  it('delivers one error to every caller', async () => {
    const { fetch, seen } = stub(json({ error: 'invalid_grant' }, 400));
    const s = session({ fetch, tokens: { refreshToken: 'R' } });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => s.refreshAccessToken()),
    );
    expect(seen).toHaveLength(1);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(RefreshTokenRevokedError);
    }
  });

  it('does not merge refreshes of different tokens', async () => {
    const { fetch, seen } = stub(json(TOKENS));
    const s = session({ fetch });
    await Promise.all([s.refreshAccessToken('A'), s.refreshAccessToken('B')]);
    expect(seen).toHaveLength(2);
  });

  it('lets one caller stop waiting without cancelling the shared request', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { fetch } = stub(async () => {
      await gate;
      return json({ ...TOKENS, refresh_token: 'ROTATED' });
    });
    const s = session({ fetch, tokens: { refreshToken: 'R' } });
    const controller = new AbortController();
    const impatient = s.refreshAccessToken(undefined, { signal: controller.signal });
    const patient = s.refreshAccessToken();
    controller.abort();
    await expect(impatient).rejects.toBeInstanceOf(AbortedError);
    release();
    await expect(patient).resolves.toMatchObject({ refreshToken: 'ROTATED' });
    expect(s.getRefreshToken()).toBe('ROTATED');
  });
});

describe('a sent refresh is finished, however late (no store)', () => {
  function slowRotation() {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { fetch, seen } = stub(async () => {
      await gate;
      return json({ ...TOKENS, refresh_token: 'ROTATED' });
    });
    return { fetch, seen, release };
  }

  it('keeps the answer after its caller’s TimeoutError and tells onTokens; settled() waits', async () => {
    const { fetch, seen, release } = slowRotation();
    const events: unknown[] = [];
    const s = session({
      fetch,
      timeout: 20,
      tokens: { refreshToken: 'R' },
      onTokens: (tokens, event) => {
        events.push({ refreshToken: tokens.refreshToken, event });
      },
    });
    const error = await rejection(s.refreshAccessToken());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timeout: 20 });
    // A caller that comes meanwhile joins the same request (no second spend of R).
    const joined = s.refreshAccessToken();
    release();
    await s.settled();
    await expect(joined).resolves.toMatchObject({ refreshToken: 'ROTATED' });
    expect(seen).toHaveLength(1);
    expect(s.getRefreshToken()).toBe('ROTATED');
    expect(events).toEqual([
      {
        refreshToken: 'ROTATED',
        event: { grant: 'refresh_token', rotated: true, revoked: false },
      },
    ]);
  });

  it('does not apply a late answer over tokens set meanwhile', async () => {
    const { fetch, seen, release } = slowRotation();
    let told = 0;
    const s = session({
      fetch,
      timeout: 20,
      tokens: { refreshToken: 'R' },
      onTokens: () => {
        told++;
      },
    });
    expect(await rejection(s.refreshAccessToken())).toBeInstanceOf(TimeoutError);
    // Another login meanwhile (what a code exchange would leave).
    s.setAccessToken('OTHER-ACCESS');
    s.setTokenExpiration(NOW / 1000 + 3600);
    s.setRefreshToken('OTHER-LOGIN');
    release();
    await s.settled();
    expect(s.toJSON()).toMatchObject({ accessToken: 'OTHER-ACCESS', refreshToken: 'OTHER-LOGIN' });
    expect(told).toBe(0);
    expect(seen).toHaveLength(1);
  });

  it('gives up a request after refreshHardLimit', async () => {
    const deaf = () => new Promise<Response>(() => {});
    const s = session({
      fetch: deaf,
      timeout: 20,
      refreshHardLimit: 60,
      tokens: { refreshToken: 'R' },
    });
    expect(await rejection(s.refreshAccessToken())).toMatchObject({ timeout: 20 });
    const started = Date.now();
    await s.settled();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(s.getRefreshToken()).toBe('R');
  });
});

describe('onTokens', () => {
  it('is awaited before the method resolves, and sees the new tokens first', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { fetch } = stub(json(TOKENS));
    const s = session({
      fetch,
      onTokens: async (tokens, event) => {
        order.push(`onTokens start ${tokens.refreshToken} ${event.grant}`);
        // The Session does not hand out the new access token before it is persisted.
        order.push(`during: ${s.getAccessToken()}`);
        await gate;
        order.push('onTokens end');
      },
    });
    const pending = s.requestAccessToken('C').then(() => order.push('resolved'));
    await vi.waitFor(() => expect(order).toContain('during: undefined'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(order).not.toContain('resolved');
    release();
    await pending;
    expect(order).toEqual([
      'onTokens start REFRESH-1 authorization_code',
      'during: undefined',
      'onTokens end',
      'resolved',
    ]);
    expect(s.getAccessToken()).toBe('ACCESS-1');
  });

  it('accepts a callback that returns a value (Map.set, Redis "OK", a database row)', async () => {
    const { fetch } = stub(json(TOKENS));
    const db = new Map<string, SessionTokens>();
    const save = async (tokens: SessionTokens) => db.set('user-1', tokens);
    // Type-checked by `npm run typecheck`: OnTokens accepts any return value.
    const s = session({ fetch, onTokens: async (tokens) => save(tokens) });
    await s.requestAccessToken('C');
    expect(db.get('user-1')).toMatchObject({ accessToken: 'ACCESS-1', refreshToken: 'REFRESH-1' });
    const redisLike = session({ fetch, onTokens: () => Promise.resolve('OK' as const) });
    await expect(redisLike.requestAccessToken('C')).resolves.toMatchObject({
      accessToken: 'ACCESS-1',
    });
  });

  it('rejects with TokenCallbackError when it throws, keeping the new tokens', async () => {
    const { fetch } = stub(json({ ...TOKENS, refresh_token: 'ROTATED' }));
    const failure = new Error('database down');
    const s = session({
      fetch,
      tokens: { refreshToken: 'R' },
      onTokens: () => {
        throw failure;
      },
    });
    const error = await rejection(s.refreshAccessToken());
    expect(error).toBeInstanceOf(TokenCallbackError);
    expect(error.cause).toBe(failure);
    expect(s.getRefreshToken()).toBe('ROTATED');
  });
});

describe('expiry, setters and serialisation', () => {
  it('isExpired honours the skew and unknown expirations', () => {
    let now = NOW;
    const s = session({ now: () => now });
    expect(s.isExpired()).toBe(true);
    s.setAccessToken('A');
    expect(s.isExpired()).toBe(false);
    s.setTokenExpiration(NOW / 1000 + 120);
    expect(s.isExpired()).toBe(false);
    expect(s.isExpired(120)).toBe(true);
    now += 61_000;
    expect(s.isExpired()).toBe(true);
    expect(s.isExpired(0)).toBe(false);
  });

  it('round-trips through toJSON / JSON text / fromJSON, with only defined fields', () => {
    const s = session();
    expect(s.toJSON()).toEqual({});
    s.setAccessToken('A');
    s.setRefreshToken('R');
    s.setTokenExpiration(1_800_000_100);
    s.setScope('a b');
    const text = JSON.stringify(s);
    expect(JSON.parse(text)).toEqual({
      accessToken: 'A',
      refreshToken: 'R',
      expiresAt: 1_800_000_100,
      scope: ['a', 'b'],
    });
    const restored = Session.fromJSON({ clientId: CLIENT_ID }, JSON.parse(text));
    expect(restored.getAccessToken()).toBe('A');
    expect(restored.getRefreshToken()).toBe('R');
    expect(restored.getTokenExpiration()).toBe(1_800_000_100);
    expect(restored.getScope()).toEqual(['a', 'b']);
  });

  it('validates setters', () => {
    const s = session();
    expect(() => s.setAccessToken('')).toThrow(InvalidArgumentError);
    expect(() => s.setTokenExpiration(NOW)).toThrow(/milliseconds/);
    expect(() => s.setScope(['a b'])).toThrow(InvalidArgumentError);
    s.setRefreshToken('R');
    s.setRefreshToken(undefined);
    expect(s.getRefreshToken()).toBeUndefined();
  });
});

describe('no secret in any message', () => {
  it('never puts the client secret, a code, a verifier or a token in an error message', async () => {
    const secrets = {
      secret: 'SECRET-CLIENT-zzz',
      code: 'SECRET-CODE-zzz',
      verifier: `SECRET-VERIFIER-${'v'.repeat(40)}`,
      refresh: 'SECRET-REFRESH-zzz',
      access: 'SECRET-ACCESS-zzz',
    };
    const replies: Reply[] = [
      json({ error: 'invalid_grant', error_description: 'Invalid authorization code' }, 400),
      json({ error: 'invalid_client' }, 400),
      json('', 429, { 'retry-after': '5' }),
      new Response('oops', { status: 500 }),
      json({ access_token: 42, token_type: 'Bearer', refresh_token: secrets.refresh }),
      json({ access_token: secrets.access, token_type: 'mac', refresh_token: secrets.refresh }),
      json({ access_token: secrets.access, token_type: 'Bearer', expires_in: 'soon' }),
      json({ access_token: secrets.access, token_type: 'Bearer', scope: 7 }),
      new Response(`not json ${secrets.access}`, { status: 200 }),
    ];
    const errors: unknown[] = [];
    for (const reply of replies) {
      const { fetch } = stub(reply);
      for (const publicClient of [false, true]) {
        const s = new Session({
          clientId: CLIENT_ID,
          clientSecret: publicClient ? undefined : secrets.secret,
          redirectUri: REDIRECT_URI,
          accountsUrl: ACCOUNTS,
          fetch,
          tokens: { refreshToken: secrets.refresh, accessToken: secrets.access },
        });
        errors.push(await rejection(s.requestAccessToken(secrets.code, secrets.verifier)));
        errors.push(await rejection(s.refreshAccessToken(secrets.refresh)));
        if (!publicClient) errors.push(await rejection(s.requestCredentialsToken()));
      }
    }
    const failing = session({
      clientSecret: secrets.secret,
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    errors.push(await rejection(failing.requestAccessToken(secrets.code, secrets.verifier)));
    errors.push(await rejection(failing.refreshAccessToken(secrets.refresh)));
    const hang = session({
      clientSecret: secrets.secret,
      timeout: 10,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) =>
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
    });
    errors.push(await rejection(hang.requestAccessToken(secrets.code, secrets.verifier)));
    errors.push(
      await rejection(
        session({
          clientSecret: secrets.secret,
          fetch: stub(json(TOKENS)).fetch,
          onTokens: () => {
            throw new Error('disk full');
          },
        }).requestAccessToken(secrets.code),
      ),
    );
    // Argument and configuration errors.
    errors.push(
      await rejection(session().requestAccessToken(secrets.code, `${secrets.verifier}!`)),
    );
    errors.push(await rejection(session().refreshAccessToken(`${secrets.refresh} x`)));
    try {
      session().getAuthorizeUrl({ codeChallenge: secrets.verifier });
    } catch (error) {
      errors.push(error);
    }
    try {
      new Session({
        clientId: CLIENT_ID,
        clientSecret: secrets.secret,
        redirectUri: 'http://localhost/cb',
      });
    } catch (error) {
      errors.push(error);
    }

    const kinds = new Set(errors.map((error) => (error as SpotifyError).code));
    for (const kind of [
      'OAUTH_ERROR',
      'REFRESH_TOKEN_REVOKED',
      'RATE_LIMITED',
      'HTTP_ERROR',
      'INVALID_RESPONSE',
      'NETWORK_ERROR',
      'TIMEOUT',
      'TOKEN_CALLBACK_FAILED',
      'INVALID_ARGUMENT',
      'INVALID_CONFIGURATION',
    ]) {
      expect(kinds).toContain(kind);
    }
    for (const error of errors) {
      expect(error).toBeInstanceOf(SpotifyError);
      let current: unknown = error;
      while (current instanceof Error) {
        const text = `${current.message}\n${current.stack ?? ''}\n${String(current)}`;
        for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
        current = current.cause;
      }
      // Enumerable fields (what loggers serialise) hold only what Spotify sent.
      const serialised = JSON.stringify(error);
      for (const secret of Object.values(secrets)) expect(serialised).not.toContain(secret);
    }
  });
});

describe('getValidAccessToken', () => {
  it('returns the current token while it is valid, without a request', async () => {
    const { fetch, seen } = stub(json(TOKENS));
    const s = session({ fetch, tokens: { accessToken: 'A', expiresAt: NOW / 1000 + 3600 } });
    await expect(s.getValidAccessToken()).resolves.toBe('A');
    expect(seen).toHaveLength(0);
  });

  it('refreshes an expiring token (honouring skewSeconds) once for concurrent callers', async () => {
    const { fetch, seen } = stub(json({ ...TOKENS, access_token: 'FRESH' }));
    const s = session({
      fetch,
      tokens: { accessToken: 'OLD', refreshToken: 'R', expiresAt: NOW / 1000 + 30 },
    });
    await expect(s.getValidAccessToken({ skewSeconds: 10 })).resolves.toBe('OLD');
    const tokens = await Promise.all([s.getValidAccessToken(), s.getValidAccessToken()]);
    expect(tokens).toEqual(['FRESH', 'FRESH']);
    expect(seen).toHaveLength(1);
  });

  it('renews an app-only token with client credentials, and refuses when nothing can renew', async () => {
    let now = NOW;
    const { fetch, seen } = stub(
      json({ access_token: 'APP-1', token_type: 'Bearer', expires_in: 3600 }),
      json({ access_token: 'APP-2', token_type: 'Bearer', expires_in: 3600 }),
    );
    const s = session({ fetch, now: () => now });
    await s.requestCredentialsToken();
    now += 3600_000;
    const renewed = await Promise.all([s.getValidAccessToken(), s.getValidAccessToken()]);
    expect(renewed).toEqual(['APP-2', 'APP-2']);
    expect(seen.map((r) => r.body.get('grant_type'))).toEqual([
      'client_credentials',
      'client_credentials',
    ]);
    const restored = session({ tokens: { accessToken: 'A', expiresAt: 1 } });
    const error = await rejection(restored.getValidAccessToken());
    expect(error).toBeInstanceOf(NoRefreshTokenError);
    expect(error.message).toContain('expired');
  });

  it('says there is no token yet (not that it expired) when there never was one, and how to get one', async () => {
    const error = await rejection(session().getValidAccessToken());
    expect(error).toBeInstanceOf(NoRefreshTokenError);
    expect(error.message).toMatch(/^No access token yet \(the Session holds none\)/);
    expect(error.message).not.toContain('expired');
    for (const way of ['requestAccessToken', 'setRefreshToken', 'requestCredentialsToken']) {
      expect(error.message).toContain(way);
    }
  });

  it('says Spotify refused the refresh token once it did', async () => {
    const { fetch } = stub(json({ error: 'invalid_grant' }, 400));
    const s = session({ fetch, tokens: { refreshToken: 'R' } });
    await expect(s.refreshAccessToken()).rejects.toBeInstanceOf(RefreshTokenRevokedError);
    const error = await rejection(s.getValidAccessToken());
    expect(error.message).toMatch(/^Spotify refused the refresh token/);
    expect(error.message).toContain('authorization again');
  });

  it('renews client-credentials tokens restored from toJSON() with client credentials', async () => {
    let now = NOW;
    const { fetch, seen } = stub(
      json({ access_token: 'APP-1', token_type: 'Bearer', expires_in: 3600 }),
      json({ access_token: 'APP-2', token_type: 'Bearer', expires_in: 3600 }),
    );
    const live = session({ fetch, now: () => now });
    await live.requestCredentialsToken();
    const saved = JSON.stringify(live);
    expect(JSON.parse(saved)).toMatchObject({ grant: 'client_credentials' });
    now += 3600_000;
    const restored = Session.fromJSON(
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        accountsUrl: ACCOUNTS,
        fetch,
        now: () => now,
      },
      saved,
    );
    await expect(restored.getValidAccessToken()).resolves.toBe('APP-2');
    expect(seen.map((r) => r.body.get('grant_type'))).toEqual([
      'client_credentials',
      'client_credentials',
    ]);
    expect(() => Session.fromJSON({ clientId: CLIENT_ID }, { grant: 'password' } as never)).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('signals', () => {
  it('sends nothing for an already-aborted refresh', async () => {
    const { fetch, seen } = stub(json(TOKENS));
    const s = session({ fetch, tokens: { refreshToken: 'R' } });
    await expect(
      s.refreshAccessToken(undefined, { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(seen).toHaveLength(0);
  });

  it('times out even with a fetch that ignores the signal', async () => {
    const deaf = () => new Promise<Response>(() => {});
    const error = await rejection(session({ fetch: deaf, timeout: 20 }).requestCredentialsToken());
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it('refuses a signal that is not an AbortSignal', async () => {
    const { fetch } = stub(json(TOKENS));
    await expect(
      session({ fetch }).requestCredentialsToken({ signal: {} as AbortSignal }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('logout', () => {
  it('forgets the tokens; a refresh under way keeps nothing it gets afterwards', async () => {
    let answer: (() => void) | undefined;
    const session = new Session({
      clientId: 'id',
      accountsUrl: 'http://127.0.0.1:9',
      tokens: { accessToken: 'A1', refreshToken: 'R1', expiresAt: 1 },
      fetch: async () => {
        await new Promise<void>((resolve) => {
          answer = resolve;
        });
        return Response.json({ access_token: 'A2', token_type: 'Bearer', expires_in: 3600 });
      },
    });
    const pending = session.getValidAccessToken();
    await vi.waitFor(() => expect(answer).toBeDefined());
    await session.logout();
    expect(session.toJSON()).toEqual({});
    answer?.();
    await expect(pending).rejects.toMatchObject({ code: 'NO_REFRESH_TOKEN' });
    expect(session.toJSON()).toEqual({});
  });
});
