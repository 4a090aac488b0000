/**
 * The token swap server's contract, driven exactly as the iOS SDK drives it (form bodies,
 * `code=…`, `refresh_token=…`), through `app.request()`, with the emulator listening on a
 * port as Spotify. Every log line the servers write in this file is captured, and the last
 * test scans it for every code, token, verifier and secret seen during the run.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCodeChallenge, generateCodeVerifier } from '../../src/core/index.js';
import {
  createEmulator,
  DEMO_APP,
  type Emulator,
  type EmulatorServer,
} from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';
import { createTokenServer, type TokenServer } from '../../src/server/token-server.js';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const REDIRECTS = ['spotify-session-demo://callback', 'http://127.0.0.1:8888/callback'];
const INVALID_REFRESH = '{"error":"invalid_grant","error_description":"Invalid refresh token"}';

/** Everything every server in this file logged. */
const logLines: string[] = [];
const logger = pino(
  { level: 'trace' },
  new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(chunk.toString());
      callback();
    },
  }),
);
/** Every secret seen in this file: the log scan looks for each. */
const secrets = new Set<string>([DEMO_APP.clientSecret]);
const keyring = await Keyring.parse(Keyring.generateKeyString());

interface Upstream {
  emulator: Emulator;
  listening: EmulatorServer;
}
const upstreams: Upstream[] = [];
const servers: TokenServer[] = [];

async function startUpstream(rotation: 'never' | 'always' | 'pkce'): Promise<Upstream> {
  const emulator = createEmulator({ autoApprove: true, rotation });
  const listening = await emulator.listen({ port: 0, host: '127.0.0.1' });
  const upstream = { emulator, listening };
  upstreams.push(upstream);
  return upstream;
}

function startServer(
  upstream: Upstream,
  options: Partial<Parameters<typeof createTokenServer>[0]> = {},
): TokenServer {
  const server = createTokenServer({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUris: REDIRECTS,
    keyring,
    accountsUrl: upstream.listening.url,
    logger,
    rateLimit: { ip: 0, token: 0 },
    ...options,
  });
  servers.push(server);
  return server;
}

/** A code from the emulator's /authorize (auto-approved), optionally with PKCE. */
async function getCode(
  upstream: Upstream,
  options: { verifier?: string; redirectUri?: string } = {},
): Promise<string> {
  const url = new URL('/authorize', upstream.listening.url);
  url.search = new URLSearchParams({
    client_id: DEMO_APP.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri ?? (REDIRECTS[0] as string),
    scope: 'user-read-private streaming',
    state: 'xyz',
    ...(options.verifier === undefined
      ? {}
      : {
          code_challenge: await generateCodeChallenge(options.verifier),
          code_challenge_method: 'S256',
        }),
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') as string);
  const code = location.searchParams.get('code');
  if (code === null) throw new Error(`no code in ${location.href}`);
  secrets.add(code);
  return code;
}

function form(server: TokenServer, path: string, body: string, headers: HeadersInit = FORM) {
  return server.app.request(path, { method: 'POST', body, headers });
}

function expectJsonHeaders(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
  expect(response.headers.get('x-request-id')).toMatch(/^[\w.:=-]+$/);
}

interface SwapBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  scope: string;
}

async function okJson(response: Response): Promise<SwapBody> {
  expectJsonHeaders(response);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const body = JSON.parse(text) as SwapBody;
  secrets.add(body.access_token);
  if (body.refresh_token !== undefined) {
    secrets.add(body.refresh_token);
    const { refreshToken } = await keyring.unseal(body.refresh_token, {
      clientId: DEMO_APP.clientId,
      maxAge: 15_552_000,
    });
    secrets.add(refreshToken);
  }
  return body;
}

async function swap(server: TokenServer, upstream: Upstream, verifier?: string) {
  const code = await getCode(upstream, verifier === undefined ? {} : { verifier });
  const body = `code=${encodeURIComponent(code)}${
    verifier === undefined ? '' : `&code_verifier=${verifier}`
  }`;
  return okJson(await form(server, '/swap', body));
}

function refresh(server: TokenServer, sealed: string) {
  return form(server, '/refresh', `refresh_token=${encodeURIComponent(sealed)}`);
}

let never: Upstream;
let neverServer: TokenServer;

beforeAll(async () => {
  never = await startUpstream('never');
  neverServer = startServer(never);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(upstreams.map((u) => u.listening.close()));
});

describe('swap and refresh, as the iOS SDK sends them', () => {
  it('swaps a code for tokens with a sealed refresh token (never Spotify’s own)', async () => {
    const body = await swap(neverServer, never);
    expect(Object.keys(body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'refresh_token',
      'refresh_token_expires_in',
      'scope',
    ]);
    expect(body.token_type).toBe('Bearer');
    expect(body.refresh_token_expires_in).toBe(15_552_000);
    expect(body.expires_in).toBe(3600);
    expect(Number.isInteger(body.expires_in)).toBe(true);
    expect(body.scope).toBe('user-read-private streaming');
    expect(never.emulator.lookupAccessToken(body.access_token)).toBeDefined();
    const sealed = body.refresh_token as string;
    expect(sealed).toMatch(/^[A-Za-z0-9._-]+$/); // survives form encoding untouched
    const { refreshToken } = await keyring.unseal(sealed, {
      clientId: DEMO_APP.clientId,
      maxAge: 15_552_000,
    });
    expect(sealed).not.toContain(refreshToken);
  });

  it('refreshes with the sealed token; no refresh_token in the answer when Spotify did not rotate', async () => {
    const swapped = await swap(neverServer, never);
    const before = never.emulator.stats().grants.refresh_token;
    const refreshed = await okJson(await refresh(neverServer, swapped.refresh_token as string));
    expect(Object.keys(refreshed)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token_expires_in',
    ]);
    expect(refreshed.access_token).not.toBe(swapped.access_token);
    expect(never.emulator.lookupAccessToken(refreshed.access_token)).toBeDefined();
    expect(never.emulator.stats().grants.refresh_token).toBe(before + 1);
    // Not rotated: the same sealed token keeps working.
    await okJson(await refresh(neverServer, swapped.refresh_token as string));
  });

  it('accepts what newer SDKs add (client_id, redirect_uri, grant_type) and JSON bodies', async () => {
    const code = await getCode(never, { redirectUri: REDIRECTS[1] as string });
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECTS[1] as string,
      client_id: DEMO_APP.clientId,
    }).toString();
    const swapped = await okJson(await form(neverServer, '/swap', body));
    const viaJson = await neverServer.app.request('/refresh', {
      method: 'POST',
      body: JSON.stringify({ refresh_token: swapped.refresh_token, grant_type: 'refresh_token' }),
      headers: { 'Content-Type': 'application/json' },
    });
    await okJson(viaJson);
    const jsonCode = await getCode(never);
    const jsonSwap = await neverServer.app.request('/swap', {
      method: 'POST',
      body: JSON.stringify({ code: jsonCode, client_id: DEMO_APP.clientId }),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect((await okJson(jsonSwap)).refresh_token).toMatch(/^v1\./);
  });

  it('serves /v1/swap and /v1/refresh with basePath /v1', async () => {
    const v1 = startServer(never, { basePath: '/v1' });
    const code = await getCode(never);
    const swapped = await okJson(await form(v1, '/v1/swap', `code=${code}`));
    await okJson(await form(v1, '/v1/refresh', `refresh_token=${swapped.refresh_token}`));
    expect((await form(v1, '/swap', 'code=x')).status).toBe(404);
  });
});

describe('rotation under each emulator policy', () => {
  async function unsealedIssuedAt(sealed: string) {
    return (await keyring.unseal(sealed, { clientId: DEMO_APP.clientId, maxAge: 15_552_000 }))
      .issuedAt;
  }

  it('always: a new sealed token keeping the original issuedAt; the old one is refused by Spotify', async () => {
    const always = await startUpstream('always');
    const server = startServer(always, { now: () => Date.now() - 3_600_000 });
    const swapped = await swap(server, always);
    const laterServer = startServer(always);
    const refreshed = await okJson(await refresh(laterServer, swapped.refresh_token as string));
    expect(Object.keys(refreshed)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    // The login's end is counted from the original swap, an hour before this refresh.
    expect(refreshed.refresh_token_expires_in).toBeGreaterThanOrEqual(15_552_000 - 3_601);
    expect(refreshed.refresh_token_expires_in).toBeLessThanOrEqual(15_552_000 - 3_599);
    const rotated = refreshed.refresh_token as string;
    expect(rotated).not.toBe(swapped.refresh_token);
    expect(await unsealedIssuedAt(rotated)).toBe(
      await unsealedIssuedAt(swapped.refresh_token as string),
    );
    // Spotify's answer to the superseded token passes through unchanged.
    const old = await refresh(laterServer, swapped.refresh_token as string);
    expectJsonHeaders(old);
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: string }).error).toBe('invalid_grant');
    await okJson(await refresh(laterServer, rotated));
  });

  it('pkce: rotates tokens from a PKCE code exchange only', async () => {
    const pkce = await startUpstream('pkce');
    const server = startServer(pkce);
    const verifier = generateCodeVerifier();
    secrets.add(verifier);
    const withPkce = await swap(server, pkce, verifier);
    const rotated = await okJson(await refresh(server, withPkce.refresh_token as string));
    expect(rotated.refresh_token).toBeDefined();
    const plain = await swap(server, pkce);
    const notRotated = await okJson(await refresh(server, plain.refresh_token as string));
    expect(notRotated.refresh_token).toBeUndefined();
  });

  it('a rotated token still expires at the max age counted from the ORIGINAL swap', async () => {
    const always = await startUpstream('always');
    let clock = Date.now();
    const server = startServer(always, { now: () => clock, refreshTokenMaxAge: 1_000 });
    const swapped = await swap(server, always);
    clock += 600_000;
    const rotated = (await okJson(await refresh(server, swapped.refresh_token as string)))
      .refresh_token as string;
    expect(rotated).toBeDefined();
    clock += 300_000; // 900 s after the swap, 300 s after the rotation: still good
    const answer = await okJson(await refresh(server, rotated));
    expect(answer.refresh_token_expires_in).toBe(100);
    const again = answer.refresh_token as string;
    clock += 101_000; // 1001 s after the swap, 401 s after the last rotation
    const before = always.emulator.stats().requests['POST /api/token'];
    const refused = await refresh(server, again);
    expectJsonHeaders(refused);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toBe(INVALID_REFRESH);
    expect(always.emulator.stats().requests['POST /api/token']).toBe(before);
  });

  it('never: the original sealed token stays valid across refreshes', async () => {
    const swapped = await swap(neverServer, never);
    for (let i = 0; i < 3; i++) {
      const refreshed = await okJson(await refresh(neverServer, swapped.refresh_token as string));
      expect(refreshed.refresh_token).toBeUndefined();
    }
  });
});

describe("Spotify's OAuth errors pass through unchanged", () => {
  async function direct(upstream: Upstream, body: string) {
    const response = await fetch(`${upstream.listening.url}/api/token`, {
      method: 'POST',
      body,
      headers: {
        ...FORM,
        Authorization: `Basic ${btoa(`${DEMO_APP.clientId}:${DEMO_APP.clientSecret}`)}`,
      },
    });
    return { status: response.status, text: await response.text() };
  }

  it('a used code: 400 invalid_grant, byte-identical to what the emulator answered', async () => {
    const code = await getCode(never);
    await okJson(await form(neverServer, '/swap', `code=${code}`));
    const again = await form(neverServer, '/swap', `code=${code}`);
    expectJsonHeaders(again);
    const ours = { status: again.status, text: await again.text() };
    const theirs = await direct(
      never,
      `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(REDIRECTS[0] as string)}`,
    );
    expect(ours).toEqual(theirs);
    expect(JSON.parse(ours.text)).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid authorization code',
    });
  });

  it('a revoked refresh token: Spotify’s invalid_grant, unchanged', async () => {
    const swapped = await swap(neverServer, never);
    const { refreshToken } = await keyring.unseal(swapped.refresh_token as string, {
      clientId: DEMO_APP.clientId,
      maxAge: 15_552_000,
    });
    expect(never.emulator.revokeRefreshToken(refreshToken)).toBe(true);
    const ours = await refresh(neverServer, swapped.refresh_token as string);
    expectJsonHeaders(ours);
    const theirs = await direct(never, `grant_type=refresh_token&refresh_token=${refreshToken}`);
    expect({ status: ours.status, text: await ours.text() }).toEqual(theirs);
  });

  it('a PKCE code with a wrong verifier: Spotify’s answer, unchanged', async () => {
    const verifier = generateCodeVerifier();
    const code = await getCode(never, { verifier });
    const wrong = generateCodeVerifier();
    secrets.add(verifier).add(wrong);
    const response = await form(neverServer, '/swap', `code=${code}&code_verifier=${wrong}`);
    expectJsonHeaders(response);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier was incorrect',
    });
  });
});

describe('sealed tokens that do not open: one answer, byte for byte, and Spotify is never asked', () => {
  /** Status, headers (but the request id) and body: what must not differ between failures. */
  async function answer(response: Response): Promise<string> {
    const headers = [...response.headers].filter(([name]) => name !== 'x-request-id');
    return JSON.stringify([response.status, headers, await response.text()]);
  }

  it('tampered, truncated, foreign key, retired key, foreign client, expired and garbage all look the same', async () => {
    const swapped = await swap(neverServer, never);
    const sealed = swapped.refresh_token as string;
    const { refreshToken: raw } = await keyring.unseal(sealed, {
      clientId: DEMO_APP.clientId,
      maxAge: 15_552_000,
    });
    const other = await Keyring.parse(Keyring.generateKeyString());
    const retiredKey = Keyring.generateKeyString();
    const retired = await Keyring.parse(retiredKey);
    const flip = (s: string, at: number) =>
      s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const candidates = [
      flip(sealed, sealed.length - 5),
      flip(sealed, sealed.indexOf('.', 3) + 3),
      flip(sealed, 3),
      sealed.slice(0, -10),
      sealed.slice(0, 20),
      `${sealed}AAAA`,
      await other.seal(raw, { clientId: DEMO_APP.clientId }),
      await retired.seal(raw, { clientId: DEMO_APP.clientId }),
      await keyring.seal(raw, { clientId: 'another-client' }),
      'v1.nokey.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'garbage',
      '%FF%FE',
      'a'.repeat(2048),
    ];
    const expiredServer = startServer(never, { now: () => Date.now() + 181 * 86_400_000 });
    const before = never.emulator.stats().requests['POST /api/token'] ?? 0;
    const reference = await answer(await refresh(neverServer, 'garbage'));
    expect(JSON.parse(reference)[2]).toBe(INVALID_REFRESH);
    for (const candidate of candidates) {
      const response = await refresh(neverServer, candidate);
      expectJsonHeaders(response);
      expect(await answer(response), candidate).toBe(reference);
    }
    expect(await answer(await refresh(expiredServer, sealed))).toBe(reference);
    expect(never.emulator.stats().requests['POST /api/token'] ?? 0).toBe(before);
    // The retired key's token opened while its key was on the ring (behind a newer one).
    const rotatedRing = await Keyring.parse(`${Keyring.generateKeyString()},${retiredKey}`);
    const withRetired = startServer(never, { keyring: rotatedRing });
    await okJson(await refresh(withRetired, candidates[7] as string));
    // And the same sealed token still works: nothing was burned.
    await okJson(await refresh(neverServer, sealed));
  });
});

describe('our own errors keep the OAuth shape', () => {
  const cases: [string, string, string, HeadersInit | undefined, number, string, string][] = [
    ['swap without code', '/swap', '', undefined, 400, 'invalid_request', 'code is missing'],
    ['empty code', '/swap', 'code=', undefined, 400, 'invalid_request', 'code is missing'],
    [
      'duplicated code',
      '/swap',
      'code=a&code=b',
      undefined,
      400,
      'invalid_request',
      'code must be sent only once',
    ],
    [
      'oversized code',
      '/swap',
      `code=${'a'.repeat(2049)}`,
      undefined,
      400,
      'invalid_request',
      'code is too long (at most 2048 bytes)',
    ],
    [
      'malformed code',
      '/swap',
      'code=a%0Ab',
      undefined,
      400,
      'invalid_request',
      'code is malformed',
    ],
    [
      'wrong client_id',
      '/swap',
      'code=a&client_id=someone-else',
      undefined,
      400,
      'invalid_request',
      'client_id is not the client this server serves',
    ],
    [
      'redirect_uri off the allowlist',
      '/swap',
      'code=a&redirect_uri=https%3A%2F%2Fevil.example%2Fcb',
      undefined,
      400,
      'invalid_request',
      'redirect_uri is not one this server allows',
    ],
    [
      'another grant_type',
      '/swap',
      'code=a&grant_type=client_credentials',
      undefined,
      400,
      'invalid_request',
      'grant_type must be authorization_code',
    ],
    [
      'short code_verifier',
      '/swap',
      'code=a&code_verifier=short',
      undefined,
      400,
      'invalid_request',
      'code_verifier is malformed (43-128 characters of A-Z a-z 0-9 . _ ~ -)',
    ],
    [
      'refresh without token',
      '/refresh',
      'code=a',
      undefined,
      400,
      'invalid_request',
      'refresh_token is missing',
    ],
    [
      'refresh with another grant_type',
      '/refresh',
      'refresh_token=a&grant_type=authorization_code',
      undefined,
      400,
      'invalid_request',
      'grant_type must be refresh_token',
    ],
    [
      'refresh with a wrong client_id',
      '/refresh',
      'refresh_token=a&client_id=someone-else',
      undefined,
      400,
      'invalid_request',
      'client_id is not the client this server serves',
    ],
    [
      'duplicated refresh_token',
      '/refresh',
      'refresh_token=a&refresh_token=b',
      undefined,
      400,
      'invalid_request',
      'refresh_token must be sent only once',
    ],
    [
      'duplicated redirect_uri',
      '/swap',
      `code=a&redirect_uri=${encodeURIComponent(REDIRECTS[0] as string)}&redirect_uri=x`,
      undefined,
      400,
      'invalid_request',
      'redirect_uri must be sent only once',
    ],
    [
      'duplicated code in a JSON body',
      '/swap',
      '{"code":"a","code":"b"}',
      { 'Content-Type': 'application/json' },
      400,
      'invalid_request',
      'code must be sent only once',
    ],
    [
      'oversized refresh_token',
      '/refresh',
      `refresh_token=${'a'.repeat(4097)}`,
      undefined,
      400,
      'invalid_request',
      // Up to the longest envelope the server seals (MAX_SEALED_LENGTH), not MAX_FIELD_BYTES.
      'refresh_token is too long (at most 4096 bytes)',
    ],
    [
      'malformed client_id',
      '/swap',
      'code=a&client_id=a%20b',
      undefined,
      400,
      'invalid_request',
      'client_id is malformed',
    ],
    [
      'a JSON code that is not a string',
      '/swap',
      '{"code":42}',
      { 'Content-Type': 'application/json' },
      400,
      'invalid_request',
      'code must be a string',
    ],
    [
      'unsupported content type',
      '/swap',
      'code=a',
      { 'Content-Type': 'text/plain' },
      400,
      'invalid_request',
      'Unsupported Content-Type: send the parameters as application/x-www-form-urlencoded (or application/json)',
    ],
    [
      'broken JSON',
      '/swap',
      '{"code":',
      { 'Content-Type': 'application/json' },
      400,
      'invalid_request',
      'The request body is not valid JSON',
    ],
    [
      'body over 8 KiB',
      '/swap',
      `code=${'a'.repeat(9000)}`,
      undefined,
      413,
      'invalid_request',
      'Request body is larger than 8192 bytes',
    ],
  ];

  it.each(cases)('%s', async (_name, path, body, headers, status, error, description) => {
    const before = never.emulator.stats().requests['POST /api/token'] ?? 0;
    const response = await form(neverServer, path, body, headers ?? FORM);
    expectJsonHeaders(response);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error, error_description: description });
    expect(never.emulator.stats().requests['POST /api/token'] ?? 0).toBe(before);
  });

  it('413 for a streamed body over 8 KiB without Content-Length', async () => {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        controller.enqueue(new TextEncoder().encode(sent === 1 ? 'code=' : 'a'.repeat(1024)));
        if (sent > 10_000) controller.close();
      },
    });
    const response = await neverServer.app.request('/swap', {
      method: 'POST',
      body: stream,
      headers: FORM,
      duplex: 'half',
    } as RequestInit);
    expectJsonHeaders(response);
    expect(response.status).toBe(413);
    expect(sent).toBeLessThan(20);
  });

  it('404 JSON for unknown paths, 405 with Allow for other methods', async () => {
    const unknown = await neverServer.app.request('/swap/extra');
    expectJsonHeaders(unknown);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not_found', error_description: 'Not found' });
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const response = await neverServer.app.request('/swap', { method });
      expectJsonHeaders(response);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    }
    const head = await neverServer.app.request('/refresh', { method: 'HEAD' });
    expect(head.status).toBe(405);
    const postHealth = await neverServer.app.request('/healthz', { method: 'POST' });
    expect(postHealth.status).toBe(405);
    expect(postHealth.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('upstream faults', () => {
  it('latency past the timeout → 504; 5xx → 502; 429 → 503 with Retry-After; dropped connection → 502', async () => {
    const faulty = await startUpstream('never');
    const server = startServer(faulty, { upstreamTimeout: 300 });
    const cases: [Parameters<Emulator['setFault']>[0], number, string, string | null][] = [
      [
        { endpoint: '/api/token', type: 'latency', latencyMs: 1500, count: 1 },
        504,
        'temporarily_unavailable',
        null,
      ],
      [
        { endpoint: '/api/token', type: 'status', status: 500, count: 1 },
        502,
        'server_error',
        null,
      ],
      [
        { endpoint: '/api/token', type: 'status', status: 502, count: 1 },
        502,
        'server_error',
        null,
      ],
      [
        { endpoint: '/api/token', type: 'status', status: 503, count: 1 },
        503,
        'temporarily_unavailable',
        null,
      ],
      [
        { endpoint: '/api/token', type: 'status', status: 429, retryAfter: 42, count: 1 },
        503,
        'temporarily_unavailable',
        '42',
      ],
      [{ endpoint: '/api/token', type: 'drop', count: 1 }, 502, 'server_error', null],
    ];
    for (const [fault, status, error, retryAfter] of cases) {
      const code = await getCode(faulty);
      faulty.emulator.setFault(fault);
      const response = await form(server, '/swap', `code=${code}`);
      expectJsonHeaders(response);
      expect(response.status, JSON.stringify(fault)).toBe(status);
      expect(response.headers.get('retry-after')).toBe(retryAfter);
      expect(((await response.json()) as { error: string }).error).toBe(error);
      faulty.emulator.clearFaults();
    }
    // A code exchange is never retried: one token request per swap attempt.
    expect(faulty.emulator.stats().requests['POST /api/token']).toBe(cases.length);
  });
});

describe('upstream faults on /refresh', () => {
  it('timeout → 504, 5xx → 502, 429 → 503 with Retry-After, drop → 502; never retried, token kept', async () => {
    const faulty = await startUpstream('never');
    const server = startServer(faulty, { upstreamTimeout: 300 });
    const swapped = await swap(server, faulty);
    const before = faulty.emulator.stats().requests['POST /api/token'] ?? 0;
    const cases: [Parameters<Emulator['setFault']>[0], number, string | null][] = [
      [{ endpoint: '/api/token', type: 'latency', latencyMs: 1500, count: 1 }, 504, null],
      [{ endpoint: '/api/token', type: 'status', status: 500, count: 1 }, 502, null],
      [{ endpoint: '/api/token', type: 'status', status: 429, retryAfter: 7, count: 1 }, 503, '7'],
      [{ endpoint: '/api/token', type: 'drop', count: 1 }, 502, null],
    ];
    for (const [fault, status, retryAfter] of cases) {
      faulty.emulator.setFault(fault);
      const response = await refresh(server, swapped.refresh_token as string);
      expectJsonHeaders(response);
      expect(response.status, JSON.stringify(fault)).toBe(status);
      expect(response.headers.get('retry-after')).toBe(retryAfter);
      const body = (await response.json()) as { error: string; error_description: string };
      expect(body.error).toBe(status === 502 ? 'server_error' : 'temporarily_unavailable');
      faulty.emulator.clearFaults();
    }
    expect(faulty.emulator.stats().requests['POST /api/token']).toBe(before + cases.length);
    // A failed upstream call does not burn the sealed token.
    await okJson(await refresh(server, swapped.refresh_token as string));
  });
});

describe('every answer is JSON and never cached', () => {
  it('/healthz, /readyz (ready and draining), /metrics without metrics, 404, 405, HEAD', async () => {
    const server = startServer(never);
    const answers = [
      await server.app.request('/healthz'),
      await server.app.request('/healthz', { method: 'HEAD' }),
      await server.app.request('/readyz'),
      await server.app.request('/metrics'),
      await server.app.request('/nothing-here'),
      await server.app.request('/readyz', { method: 'DELETE' }),
    ];
    server.drain();
    answers.push(await server.app.request('/readyz'));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 404, 404, 405, 503]);
    const bodies: unknown[] = [];
    for (const response of answers) {
      expectJsonHeaders(response);
      const text = await response.text();
      bodies.push(text === '' ? undefined : JSON.parse(text));
    }
    expect(bodies[1]).toBeUndefined(); // HEAD
    expect(bodies[6]).toMatchObject({ ready: false, status: 'draining' });
  });

  it('a CORS preflight and a 429 carry the same headers', async () => {
    const server = startServer(never, {
      corsOrigins: ['https://app.example'],
      rateLimit: { ip: 1, token: 0 },
    });
    const preflight = await server.app.request('/swap', {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST,OPTIONS');
    expectJsonHeaders(preflight);
    const env = { clientIp: '198.51.100.9' };
    const post = () =>
      server.fetch(
        new Request('http://server.test/swap', { method: 'POST', headers: FORM, body: '' }),
        env,
      );
    expect((await post()).status).toBe(400);
    const limited = await post();
    expectJsonHeaders(limited);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: `Too many requests; retry in ${limited.headers.get('retry-after')} seconds`,
    });
  });

  it('a bug (here a rate-limit store that throws) is a JSON 500, logged without a stack in the answer', async () => {
    const server = startServer(never, {
      rateLimit: { ip: 5, token: 0 },
      rateLimitStore: {
        kind: 'broken',
        limiter: () => ({
          consume: () => Promise.reject(new Error('store exploded')),
        }),
        health: async () => 'ok',
        close: async () => {},
      },
    });
    const linesBefore = logLines.length;
    const response = await form(server, '/swap', 'code=a');
    expectJsonHeaders(response);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: 'server_error',
      error_description: 'Internal server error',
    });
    expect(text).not.toContain('exploded');
    const logged = logLines.slice(linesBefore).join('');
    expect(logged).toContain('unhandled error');
    expect(logged).toContain('store exploded');
  });
});

describe('logs', () => {
  it('the run above logged requests, and never a code, token, verifier or secret', () => {
    const all = logLines.join('');
    expect(logLines.length).toBeGreaterThan(50);
    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // Error paths were logged too: upstream failures, refused tokens, the 500.
    const requests = entries.filter((entry) => entry.msg === 'request');
    expect(requests.every((entry) => typeof entry.requestId === 'string')).toBe(true);
    expect(new Set(requests.map((entry) => entry.status))).toEqual(
      new Set([200, 204, 400, 404, 405, 413, 429, 500, 502, 503, 504]),
    );
    expect(all).toContain('"route":"/swap"');
    expect(secrets.size).toBeGreaterThan(40);
    const leaked = [...secrets].filter((secret) => secret.length >= 8 && all.includes(secret));
    expect(leaked).toEqual([]);
  });
});
