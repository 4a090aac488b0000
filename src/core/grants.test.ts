import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP, type Emulator } from '../emulator/index.js';
import {
  ConfigurationError,
  HTTPError,
  InvalidArgumentError,
  InvalidResponseError,
  OAuthError,
  RateLimitError,
  RefreshTokenRevokedError,
} from './errors/index.js';
import {
  authorizationCodeGrant,
  type ClientConfigOptions,
  clientCredentialsGrant,
  MAX_EXPIRES_IN_SECONDS,
  refreshTokenGrant,
  resolveClientConfig,
} from './grants.js';
import { generateCodeChallenge, generateCodeVerifier } from './pkce.js';

/** Loopback, so plain http is allowed; requests never leave the process (see `inProcess`). */
const ACCOUNTS = 'http://127.0.0.1:9';
const REDIRECT_URI = 'http://127.0.0.1:8888/callback';

interface Sent {
  url: string;
  headers: Headers;
  body: URLSearchParams;
}

/** A fetch that hands each request to the emulator in process, recording what was sent. */
function inProcess(emulator: Emulator) {
  const sent: Sent[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const request = new Request(url, init);
    sent.push({
      url,
      headers: new Headers(request.headers),
      body: new URLSearchParams(await request.clone().text()),
    });
    return emulator.fetch(request);
  };
  return { fetch, sent };
}

function config(emulator: Emulator, options: Partial<ClientConfigOptions> = {}) {
  const transport = inProcess(emulator);
  return {
    ...transport,
    config: resolveClientConfig({
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      accountsUrl: ACCOUNTS,
      fetch: transport.fetch,
      ...options,
    }),
  };
}

/** Runs `/authorize` with auto-approve and returns the code. */
async function authorize(emulator: Emulator, codeChallenge?: string): Promise<string> {
  const url = new URL(`${ACCOUNTS}/authorize`);
  url.searchParams.set('client_id', DEMO_APP.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', REDIRECT_URI);
  url.searchParams.set('scope', 'user-read-private playlist-read-private');
  if (codeChallenge !== undefined) {
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('code_challenge', codeChallenge);
  }
  const response = await emulator.fetch(new Request(url));
  expect(response.status).toBe(302);
  const code = new URL(response.headers.get('location') ?? '').searchParams.get('code');
  if (code === null) throw new Error('no code in the redirect');
  return code;
}

let emulator: Emulator;
afterEach(() => emulator?.reset());

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function stubbed(response: () => Response, options: Partial<ClientConfigOptions> = {}) {
  return resolveClientConfig({
    clientId: 'id',
    clientSecret: 'secret',
    accountsUrl: ACCOUNTS,
    fetch: async () => response(),
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

describe('authorizationCodeGrant', () => {
  it('exchanges a code as a confidential app with Basic base64(id:secret) exactly', async () => {
    emulator = createEmulator({ autoApprove: true });
    const { config: app, sent } = config(emulator);
    const code = await authorize(emulator);
    const result = await authorizationCodeGrant(app, { code, redirectUri: REDIRECT_URI });
    expect(result).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 3600,
      scope: 'user-read-private playlist-read-private',
    });
    expect(result.accessToken).toMatch(/^\S+$/);
    expect(result.refreshToken).toMatch(/^\S+$/);
    expect(sent).toHaveLength(1);
    const [request] = sent;
    expect(request?.url).toBe(`${ACCOUNTS}/api/token`);
    expect(request?.headers.get('authorization')).toBe(
      `Basic ${btoa(`${DEMO_APP.clientId}:${DEMO_APP.clientSecret}`)}`,
    );
    expect(request?.headers.get('content-type')).toContain('application/x-www-form-urlencoded');
    expect(Object.fromEntries(request?.body ?? [])).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
    });
    // A code works once.
    const again = await rejection(authorizationCodeGrant(app, { code, redirectUri: REDIRECT_URI }));
    expect(again).toBeInstanceOf(OAuthError);
    expect(again).not.toBeInstanceOf(RefreshTokenRevokedError);
    expect(again).toMatchObject({ error: 'invalid_grant', status: 400 });
  });

  it('exchanges with PKCE as a public client: client_id and verifier in the body, no Basic', async () => {
    emulator = createEmulator({ autoApprove: true });
    const { config: pkce, sent } = config(emulator, { clientSecret: undefined });
    expect(pkce.confidential).toBe(false);
    const verifier = generateCodeVerifier();
    const code = await authorize(emulator, await generateCodeChallenge(verifier));
    const result = await authorizationCodeGrant(pkce, {
      code,
      redirectUri: REDIRECT_URI,
      codeVerifier: verifier,
    });
    expect(result.refreshToken).toBeDefined();
    expect(sent[0]?.headers.get('authorization')).toBeNull();
    expect(sent[0]?.body.get('client_id')).toBe(DEMO_APP.clientId);
    expect(sent[0]?.body.get('code_verifier')).toBe(verifier);
  });

  it('refuses bad arguments before sending anything', async () => {
    emulator = createEmulator();
    const { config: pkce, sent } = config(emulator, { clientSecret: undefined });
    await expect(
      authorizationCodeGrant(pkce, { code: 'C', redirectUri: REDIRECT_URI }),
    ).rejects.toMatchObject({ argument: 'codeVerifier' });
    await expect(
      authorizationCodeGrant(pkce, { code: 'C', redirectUri: REDIRECT_URI, codeVerifier: 'short' }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      authorizationCodeGrant(pkce, { code: 'a b', redirectUri: REDIRECT_URI }),
    ).rejects.toMatchObject({ argument: 'code' });
    await expect(
      authorizationCodeGrant(pkce, { code: 'C', redirectUri: '' }),
    ).rejects.toMatchObject({ argument: 'redirectUri' });
    expect(sent).toHaveLength(0);
  });
});

describe('refreshTokenGrant', () => {
  it('refreshes a public client with client_id in the body and no redirect_uri', async () => {
    emulator = createEmulator({ autoApprove: true, rotation: 'never' });
    const { config: pkce, sent } = config(emulator, { clientSecret: undefined });
    const verifier = generateCodeVerifier();
    const code = await authorize(emulator, await generateCodeChallenge(verifier));
    const first = await authorizationCodeGrant(pkce, {
      code,
      redirectUri: REDIRECT_URI,
      codeVerifier: verifier,
    });
    const refreshed = await refreshTokenGrant(pkce, { refreshToken: first.refreshToken ?? '' });
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect(refreshed.refreshToken).toBeUndefined();
    expect(Object.fromEntries(sent[1]?.body ?? [])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: first.refreshToken,
      client_id: DEMO_APP.clientId,
    });
    expect(sent[1]?.headers.get('authorization')).toBeNull();
  });

  it('returns a rotated refresh token; the old one then fails with RefreshTokenRevokedError', async () => {
    emulator = createEmulator({ autoApprove: true, rotation: 'always' });
    const { config: app, sent } = config(emulator);
    const code = await authorize(emulator);
    const first = await authorizationCodeGrant(app, { code, redirectUri: REDIRECT_URI });
    const old = first.refreshToken ?? '';
    const rotated = await refreshTokenGrant(app, { refreshToken: old });
    expect(rotated.refreshToken).toBeDefined();
    expect(rotated.refreshToken).not.toBe(old);
    expect(sent[1]?.headers.get('authorization')).toMatch(/^Basic /);
    expect(sent[1]?.body.has('client_id')).toBe(false);
    expect(sent[1]?.body.has('redirect_uri')).toBe(false);
    const error = await rejection(refreshTokenGrant(app, { refreshToken: old }));
    expect(error).toBeInstanceOf(RefreshTokenRevokedError);
    expect(error).toMatchObject({ code: 'REFRESH_TOKEN_REVOKED', error: 'invalid_grant' });
    expect(error.message).not.toContain(old);
  });

  it('refuses a malformed refresh token', async () => {
    emulator = createEmulator();
    const { config: app, sent } = config(emulator);
    await expect(refreshTokenGrant(app, { refreshToken: '' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(sent).toHaveLength(0);
  });
});

describe('clientCredentialsGrant', () => {
  it('gets an app token with Basic and no refresh token', async () => {
    emulator = createEmulator();
    const { config: app, sent } = config(emulator);
    const result = await clientCredentialsGrant(app);
    expect(result).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, refreshToken: undefined });
    expect(Object.fromEntries(sent[0]?.body ?? [])).toEqual({ grant_type: 'client_credentials' });
    await clientCredentialsGrant(app, { scope: ['user-read-private', 'user-read-email'] });
    expect(sent[1]?.body.get('scope')).toBe('user-read-private user-read-email');
  });

  it('needs a client secret', async () => {
    emulator = createEmulator();
    const { config: pkce, sent } = config(emulator, { clientSecret: undefined });
    await expect(clientCredentialsGrant(pkce)).rejects.toBeInstanceOf(ConfigurationError);
    expect(sent).toHaveLength(0);
  });
});

describe('Basic authentication', () => {
  it('encodes id:secret as UTF-8 base64 without form-encoding the parts', async () => {
    const seen: string[] = [];
    const app = resolveClientConfig({
      clientId: 'my-app_1',
      clientSecret: 'sé:cret~',
      accountsUrl: ACCOUNTS,
      fetch: async (_url, init) => {
        seen.push(new Headers(init.headers).get('authorization') ?? '');
        return json({ access_token: 'A', token_type: 'Bearer', expires_in: 3600 });
      },
    });
    await clientCredentialsGrant(app);
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob((seen[0] ?? '').slice('Basic '.length)), (c) => c.charCodeAt(0)),
    );
    expect(decoded).toBe('my-app_1:sé:cret~');
  });
});

describe('answers', () => {
  it('accepts expires_in as a string, floors fractions and clamps huge values', async () => {
    const answer = (expires_in: unknown) => () =>
      json({ access_token: 'A', token_type: 'bearer', expires_in });
    expect((await clientCredentialsGrant(stubbed(answer('3600')))).expiresIn).toBe(3600);
    expect((await clientCredentialsGrant(stubbed(answer(3599.7)))).expiresIn).toBe(3599);
    expect((await clientCredentialsGrant(stubbed(answer(1e23)))).expiresIn).toBe(
      MAX_EXPIRES_IN_SECONDS,
    );
    expect((await clientCredentialsGrant(stubbed(answer(undefined)))).expiresIn).toBe(3600);
    expect((await clientCredentialsGrant(stubbed(answer(3600)))).tokenType).toBe('Bearer');
    for (const bad of [-1, '1e5', 'soon', {}, true]) {
      await expect(clientCredentialsGrant(stubbed(answer(bad)))).rejects.toBeInstanceOf(
        InvalidResponseError,
      );
    }
  });

  it('refuses tokens with whitespace or control characters', async () => {
    for (const body of [
      { access_token: 'A B', token_type: 'Bearer' },
      { access_token: 'A\u0000', token_type: 'Bearer' },
      { access_token: 'A', refresh_token: 'R\n', token_type: 'Bearer' },
      { access_token: 'Aé', token_type: 'Bearer' },
    ]) {
      const error = await rejection(clientCredentialsGrant(stubbed(() => json(body))));
      expect(error).toBeInstanceOf(InvalidResponseError);
      expect(error).toMatchObject({ status: 200 });
    }
  });

  it.each([
    ['no access_token', { token_type: 'Bearer' }, /access_token must be a non-empty string/],
    ['an empty access_token', { access_token: '', token_type: 'Bearer' }, /access_token/],
    ['a numeric access_token', { access_token: 7, token_type: 'Bearer' }, /access_token/],
    ['no token_type', { access_token: 'A' }, /token_type must be a non-empty string/],
    ['a MAC token_type', { access_token: 'A', token_type: 'mac' }, /token_type must be Bearer/],
    [
      'a numeric refresh_token',
      { access_token: 'A', token_type: 'Bearer', refresh_token: 5 },
      /refresh_token must be a non-empty string/,
    ],
    [
      'an empty refresh_token',
      { access_token: 'A', token_type: 'Bearer', refresh_token: '' },
      /refresh_token/,
    ],
    ['a numeric scope', { access_token: 'A', token_type: 'Bearer', scope: 5 }, /scope must be/],
  ])('refuses a 200 with %s, saying which field', async (_name, body, message) => {
    const error = await rejection(clientCredentialsGrant(stubbed(() => json(body))));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error).toMatchObject({ status: 200 });
    expect((error as Error).message).toMatch(message);
  });

  it('accepts any casing of Bearer, ignores id_token, and keeps the granted scope', async () => {
    const result = await clientCredentialsGrant(
      stubbed(() =>
        json({
          access_token: 'A',
          token_type: 'BEARER',
          id_token: 'not.a.jwt',
          scope: 'a b',
          refresh_token: 'R',
        }),
      ),
    );
    expect(result).toEqual({
      accessToken: 'A',
      tokenType: 'Bearer',
      expiresIn: 3600,
      scope: 'a b',
      refreshToken: 'R',
    });
  });

  it('maps 429, other statuses and OAuth errors to typed errors', async () => {
    const limited = await rejection(
      clientCredentialsGrant(stubbed(() => json({}, 429, { 'retry-after': '1e+23' }))),
    );
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited).toMatchObject({ status: 429, retryAfter: undefined });
    const capped = await rejection(
      clientCredentialsGrant(stubbed(() => json({}, 429, { 'retry-after': '999999999' }))),
    );
    expect(capped).toMatchObject({ retryAfter: 86_400 });

    const down = await rejection(
      clientCredentialsGrant(stubbed(() => json({ error: 'server_error' }, 503, { 'x-a': 'b' }))),
    );
    expect(down).toBeInstanceOf(HTTPError);
    expect(down).toMatchObject({ status: 503, body: { error: 'server_error' } });
    expect((down as HTTPError).headers.get('x-a')).toBe('b');

    const refused = await rejection(
      refreshTokenGrant(
        stubbed(() => json({ error: 'invalid_client', error_description: 'Invalid client' }, 400)),
        { refreshToken: 'R' },
      ),
    );
    expect(refused).toBeInstanceOf(OAuthError);
    expect(refused).not.toBeInstanceOf(RefreshTokenRevokedError);
    expect(refused).toMatchObject({ error: 'invalid_client', errorDescription: 'Invalid client' });
  });
});

describe('redirects', () => {
  it('the token endpoint’s redirect is not followed: HTTPError naming accountsUrl', async () => {
    const redirects: unknown[] = [];
    const config = resolveClientConfig({
      clientId: 'id',
      clientSecret: 'secret',
      accountsUrl: ACCOUNTS,
      fetch: async (_url: string, init: RequestInit) => {
        redirects.push(init.redirect);
        return new Response(null, {
          status: 307,
          headers: { location: 'https://elsewhere.example/api/token' },
        });
      },
    });
    const error = await rejection(refreshTokenGrant(config, { refreshToken: 'R' }));
    expect(error).toBeInstanceOf(HTTPError);
    expect(error).toMatchObject({ status: 307 });
    expect(error.message).toMatch(/https:\/\/elsewhere\.example\/api\/token.*accountsUrl/);
    expect(redirects).toEqual(['manual']);
  });
});

describe('resolveClientConfig', () => {
  it('refuses unusable options naming the option', () => {
    const cases: Array<[Partial<ClientConfigOptions>, string]> = [
      [{ clientId: '' }, 'clientId'],
      [{ clientSecret: '' }, 'clientSecret'],
      [{ accountsUrl: 'http://accounts.example.com' }, 'accountsUrl'],
      [{ timeout: 0 }, 'timeout'],
      [{ timeout: 1.5 }, 'timeout'],
      [{ fetch: 'nope' as never }, 'fetch'],
      [{ now: 1 as never }, 'now'],
    ];
    for (const [options, option] of cases) {
      expect(() => resolveClientConfig({ clientId: 'id', ...options })).toThrow(
        expect.objectContaining({ option }),
      );
    }
  });

  it('exposes only harmless fields and refuses a hand-made config', async () => {
    const app = resolveClientConfig({ clientId: 'id', clientSecret: 'secret' });
    expect(app).toEqual({
      clientId: 'id',
      accountsUrl: 'https://accounts.spotify.com',
      confidential: true,
    });
    expect(JSON.stringify(app)).not.toContain('secret"');
    await expect(
      clientCredentialsGrant({ clientId: 'id', accountsUrl: ACCOUNTS, confidential: true }),
    ).rejects.toMatchObject({ argument: 'config' });
  });
});
