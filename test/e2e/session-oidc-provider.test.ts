/**
 * The Session's main flows against oidc-provider v9, an independent
 * certified OAuth 2.0 / OpenID Connect server, configured with Spotify's
 * paths (`/authorize`, `/api/token`), a confidential client
 * (client_secret_basic, PKCE optional), a public client (`none`, PKCE S256 required),
 * client credentials, and refresh tokens on every code exchange. Proves the
 * Session speaks standard OAuth, not just the emulator's dialect.
 *
 * Differences from Spotify, handled in the server's configuration:
 * - oidc-provider grants non-OpenID scopes only for a resource server, so the
 *   Spotify scopes belong to a default resource indicator (Spotify's Web API
 *   stands in); no `openid` scope is needed.
 * - It adds `iss` to the callback (RFC 9207): the callback helper ignores
 *   extra parameters, as it must for Spotify.
 * - It rotates a public client's refresh token on every refresh (Spotify's
 *   PKCE rotation) and echoes a confidential client's unchanged one back.
 * - A wrong PKCE verifier does not consume the code (Spotify's behaviour is undocumented).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OAuthError,
  RefreshTokenRevokedError,
  Session,
  type SessionOptions,
} from '../../src/core/index.js';
import {
  CONFIDENTIAL_CLIENT,
  followToCallback,
  OIDC_REDIRECT_URI,
  OIDC_SCOPES,
  PUBLIC_CLIENT,
  type RunningProvider,
  startOidcProvider,
} from '../support/oidc-provider.js';

const SCOPES = ['playlist-read-private', 'user-read-private'];

let running: RunningProvider;

beforeAll(async () => {
  running = await startOidcProvider();
});

afterAll(async () => {
  await running?.close();
});

interface Seen {
  headers: Headers;
  body: URLSearchParams;
}

function spyFetch() {
  const seen: Seen[] = [];
  const spy = async (url: string, init: RequestInit): Promise<Response> => {
    seen.push({ headers: new Headers(init.headers), body: new URLSearchParams(String(init.body)) });
    return fetch(url, init);
  };
  return { fetch: spy, seen };
}

function confidential(options: Partial<SessionOptions> = {}): Session {
  return new Session({
    ...CONFIDENTIAL_CLIENT,
    redirectUri: OIDC_REDIRECT_URI,
    accountsUrl: running.url,
    ...options,
  });
}

function publicClient(options: Partial<SessionOptions> = {}): Session {
  return new Session({
    ...PUBLIC_CLIENT,
    redirectUri: OIDC_REDIRECT_URI,
    accountsUrl: running.url,
    ...options,
  });
}

async function authorize(session: Session): Promise<{ code: string; verifier: string }> {
  const verifier = Session.generateCodeVerifier();
  const state = Session.generateState();
  const url = session.getAuthorizeUrl({
    scope: SCOPES,
    state,
    codeChallenge: await Session.generateCodeChallenge(verifier),
  });
  const callback = await followToCallback(url);
  expect(new URL(callback).searchParams.get('iss')).toBe(running.url);
  return { code: session.getCodeFromCallback(callback, state), verifier };
}

/** The seed's confidential flow: no PKCE, the secret alone authenticates the exchange. */
async function authorizeWithoutPkce(session: Session): Promise<string> {
  const state = Session.generateState();
  const url = session.getAuthorizeUrl({ scope: SCOPES, state, showDialog: true });
  expect(new URL(url).searchParams.has('code_challenge')).toBe(false);
  return session.getCodeFromCallback(await followToCallback(url), state);
}

describe('Session × oidc-provider', () => {
  it('authorization code flow, confidential client (HTTP Basic, no PKCE), then refresh', async () => {
    const { fetch, seen } = spyFetch();
    const session = confidential({ fetch });
    const tokens = await session.requestAccessToken(await authorizeWithoutPkce(session));
    expect(seen[0]?.headers.get('authorization')).toBe(
      `Basic ${btoa(`${CONFIDENTIAL_CLIENT.clientId}:${CONFIDENTIAL_CLIENT.clientSecret}`)}`,
    );
    expect(Object.fromEntries(seen[0]?.body ?? [])).toEqual({
      grant_type: 'authorization_code',
      code: expect.any(String),
      redirect_uri: OIDC_REDIRECT_URI,
    });
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.expiresIn).toBe(3600);
    expect(tokens.scope.sort()).toEqual([...SCOPES].sort());
    expect(tokens.refreshToken).toEqual(expect.any(String));

    const refreshed = await session.refreshAccessToken();
    expect(seen[1]?.headers.get('authorization')).toMatch(/^Basic /);
    expect(Object.fromEntries(seen[1]?.body ?? [])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: tokens.refreshToken,
    });
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
  });

  it('a public client cannot skip PKCE (oidc-provider refuses, like Spotify)', async () => {
    const url = new URL(`${running.url}/authorize`);
    url.search = new URLSearchParams({
      client_id: PUBLIC_CLIENT.clientId,
      response_type: 'code',
      redirect_uri: OIDC_REDIRECT_URI,
      scope: SCOPES.join(' '),
      state: 'no-pkce',
    }).toString();
    const callback = new URL(await followToCallback(url.href));
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(() => publicClient().getCodeFromCallback(callback.href, 'no-pkce')).toThrow(
      expect.objectContaining({ reason: 'invalid_request' }),
    );
  });

  it('authorization code flow, confidential client (HTTP Basic + PKCE), then refresh', async () => {
    const { fetch, seen } = spyFetch();
    const session = confidential({ fetch });
    const { code, verifier } = await authorize(session);
    const tokens = await session.requestAccessToken(code, verifier);
    expect(seen[0]?.headers.get('authorization')).toMatch(/^Basic /);
    expect(seen[0]?.body.get('client_id')).toBeNull();
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.expiresIn).toBe(3600);
    expect(tokens.scope.sort()).toEqual([...SCOPES].sort());
    expect(tokens.refreshToken).toEqual(expect.any(String));

    const refreshed = await session.refreshAccessToken();
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.scope.sort()).toEqual([...SCOPES].sort());
    // oidc-provider does not rotate a confidential client's refresh token; it echoes it back.
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
    expect(session.getRefreshToken()).toBe(tokens.refreshToken);
  });

  it('authorization code flow, public client (PKCE, client_id in the body), refresh with rotation', async () => {
    const { fetch, seen } = spyFetch();
    const session = publicClient({ fetch });
    const { code, verifier } = await authorize(session);
    const tokens = await session.requestAccessToken(code, verifier);
    expect(seen[0]?.headers.get('authorization')).toBeNull();
    expect(seen[0]?.body.get('client_id')).toBe(PUBLIC_CLIENT.clientId);
    expect(seen[0]?.body.get('code_verifier')).toBe(verifier);

    const refreshed = await session.refreshAccessToken();
    expect(seen[1]?.headers.get('authorization')).toBeNull();
    expect(seen[1]?.body.get('client_id')).toBe(PUBLIC_CLIENT.clientId);
    expect(refreshed.refreshToken).toEqual(expect.any(String));
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(session.getRefreshToken()).toBe(refreshed.refreshToken);

    // The rotated-out token is refused with invalid_grant → RefreshTokenRevokedError.
    await expect(publicClient().refreshAccessToken(tokens.refreshToken)).rejects.toBeInstanceOf(
      RefreshTokenRevokedError,
    );
  });

  it('refuses a wrong verifier and a reused code with OAuthError invalid_grant', async () => {
    const session = publicClient();
    const { code, verifier } = await authorize(session);
    const wrong = await session
      .requestAccessToken(code, Session.generateCodeVerifier())
      .catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(OAuthError);
    expect(wrong).toMatchObject({ status: 400, error: 'invalid_grant' });
    // A failed PKCE check does not consume the code at oidc-provider; the right verifier works once.
    await expect(session.requestAccessToken(code, verifier)).resolves.toBeDefined();
    const reused = await session
      .requestAccessToken(code, verifier)
      .catch((error: unknown) => error);
    expect(reused).toBeInstanceOf(OAuthError);
    expect(reused).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('client credentials flow', async () => {
    const session = confidential();
    const tokens = await session.requestCredentialsToken();
    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.refreshToken).toBeUndefined();
    const scoped = await session.requestCredentialsToken({ scope: [OIDC_SCOPES[0] as string] });
    expect(scoped.scope).toEqual([OIDC_SCOPES[0]]);
  });

  it('maps a wrong client secret to OAuthError invalid_client', async () => {
    const error = await confidential({ clientSecret: 'wrong-secret-value' })
      .requestCredentialsToken()
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ error: 'invalid_client' });
  });
});
