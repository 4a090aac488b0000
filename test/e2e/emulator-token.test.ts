/**
 * `POST /api/token` over real HTTP with raw fetch: every documented case,
 * client authentication, the three grants, rotation, lifetimes and revocation.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  basic,
  CLIENT_ID,
  CLIENT_SECRET,
  codeFor,
  control,
  exchange,
  pkcePair,
  REDIRECT_URI,
  token,
} from '../../src/emulator/_test-http.js';
import {
  createEmulator,
  DEMO_APP,
  type Emulator,
  type EmulatorOptions,
  type EmulatorServer,
} from '../../src/emulator/index.js';

const OTHER_APP = {
  clientId: 'other-app',
  clientSecret: 'other-secret',
  redirectUris: [REDIRECT_URI],
};
const T0 = Date.UTC(2026, 6, 1);
const servers: EmulatorServer[] = [];

async function start(options: EmulatorOptions = {}): Promise<{ emulator: Emulator; url: string }> {
  const emulator = createEmulator({
    apps: [DEMO_APP, OTHER_APP],
    autoApprove: true,
    now: () => T0,
    ...options,
  });
  const server = await emulator.listen({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  return { emulator, url: server.url };
}

let emulator: Emulator;
let url: string;
beforeAll(async () => {
  ({ emulator, url } = await start());
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

const confidential = { authorization: basic(CLIENT_ID, CLIENT_SECRET) };

async function pkceCode(base: string, scope = 'user-read-private') {
  const pair = pkcePair();
  const code = await codeFor(base, {
    scope,
    code_challenge_method: 'S256',
    code_challenge: pair.challenge,
  });
  return { code, verifier: pair.verifier };
}

function pkceExchange(base: string, code: string, verifier?: string) {
  const form: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
  };
  if (verifier !== undefined) form.code_verifier = verifier;
  return token(base, form);
}

function refresh(base: string, refreshToken: string, auth: 'basic' | 'pkce' = 'basic') {
  return auth === 'basic'
    ? token(base, { grant_type: 'refresh_token', refresh_token: refreshToken }, confidential)
    : token(base, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: CLIENT_ID,
      });
}

describe('request shape', () => {
  test('a JSON body → 415 server_error "Unexpected status: 415"', async () => {
    const answer = await token(
      url,
      {},
      {
        ...confidential,
        contentType: 'application/json',
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      },
    );
    expect(answer.status).toBe(415);
    expect(answer.body).toEqual({
      error: 'server_error',
      error_description: 'Unexpected status: 415',
    });
  });

  test('a missing grant_type → 400 unsupported_grant_type', async () => {
    const answer = await token(url, {}, confidential);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'grant_type parameter is missing',
    });
  });

  test('another grant type → 400 unsupported_grant_type with the list', async () => {
    for (const grant_type of [
      'password',
      'implicit',
      'urn:ietf:params:oauth:grant-type:device_code',
    ]) {
      const answer = await token(url, { grant_type }, confidential);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: 'unsupported_grant_type',
        error_description:
          'grant_type must be client_credentials, authorization_code or refresh_token',
      });
    }
  });

  test('a repeated parameter → invalid_request', async () => {
    const answer = await token(
      url,
      {},
      {
        ...confidential,
        body: 'grant_type=client_credentials&grant_type=client_credentials',
      },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_request');
  });

  test('GET → 405 with Allow: POST, OPTIONS', async () => {
    const response = await fetch(`${url}/api/token`);
    expect(response.status).toBe(405);
    expect(response.headers.get('Allow')).toBe('POST, OPTIONS');
  });
});

describe('CORS (browser PKCE apps call /api/token directly)', () => {
  const ORIGIN = 'http://127.0.0.1:3000';

  test('the preflight allows POST with Authorization and Content-Type from any origin', async () => {
    const response = await fetch(`${url}/api/token`, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(response.headers.get('Access-Control-Allow-Methods')).toBe('POST');
    expect(response.headers.get('Access-Control-Allow-Headers')).toBe('Authorization,Content-Type');
    expect(response.headers.get('Access-Control-Max-Age')).toBe('600');
    expect(response.headers.get('Access-Control-Allow-Credentials')).toBeNull();
  });

  test('successes and OAuth errors carry Access-Control-Allow-Origin and expose Retry-After', async () => {
    const success = await fetch(`${url}/api/token`, {
      method: 'POST',
      headers: {
        Origin: ORIGIN,
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: basic(CLIENT_ID, CLIENT_SECRET),
      },
      body: 'grant_type=client_credentials',
    });
    const failure = await fetch(`${url}/api/token`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/json' },
      body: '{}',
    });
    for (const [response, status] of [
      [success, 200],
      [failure, 415],
    ] as const) {
      expect(response.status).toBe(status);
      expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(response.headers.get('Access-Control-Expose-Headers')).toBe('Retry-After');
      expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
    }
  });

  test('a faulted 429 carries CORS headers, and a preflight neither uses up nor meets a fault', async () => {
    const { emulator: e, url: u } = await start();
    e.setFault({ endpoint: '/api/token', type: 'status', status: 429, retryAfter: 3, count: 1 });
    const preflight = await fetch(`${u}/api/token`, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    const limited = await token(u, { grant_type: 'client_credentials' }, confidential);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('3');
    expect(limited.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(limited.headers.get('Access-Control-Expose-Headers')).toBe('Retry-After');
    expect(e.stats().requests).toEqual({ 'OPTIONS /api/token': 1, 'POST /api/token': 1 });
  });

  test('/authorize (a top-level navigation) and the control API send no CORS headers', async () => {
    const authorized = await fetch(`${url}/authorize?client_id=nobody`, {
      headers: { Origin: ORIGIN },
    });
    expect(authorized.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const stats = await fetch(`${url}/__emulator/stats`, { headers: { Origin: ORIGIN } });
    expect(stats.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});

describe('client authentication', () => {
  test('unknown client id (Basic or body) → 400 invalid_client "Invalid client"', async () => {
    for (const answer of [
      await token(
        url,
        { grant_type: 'client_credentials' },
        { authorization: basic('nobody', 'x') },
      ),
      await token(url, {
        grant_type: 'client_credentials',
        client_id: 'nobody',
        client_secret: 'x',
      }),
      await token(url, { grant_type: 'client_credentials' }),
      await token(url, { grant_type: 'client_credentials' }, { authorization: 'Basic !!!' }),
    ]) {
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error: 'invalid_client', error_description: 'Invalid client' });
    }
  });

  test('wrong secret (Basic or body) → 400 invalid_client "Invalid client secret"', async () => {
    for (const answer of [
      await token(
        url,
        { grant_type: 'client_credentials' },
        { authorization: basic(CLIENT_ID, 'nope') },
      ),
      await token(url, {
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: 'nope',
      }),
      await token(url, {
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: '',
      }),
    ]) {
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: 'invalid_client',
        error_description: 'Invalid client secret',
      });
    }
  });

  test('Basic and body credentials are both accepted', async () => {
    const viaBasic = await token(url, { grant_type: 'client_credentials' }, confidential);
    const viaBody = await token(url, {
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(viaBasic.status).toBe(200);
    expect(viaBody.status).toBe(200);
  });

  test('two authentication methods at once → invalid_request', async () => {
    const answer = await token(
      url,
      { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
      confidential,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_request');
  });
});

describe('authorization code grant', () => {
  test('success: the exact Spotify shape, opaque Spotify-like tokens, no caching', async () => {
    const code = await codeFor(url, { scope: 'user-read-private user-read-email' });
    const answer = await exchange(url, code);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(answer.headers.get('Cache-Control')).toBe('no-store');
    expect(Object.keys(answer.body).sort()).toEqual(
      ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'].sort(),
    );
    expect(answer.body.token_type).toBe('Bearer');
    expect(answer.body.expires_in).toBe(3600);
    expect(answer.body.scope).toBe('user-read-private user-read-email');
    expect(answer.body.access_token).toMatch(/^BQ[A-Za-z0-9_-]{43,}$/);
    expect(answer.body.refresh_token).toMatch(/^AQ[A-Za-z0-9_-]{43,}$/);
    expect(emulator.lookupAccessToken(String(answer.body.access_token))).toEqual({
      clientId: CLIENT_ID,
      userId: 'demo-user',
      scopes: ['user-read-private', 'user-read-email'],
      expiresAt: T0 + 3_600_000,
    });
  });

  test('no scope → scope ""', async () => {
    const answer = await exchange(url, await codeFor(url));
    expect(answer.body.scope).toBe('');
  });

  test('body credentials work for the code grant too', async () => {
    const code = await codeFor(url);
    const answer = await token(url, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(answer.status).toBe(200);
  });

  test('an unknown code → invalid_grant "Invalid authorization code"', async () => {
    const answer = await exchange(url, 'AQnot-a-code');
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
  });

  test('codes are single-use', async () => {
    const code = await codeFor(url);
    expect((await exchange(url, code)).status).toBe(200);
    const again = await exchange(url, code);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
  });

  test('codes expire after codeLifetime (on the emulator clock)', async () => {
    const { emulator: e, url: u } = await start({ codeLifetime: 60 });
    const fresh = await codeFor(u);
    e.advanceClock(59);
    expect((await exchange(u, fresh)).status).toBe(200);
    const stale = await codeFor(u);
    e.advanceClock(60);
    const answer = await exchange(u, stale);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
  });

  test("another app's code → Invalid authorization code (and the code survives)", async () => {
    const code = await codeFor(url);
    const answer = await token(
      url,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      { authorization: basic('other-app', 'other-secret') },
    );
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
    expect((await exchange(url, code)).status).toBe(200);
  });

  test('redirect_uri must equal the one sent to /authorize', async () => {
    const code = await codeFor(url, { redirect_uri: 'http://127.0.0.1:5000/callback' });
    const answer = await exchange(url, code, REDIRECT_URI);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid redirect URI',
    });

    const matching = await codeFor(url, { redirect_uri: 'http://127.0.0.1:5000/callback' });
    expect((await exchange(url, matching, 'http://127.0.0.1:5000/callback')).status).toBe(200);
  });

  test('a missing redirect_uri → Invalid redirect URI', async () => {
    const code = await codeFor(url);
    const answer = await token(url, { grant_type: 'authorization_code', code }, confidential);
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid redirect URI',
    });
  });

  test('a confidential code without a secret → invalid_client', async () => {
    const code = await codeFor(url);
    const answer = await token(url, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_client',
      error_description: 'Invalid client secret',
    });
  });

  test('a code_verifier for a code issued without a challenge is incorrect', async () => {
    const code = await codeFor(url);
    const answer = await token(
      url,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: pkcePair().verifier,
      },
      confidential,
    );
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier was incorrect',
    });
  });
});

describe('PKCE', () => {
  test('a public client exchanges with client_id + code_verifier and no secret', async () => {
    const { code, verifier } = await pkceCode(url);
    const answer = await pkceExchange(url, code, verifier);
    expect(answer.status).toBe(200);
    expect(answer.body.scope).toBe('user-read-private');
    expect(answer.body.refresh_token).toMatch(/^AQ/);
  });

  test('a confidential client may send the verifier with its secret', async () => {
    const { code, verifier } = await pkceCode(url);
    const answer = await token(
      url,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      },
      confidential,
    );
    expect(answer.status).toBe(200);
  });

  test('a wrong verifier → invalid_grant "code_verifier was incorrect", and the code is spent', async () => {
    const { code, verifier } = await pkceCode(url);
    const answer = await pkceExchange(url, code, pkcePair().verifier);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier was incorrect',
    });
    expect((await pkceExchange(url, code, verifier)).body.error_description).toBe(
      'Invalid authorization code',
    );
  });

  test('a missing verifier → invalid_request "code_verifier required"', async () => {
    const { code } = await pkceCode(url);
    for (const answer of [
      await pkceExchange(url, code),
      await token(
        url,
        {
          grant_type: 'authorization_code',
          code: (await pkceCode(url)).code,
          redirect_uri: REDIRECT_URI,
        },
        confidential,
      ),
    ]) {
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: 'invalid_request',
        error_description: 'code_verifier required',
      });
    }
  });

  test('a verifier outside 43-128 of [A-Za-z0-9._~-] → invalid_request', async () => {
    for (const verifier of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`]) {
      const { code } = await pkceCode(url);
      const answer = await pkceExchange(url, code, verifier);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
    }
  });
});

describe('refresh token grant', () => {
  async function confidentialTokens(base: string) {
    return (await exchange(base, await codeFor(base, { scope: 'user-read-email' }))).body;
  }

  test('rotation never: no refresh_token in the answer, the old one keeps working', async () => {
    const { refresh_token } = await confidentialTokens(url);
    for (let round = 0; round < 2; round++) {
      const answer = await refresh(url, String(refresh_token));
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body).sort()).toEqual(
        ['access_token', 'expires_in', 'scope', 'token_type'].sort(),
      );
      expect(answer.body.scope).toBe('user-read-email');
      expect(answer.body.expires_in).toBe(3600);
    }
  });

  test('a PKCE refresh token is refreshed with client_id only', async () => {
    const { code, verifier } = await pkceCode(url);
    const { refresh_token } = (await pkceExchange(url, code, verifier)).body;
    const answer = await refresh(url, String(refresh_token), 'pkce');
    expect(answer.status).toBe(200);
  });

  test('a PKCE refresh without client_id (the PHP library bug) → invalid_client "Invalid client"', async () => {
    const { code, verifier } = await pkceCode(url);
    const { refresh_token } = (await pkceExchange(url, code, verifier)).body;
    const answer = await token(url, {
      grant_type: 'refresh_token',
      refresh_token: String(refresh_token),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: 'invalid_client', error_description: 'Invalid client' });
    expect((await refresh(url, String(refresh_token), 'pkce')).status).toBe(200);
  });

  test('a confidential refresh token without a secret → invalid_client', async () => {
    const { refresh_token } = await confidentialTokens(url);
    const answer = await refresh(url, String(refresh_token), 'pkce');
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_client',
      error_description: 'Invalid client secret',
    });
  });

  test('an unknown refresh token → invalid_grant "Invalid refresh token"', async () => {
    const answer = await refresh(url, 'AQunknown');
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
  });

  test("another app's refresh token → Invalid refresh token", async () => {
    const { refresh_token } = await confidentialTokens(url);
    const answer = await token(
      url,
      { grant_type: 'refresh_token', refresh_token: String(refresh_token) },
      { authorization: basic('other-app', 'other-secret') },
    );
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
  });

  test('revoked (control API) → invalid_grant "Refresh token revoked"', async () => {
    const { refresh_token } = await confidentialTokens(url);
    expect(await control(url, 'POST', '/revoke', { refresh_token })).toEqual({
      status: 200,
      body: { revoked: true },
    });
    expect((await control(url, 'POST', '/revoke', { refresh_token })).body).toEqual({
      revoked: false,
    });
    expect((await control(url, 'POST', '/revoke', { refresh_token: 'AQnope' })).body).toEqual({
      revoked: false,
    });
    const answer = await refresh(url, String(refresh_token));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Refresh token revoked',
    });
  });

  test('revokeRefreshToken() does the same programmatically', async () => {
    const { refresh_token } = await confidentialTokens(url);
    expect(emulator.revokeRefreshToken(String(refresh_token))).toBe(true);
    expect((await refresh(url, String(refresh_token))).body.error_description).toBe(
      'Refresh token revoked',
    );
  });

  test('six months after the original authorization → Refresh token revoked; refreshing never extends it', async () => {
    const { emulator: e, url: u } = await start({ rotation: 'always' });
    let { refresh_token } = await confidentialTokens(u);
    e.advanceClock(100 * 86_400);
    const rotated = await refresh(u, String(refresh_token));
    expect(rotated.status).toBe(200);
    refresh_token = rotated.body.refresh_token;
    e.advanceClock(15_552_000 - 100 * 86_400 - 1);
    const lastGood = await refresh(u, String(refresh_token));
    expect(lastGood.status).toBe(200);
    refresh_token = lastGood.body.refresh_token;
    e.advanceClock(1);
    const answer = await refresh(u, String(refresh_token));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Refresh token revoked',
    });
  });

  test('the clock can also be advanced over the control API', async () => {
    const { url: u } = await start({ refreshTokenLifetime: 1000 });
    const { refresh_token } = await confidentialTokens(u);
    expect(await control(u, 'POST', '/clock', { advance: 1000 })).toEqual({
      status: 200,
      body: { now: T0 + 1_000_000 },
    });
    expect((await refresh(u, String(refresh_token))).body.error_description).toBe(
      'Refresh token revoked',
    );
  });

  test('rotation always: a new refresh token each time, the old one is refused', async () => {
    const { url: u } = await start({ rotation: 'always' });
    const first = String((await confidentialTokens(u)).refresh_token);
    const answer = await refresh(u, first);
    expect(answer.status).toBe(200);
    const second = String(answer.body.refresh_token);
    expect(second).toMatch(/^AQ/);
    expect(second).not.toBe(first);
    const reuse = await refresh(u, first);
    expect(reuse.status).toBe(400);
    expect(reuse.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
    expect((await refresh(u, second)).status).toBe(200);
  });

  test('rotation pkce: PKCE refresh tokens rotate, confidential ones do not', async () => {
    const { url: u } = await start({ rotation: 'pkce' });
    const { code, verifier } = await pkceCode(u);
    const pkceToken = String((await pkceExchange(u, code, verifier)).body.refresh_token);
    const rotated = await refresh(u, pkceToken, 'pkce');
    expect(rotated.body.refresh_token).toMatch(/^AQ/);
    expect((await refresh(u, pkceToken, 'pkce')).body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
    expect((await refresh(u, String(rotated.body.refresh_token), 'pkce')).status).toBe(200);

    const confidentialToken = String((await confidentialTokens(u)).refresh_token);
    const kept = await refresh(u, confidentialToken);
    expect(kept.status).toBe(200);
    expect('refresh_token' in kept.body).toBe(false);
    expect((await refresh(u, confidentialToken)).status).toBe(200);
  });

  test('accessTokenLifetime sets expires_in', async () => {
    const { url: u } = await start({ accessTokenLifetime: 60 });
    const answer = await exchange(u, await codeFor(u));
    expect(answer.body.expires_in).toBe(60);
  });
});

describe('client credentials grant', () => {
  test('access_token, token_type and expires_in only', async () => {
    const answer = await token(url, { grant_type: 'client_credentials' }, confidential);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(answer.body.token_type).toBe('Bearer');
    expect(answer.body.expires_in).toBe(3600);
    expect(emulator.lookupAccessToken(String(answer.body.access_token))?.userId).toBeUndefined();
  });

  test('without a secret → invalid_client', async () => {
    const answer = await token(url, { grant_type: 'client_credentials', client_id: CLIENT_ID });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid_client',
      error_description: 'Invalid client secret',
    });
  });
});
