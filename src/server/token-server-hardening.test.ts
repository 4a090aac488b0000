/**
 * Issue 7's hardening of the token routes, each tried as an attacker (or a broken upstream)
 * would: per-token limit keys that forged tails cannot hit, upstream error bodies cut to the
 * OAuth fields, numbers from upstream clamped, every sealed token /swap issues accepted by
 * /refresh, unusable upstream tokens answered 502, keys validated at creation.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../core/errors/index.js';
import { Keyring } from './keyring.js';
import { createTokenServer, type TokenServer } from './token-server.js';

const CLIENT_ID = 'hardening-client';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const keyring = await Keyring.parse(Keyring.generateKeyString());
const servers: TokenServer[] = [];

function tokenJson(extra: Record<string, unknown> = {}, init: ResponseInit = {}): Response {
  return Response.json(
    {
      access_token: 'AT-1',
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: 'RT-1',
      scope: 'streaming',
      ...extra,
    },
    init,
  );
}

function server(
  upstream: (request: Request) => Promise<Response> | Response,
  options: Partial<Parameters<typeof createTokenServer>[0]> = {},
) {
  const created = createTokenServer({
    clientId: CLIENT_ID,
    clientSecret: 'hardening-secret',
    redirectUris: ['unit-app://callback'],
    keyring,
    accountsUrl: 'http://127.0.0.1:9',
    fetch: async (input, init) => upstream(new Request(input as string, init)),
    logger: false,
    ...options,
  });
  servers.push(created);
  return created;
}

const post = (app: TokenServer, path: string, body: string) =>
  app.app.request(path, { method: 'POST', body, headers: FORM });

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('per-token rate limit', () => {
  it('forged tails of a seen token never use up that token’s limit', async () => {
    const app = server(() => tokenJson({ refresh_token: undefined }), {
      rateLimit: { ip: 0, token: 2 },
    });
    const real = await keyring.seal('RT-1', { clientId: CLIENT_ID });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < 6; i++) {
      // The attacker saw the first 35 characters (version, key id, nonce) and forges the rest.
      let tail = '';
      for (let j = 35; j < real.length; j++) tail += alphabet[(i * 7 + j) % 64];
      const forged = real.slice(0, 35) + tail;
      const answer = await post(app, '/refresh', `refresh_token=${forged}`);
      expect(answer.status).toBe(400);
      expect(await answer.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'Invalid refresh token',
      });
    }
    expect((await post(app, '/refresh', `refresh_token=${real}`)).status).toBe(200);
    expect((await post(app, '/refresh', `refresh_token=${real}`)).status).toBe(200);
    // The real token is still limited by itself.
    expect((await post(app, '/refresh', `refresh_token=${real}`)).status).toBe(429);
  });

  it('failed unseals count against the IP, never against a token', async () => {
    const app = server(() => tokenJson({ refresh_token: undefined }), {
      rateLimit: { ip: 3, token: 1 },
    });
    const send = (token: string) =>
      app.fetch(
        new Request('http://s/refresh', {
          method: 'POST',
          body: `refresh_token=${token}`,
          headers: FORM,
        }),
        { clientIp: '10.9.9.9' },
      );
    expect((await send('garbage')).status).toBe(400);
    expect((await send('garbage')).status).toBe(400);
    expect((await send('garbage')).status).toBe(400);
    expect((await send('garbage')).status).toBe(429);
  });
});

describe('upstream error bodies', () => {
  it('pass on only string error and error_description of a 400', async () => {
    const app = server(() =>
      Response.json(
        {
          error: 'invalid_grant',
          error_description: 'Invalid authorization code',
          internal_trace: 'do-not-leak',
          error_uri: 'https://evil.example',
        },
        { status: 400 },
      ),
    );
    const answer = await post(app, '/swap', 'code=C');
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
    const odd = server(() =>
      Response.json({ error: 'invalid_request', error_description: 42 }, { status: 400 }),
    );
    const oddAnswer = await post(odd, '/swap', 'code=C');
    expect(oddAnswer.status).toBe(400);
    expect(await oddAnswer.json()).toEqual({ error: 'invalid_request' });
  });

  for (const status of [400, 401]) {
    it(`turn invalid_client (HTTP ${status}) into a 502 for the app and an error log`, async () => {
      const lines: string[] = [];
      const app = server(
        () =>
          Response.json(
            { error: 'invalid_client', error_description: 'Invalid client secret', x: 1 },
            { status },
          ),
        { logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) },
      );
      const answer = await post(app, '/swap', 'code=C');
      expect(answer.status).toBe(502);
      const body = (await answer.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['error', 'error_description']);
      expect(body.error).toBe('server_error');
      const errors = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 50);
      expect(errors.some((entry) => /client credentials/i.test(entry.msg))).toBe(true);
    });
  }
});

describe('numbers from upstream', () => {
  it('clamp expires_in to a sane integer', async () => {
    for (const [sent, expected] of [
      [1e23, 86_400],
      [3600.6, 3600],
      ['3600', 3600],
    ] as const) {
      const app = server(() => tokenJson({ expires_in: sent }));
      const answer = await post(app, '/swap', 'code=C');
      expect(answer.status).toBe(200);
      const text = await answer.text();
      expect(text).toContain(`"expires_in":${expected},`);
    }
    // A negative lifetime is not a token response Spotify would send: 502, nothing sealed.
    const negative = server(() => tokenJson({ expires_in: -5 }));
    expect((await post(negative, '/swap', 'code=C')).status).toBe(502);
  });

  it('forward Retry-After only as whole seconds within a cap', async () => {
    for (const value of ['1e23', '99999999', '2.5']) {
      const app = server(
        () => new Response('', { status: 429, headers: { 'Retry-After': value } }),
      );
      const answer = await post(app, '/swap', 'code=C');
      expect(answer.status).toBe(503);
      const header = answer.headers.get('retry-after');
      if (header !== null) {
        expect(header).toMatch(/^\d{1,5}$/);
        expect(Number(header)).toBeLessThanOrEqual(3600);
      }
    }
  });
});

describe('sizes and unusable tokens', () => {
  it('every sealed token /swap issues is accepted by /refresh (longest refresh token)', async () => {
    const long = 'R'.repeat(2048);
    let lastRefreshSent: string | null = null;
    const app = server(async (request) => {
      const params = new URLSearchParams(await request.text());
      lastRefreshSent = params.get('refresh_token');
      return tokenJson({ refresh_token: long });
    });
    const swapped = await post(app, '/swap', 'code=C');
    expect(swapped.status).toBe(200);
    const { refresh_token: sealed } = (await swapped.json()) as { refresh_token: string };
    expect(sealed.length).toBeGreaterThan(2048);
    const refreshed = await post(app, '/refresh', `refresh_token=${sealed}`);
    expect(refreshed.status).toBe(200);
    expect(lastRefreshSent).toBe(long);
  });

  for (const [name, extra] of [
    ['a refresh token with a space', { refresh_token: 'RT 1' }],
    ['a refresh token with a control character', { refresh_token: 'RT\u00011' }],
    ['an access token with a newline', { access_token: 'AT\n1' }],
  ] as const) {
    it(`answers a clean 502 to ${name} from Spotify`, async () => {
      const app = server(() => tokenJson(extra));
      const answer = await post(app, '/swap', 'code=C');
      expect(answer.status).toBe(502);
      expect(answer.headers.get('content-type')).toBe('application/json');
      expect(((await answer.json()) as { error: string }).error).toBe('server_error');
    });
  }
});

describe('a stored token Spotify could never accept', () => {
  it('answers invalid_grant (log in again), not a 500 on every retry', async () => {
    let upstreamCalls = 0;
    const app = server(() => {
      upstreamCalls += 1;
      return tokenJson();
    });
    // Sealed by an older server that did not check Spotify's tokens.
    const sealed = await keyring.seal('RT 1', { clientId: CLIENT_ID });
    const answer = await post(app, '/refresh', `refresh_token=${sealed}`);
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid refresh token',
    });
    expect(upstreamCalls).toBe(0);
  });
});

describe('keys validated at creation', () => {
  it('throws ConfigurationError synchronously, naming encryptionKeys', () => {
    const create = () =>
      createTokenServer({
        clientId: CLIENT_ID,
        clientSecret: 's',
        redirectUris: ['unit-app://callback'],
        encryptionKeys: 'k1:not-a-key',
        logger: false,
      });
    expect(create).toThrow(ConfigurationError);
    try {
      create();
    } catch (error) {
      expect((error as ConfigurationError).option).toBe('encryptionKeys');
      expect((error as Error).message).toMatch(/^encryptionKeys /);
      expect((error as Error).message).not.toContain('TOKEN_ENCRYPTION_KEYS');
    }
  });

  it('names upstreamTimeout when it is too long for a timer', () => {
    expect(() =>
      createTokenServer({
        clientId: CLIENT_ID,
        clientSecret: 's',
        redirectUris: ['unit-app://callback'],
        keyring,
        upstreamTimeout: 1e12,
        logger: false,
      }),
    ).toThrow(expect.objectContaining({ option: 'upstreamTimeout' }));
  });
});
