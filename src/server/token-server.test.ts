import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Aead, webCryptoAead } from './aead.js';
import { Keyring } from './keyring.js';
import type { TokenServerMetrics } from './metrics.js';
import { createTokenServer, createTokenServerWith, type TokenServer } from './token-server.js';

const CLIENT_ID = 'unit-client';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const keyring = await Keyring.parse(Keyring.generateKeyString());
const servers: TokenServer[] = [];

type Upstream = (request: Request) => Promise<Response> | Response;

function tokenJson(extra: Record<string, unknown> = {}): Response {
  return Response.json({
    access_token: 'AT-1',
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: 'RT-1',
    scope: 'streaming user-read-private',
    ...extra,
  });
}

function server(
  upstream: Upstream,
  options: Partial<Parameters<typeof createTokenServer>[0]> = {},
) {
  const created = createTokenServer({
    clientId: CLIENT_ID,
    clientSecret: 'unit-secret',
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

function post(
  app: TokenServer,
  path: string,
  body: string,
  headers: Record<string, string> = FORM,
) {
  return app.app.request(path, { method: 'POST', body, headers });
}

function expectCommonHeaders(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('createTokenServer (stub upstream)', () => {
  it('swaps a code: sealed refresh token, integer expires_in, the request it sent upstream', async () => {
    let sent: { auth: string | null; body: string } | undefined;
    const app = server(
      async (request) => {
        sent = { auth: request.headers.get('authorization'), body: await request.text() };
        return tokenJson({ expires_in: '3600' });
      },
      { now: () => 1_700_000_000_000 },
    );
    const response = await post(app, '/swap', 'code=CODE-1');
    expectCommonHeaders(response);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'refresh_token',
      'scope',
    ]);
    expect(body).toMatchObject({
      access_token: 'AT-1',
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'streaming user-read-private',
    });
    expect(body.refresh_token).not.toContain('RT-1');
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9._-]+$/);
    const unsealed = await keyring.unseal(body.refresh_token as string, {
      clientId: CLIENT_ID,
      maxAge: 100,
      now: () => 1_700_000_000_000,
    });
    expect(unsealed).toEqual({ refreshToken: 'RT-1', issuedAt: 1_700_000_000 });
    expect(sent?.auth).toMatch(/^Basic /);
    const params = new URLSearchParams(sent?.body);
    expect(params.get('grant_type')).toBe('authorization_code');
    expect(params.get('code')).toBe('CODE-1');
    expect(params.get('redirect_uri')).toBe('unit-app://callback');
  });

  it('re-seals a rotated refresh token with the ORIGINAL issuedAt, and sends none when not rotated', async () => {
    let rotate = true;
    const app = server(
      () =>
        rotate ? tokenJson({ refresh_token: 'RT-2' }) : tokenJson({ refresh_token: undefined }),
      {
        now: () => 1_700_000_500_000,
      },
    );
    const sealed = await keyring.seal('RT-1', { clientId: CLIENT_ID, issuedAt: 1_700_000_000 });
    const rotated = (await (
      await post(app, '/refresh', `refresh_token=${sealed}`)
    ).json()) as Record<string, unknown>;
    expect(Object.keys(rotated)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
    ]);
    const opened = await keyring.unseal(rotated.refresh_token as string, {
      clientId: CLIENT_ID,
      maxAge: 1000,
      now: () => 1_700_000_500_000,
    });
    expect(opened).toEqual({ refreshToken: 'RT-2', issuedAt: 1_700_000_000 });
    rotate = false;
    const plain = (await (await post(app, '/refresh', `refresh_token=${sealed}`)).json()) as Record<
      string,
      unknown
    >;
    expect(plain).not.toHaveProperty('refresh_token');
  });

  it.each([
    [
      '429 with Retry-After',
      () => new Response('', { status: 429, headers: { 'Retry-After': '7' } }),
      503,
      'temporarily_unavailable',
      '7',
    ],
    ['503', () => new Response('down', { status: 503 }), 503, 'temporarily_unavailable', null],
    ['500', () => new Response('<html>oops</html>', { status: 500 }), 502, 'server_error', null],
    ['HTML 200', () => new Response('<html></html>', { status: 200 }), 502, 'server_error', null],
    ['no answer', () => Promise.reject(new TypeError('fetch failed')), 502, 'server_error', null],
  ])('maps Spotify failure "%s"', async (_name, upstream, status, error, retryAfter) => {
    const app = server(upstream as Upstream);
    const response = await post(app, '/swap', 'code=CODE');
    expectCommonHeaders(response);
    expect(response.status).toBe(status);
    expect(response.headers.get('retry-after')).toBe(retryAfter);
    expect(((await response.json()) as { error: string }).error).toBe(error);
  });

  it.each([
    [
      'honours the abort signal',
      (request: Request) =>
        new Promise<Response>((_, reject) => {
          request.signal.addEventListener('abort', () => reject(request.signal.reason));
        }),
    ],
    ['ignores the abort signal', () => new Promise<Response>(() => {})],
  ])(
    'answers 504 when Spotify does not answer within upstreamTimeout (fetch %s)',
    async (_name, upstream) => {
      const app = server(upstream, { upstreamTimeout: 50 });
      const response = await post(app, '/swap', 'code=CODE');
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'Spotify did not answer in time',
      });
    },
  );

  it('answers 502 (not 500) when Spotify sends a refresh token too long to seal', async () => {
    const app = server(() => tokenJson({ refresh_token: 'r'.repeat(5000) }));
    const response = await post(app, '/swap', 'code=C');
    expectCommonHeaders(response);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({
      error: 'server_error',
      error_description: 'Spotify sent a refresh token this server cannot seal',
    });
  });

  it('serves under a basePath, health and readiness at the root', async () => {
    const app = server(() => tokenJson(), { basePath: '/v1' });
    expect((await post(app, '/v1/swap', 'code=C')).status).toBe(200);
    expect((await post(app, '/swap', 'code=C')).status).toBe(404);
    expect(await (await app.app.request('/healthz')).json()).toEqual({ status: 'ok' });
    expect(await (await app.app.request('/readyz')).json()).toEqual({
      ready: true,
      status: 'ready',
      checks: { config: 'ok', rateLimitStore: { kind: 'memory', status: 'ok' } },
    });
  });

  it('limits per IP and per refresh token, answering 429 with Retry-After', async () => {
    const app = server(() => tokenJson({ refresh_token: undefined }), {
      rateLimit: { ip: 3, token: 2 },
    });
    const env = (ip: string) => ({ clientIp: ip });
    const swap = (ip: string) =>
      app.fetch(
        new Request('http://s/swap', { method: 'POST', body: 'code=C', headers: FORM }),
        env(ip),
      );
    expect((await swap('10.0.0.1')).status).toBe(200);
    expect((await swap('10.0.0.1')).status).toBe(200);
    expect((await swap('10.0.0.1')).status).toBe(200);
    const limited = await swap('10.0.0.1');
    expectCommonHeaders(limited);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await swap('10.0.0.2')).status).toBe(200);

    const sealed = await keyring.seal('RT-1', { clientId: CLIENT_ID });
    const refresh = (ip: string) =>
      app.fetch(
        new Request('http://s/refresh', {
          method: 'POST',
          body: `refresh_token=${sealed}`,
          headers: FORM,
        }),
        env(ip),
      );
    expect((await refresh('10.0.1.1')).status).toBe(200);
    expect((await refresh('10.0.1.2')).status).toBe(200);
    expect((await refresh('10.0.1.3')).status).toBe(429);
  });

  it('counts the per-token limit per sealed token that unsealed, never for garbage', async () => {
    let upstreamCalls = 0;
    const app = server(
      () => {
        upstreamCalls += 1;
        return tokenJson({ refresh_token: undefined });
      },
      { rateLimit: { ip: 0, token: 1 } },
    );
    const refresh = (token: string) => post(app, '/refresh', `refresh_token=${token}`);
    const first = await keyring.seal('RT-1', { clientId: CLIENT_ID });
    const second = await keyring.seal('RT-1', { clientId: CLIENT_ID });
    expect((await refresh(first)).status).toBe(200);
    // Another seal of the same Spotify token is another envelope, so its own bucket.
    expect((await refresh(second)).status).toBe(200);
    const limited = await refresh(first);
    expectCommonHeaders(limited);
    expect(limited.status).toBe(429);
    expect(upstreamCalls).toBe(2);
    // A forgery keeping the nonce does not unseal: the same 400 as any garbage, every time.
    const [version, kid, body] = first.split('.') as [string, string, string];
    const forged = `${version}.${kid}.${body.slice(0, 16)}${'A'.repeat(body.length - 16)}`;
    for (const token of [forged, forged, 'garbage-1', 'garbage-1']) {
      expect((await refresh(token)).status).toBe(400);
    }
    expect(upstreamCalls).toBe(2);
  });

  it('warns once when it cannot tell the client IP (every client would share one bucket)', async () => {
    const lines: string[] = [];
    const app = server(() => tokenJson(), {
      logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }),
    });
    await post(app, '/swap', 'code=C');
    await post(app, '/swap', 'code=C');
    const warnings = lines.filter((line) => line.includes('client IP unknown'));
    expect(warnings).toHaveLength(1);
    lines.length = 0;
    await app.fetch(
      new Request('http://s/swap', { method: 'POST', body: 'code=C', headers: FORM }),
      {
        clientIp: '10.0.0.1',
      },
    );
    expect(lines.some((line) => line.includes('client IP unknown'))).toBe(false);
  });

  it('redacts secret fields as a second line of defence, also on a logger it is given', () => {
    const lines: string[] = [];
    const app = server(() => tokenJson(), {
      logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }),
    });
    app.logger.info(
      {
        refresh_token: 'RT-SECRET',
        code: 'CODE-SECRET',
        req: { headers: { authorization: 'Basic AUTH-SECRET' } },
      },
      'oops',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('[Redacted]');
    expect(lines[0]).not.toMatch(/RT-SECRET|CODE-SECRET|AUTH-SECRET/);
  });

  it('keeps CORS off by default and allows only the configured origins', async () => {
    const off = server(() => tokenJson());
    const plain = await off.app.request('/swap', {
      method: 'POST',
      body: 'code=C',
      headers: { ...FORM, Origin: 'https://a.example' },
    });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    const on = server(() => tokenJson(), { corsOrigins: ['https://a.example'] });
    const allowed = await on.app.request('/swap', {
      method: 'POST',
      body: 'code=C',
      headers: { ...FORM, Origin: 'https://a.example' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://a.example');
    const other = await on.app.request('/swap', {
      method: 'POST',
      body: 'code=C',
      headers: { ...FORM, Origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('runs the keyring on the AES-GCM and the fetch a runtime adapter injects', async () => {
    const used: string[] = [];
    const aead: Aead = {
      name: 'counting',
      encrypt: (...args) => {
        used.push('encrypt');
        return webCryptoAead.encrypt(...args);
      },
      decrypt: (...args) => {
        used.push('decrypt');
        return webCryptoAead.decrypt(...args);
      },
    };
    let issued = 0;
    const platformFetch = async () => {
      issued += 1;
      return tokenJson({ refresh_token: `RT-${issued}` });
    };
    for (const keys of [{ keyring }, { encryptionKeys: Keyring.generateKeyString() }]) {
      used.length = 0;
      const created = createTokenServerWith(
        {
          clientId: CLIENT_ID,
          clientSecret: 'unit-secret',
          redirectUris: ['unit-app://callback'],
          accountsUrl: 'http://127.0.0.1:9',
          logger: false,
          ...keys,
        },
        { aead, fetch: platformFetch },
      ).server;
      servers.push(created);
      const swapped = (await (await post(created, '/swap', 'code=C')).json()) as {
        refresh_token: string;
      };
      const refreshed = await post(created, '/refresh', `refresh_token=${swapped.refresh_token}`);
      expect(refreshed.status).toBe(200);
      expect(used).toEqual(['encrypt', 'decrypt', 'encrypt']);
    }
    // A fetch in the options wins over the adapter's.
    let optionFetchCalls = 0;
    const own = createTokenServerWith(
      {
        clientId: CLIENT_ID,
        clientSecret: 'unit-secret',
        redirectUris: ['unit-app://callback'],
        accountsUrl: 'http://127.0.0.1:9',
        logger: false,
        keyring,
        fetch: async () => {
          optionFetchCalls += 1;
          return tokenJson();
        },
      },
      { aead, fetch: platformFetch },
    ).server;
    servers.push(own);
    expect((await post(own, '/swap', 'code=C')).status).toBe(200);
    expect(optionFetchCalls).toBe(1);
  });

  it('refuses unreadable keys when it is created, never at request time', () => {
    expect(() =>
      server(() => tokenJson(), { keyring: undefined as never, encryptionKeys: 'garbage' }),
    ).toThrow(/^encryptionKeys entry 1 is not in the form "kid:secret"/);
    expect(() => server(() => tokenJson(), { keyring: {} as never })).toThrow(
      /keyring must be a Keyring/,
    );
  });

  it('reports requests and upstream calls to the metrics, with route patterns as labels', async () => {
    const seen: string[] = [];
    const metrics: TokenServerMetrics = {
      observeRequest: (l) => seen.push(`req ${l.route} ${l.method} ${l.status}`),
      observeUpstream: (l) => seen.push(`up ${l.grant} ${l.outcome}`),
      observeRateLimited: (l) => seen.push(`limited ${l}`),
      render: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'x 1\n' }),
    };
    const app = server(() => tokenJson(), { metrics });
    await post(app, '/swap', 'code=C');
    await app.app.request('/some/random/path?code=SECRET');
    await app.app.request('/swap', { method: 'PROPFIND' });
    const exposition = await app.app.request('/metrics');
    expect(exposition.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(exposition.headers.get('cache-control')).toBe('no-store');
    expect(seen).toEqual([
      'up authorization_code ok',
      'req /swap POST 200',
      'req unmatched GET 404',
      'req /swap OTHER 405',
      'req /metrics GET 200',
    ]);
  });

  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const app = server(() => tokenJson());
    const kept = await app.app.request('/healthz', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await app.app.request('/healthz', {
      headers: { 'X-Request-Id': 'a b<script>' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('createTokenServer refuses URLs Spotify would refuse, at construction', () => {
  const base = {
    clientId: 'app',
    clientSecret: 'secret',
    encryptionKeys: Keyring.generateKeyString(),
    logger: pino({ level: 'silent' }),
  };

  it('a localhost redirect URI names its index and suggests the loopback literal', () => {
    expect(() =>
      createTokenServer({
        ...base,
        redirectUris: ['myapp://callback', 'http://localhost:8080/cb'],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIGURATION',
        option: 'redirectUris[1]',
        message: expect.stringContaining('http://127.0.0.1:8080/cb'),
      }),
    );
  });

  it('a plain-http accountsUrl to a remote host', () => {
    expect(() =>
      createTokenServer({
        ...base,
        redirectUris: ['myapp://callback'],
        accountsUrl: 'http://accounts.example.com',
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIGURATION', option: 'accountsUrl' }));
  });
});
