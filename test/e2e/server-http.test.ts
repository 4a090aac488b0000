/**
 * The token server over real HTTP (Node adapter, port 0) with the emulator as Spotify:
 * the SDK's requests, body limits on the wire, metrics, client IPs behind a proxy, and a
 * graceful close that lets an in-flight request finish.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP, type EmulatorServer } from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';
import { type RunningTokenServer, serveTokenServer } from '../../src/server/node/index.js';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const REDIRECT = 'spotify-session-demo://callback';
const emulator = createEmulator({ autoApprove: true, rotation: 'always' });
let upstream: EmulatorServer;
let running: RunningTokenServer;
const keyring = await Keyring.parse(Keyring.generateKeyString());

/** Every log line of every server in this file, at debug level; scanned by the last test. */
const logLines: string[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(chunk.toString());
      callback();
    },
  }),
);
const secrets = new Set<string>([DEMO_APP.clientSecret]);

/** Notifies the test when the server's call to Spotify has left (an event, not a poll). */
let onUpstreamCall: (() => void) | undefined;
const watchedFetch: typeof fetch = (input, init) => {
  onUpstreamCall?.();
  return fetch(input, init);
};
const upstreamCalled = () =>
  new Promise<void>((resolve) => {
    onUpstreamCall = () => {
      onUpstreamCall = undefined;
      resolve();
    };
  });

function start(options: Partial<Parameters<typeof serveTokenServer>[0]> = {}) {
  return serveTokenServer({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUris: [REDIRECT],
    keyring,
    accountsUrl: upstream.url,
    port: 0,
    logger,
    fetch: watchedFetch,
    ...options,
  });
}

function expectJsonHeaders(response: { headers: Headers }) {
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('pragma')).toBe('no-cache');
}

async function getCode(): Promise<string> {
  const url = new URL('/authorize', upstream.url);
  url.search = new URLSearchParams({
    client_id: DEMO_APP.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'streaming',
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  const code = new URL(response.headers.get('location') as string).searchParams.get('code');
  secrets.add(code as string);
  return code as string;
}

beforeAll(async () => {
  upstream = await emulator.listen({ port: 0 });
  running = await start({ upstreamTimeout: 2_000 });
});

afterAll(async () => {
  await running?.close();
  await upstream?.close();
});

describe('over real HTTP', () => {
  it('swaps and refreshes with the exact requests of the iOS SDK', async () => {
    const code = await getCode();
    const swap = await fetch(`${running.url}/swap`, {
      method: 'POST',
      headers: FORM,
      body: `code=${code}`,
    });
    expect(swap.status).toBe(200);
    expectJsonHeaders(swap);
    const swapped = (await swap.json()) as {
      access_token: string;
      refresh_token: string;
      expires_in: number;
    };
    expect(swapped.expires_in).toBe(3600);
    secrets.add(swapped.access_token).add(swapped.refresh_token);
    const refresh = await fetch(`${running.url}/refresh`, {
      method: 'POST',
      headers: FORM,
      body: `refresh_token=${swapped.refresh_token}`,
    });
    expect(refresh.status).toBe(200);
    const refreshed = (await refresh.json()) as { access_token: string; refresh_token: string };
    // rotation: 'always' → a new sealed token, never Spotify's raw one
    expect(refreshed.refresh_token).toMatch(/^v1\./);
    secrets.add(refreshed.access_token).add(refreshed.refresh_token);
    for (const sealed of [swapped.refresh_token, refreshed.refresh_token]) {
      const opened = await keyring.unseal(sealed, { clientId: DEMO_APP.clientId, maxAge: 60 });
      secrets.add(opened.refreshToken);
    }
  });

  it('413 for a chunked upload (no Content-Length) over 8 KiB, answered while the client is still sending', async () => {
    let written = 0;
    const answer = await new Promise<{ status: number; headers: Headers; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(`${running.url}/swap`, { method: 'POST', headers: FORM });
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (typeof value === 'string') headers.set(name, value);
            }
            resolve({ status: res.statusCode ?? 0, headers, body });
            req.destroy();
          });
        });
        req.on('error', (error) => {
          if (written === 0) reject(error);
        });
        req.write('code=');
        // No Content-Length: Node sends the body chunked.
        expect((req as unknown as { chunkedEncoding: boolean }).chunkedEncoding).toBe(true);
        // An endless body: only the server's answer ends this upload.
        const pump = () => {
          if (req.destroyed) return;
          while (req.write('a'.repeat(1024))) written += 1;
          req.once('drain', pump);
        };
        pump();
      },
    );
    expect(answer.status).toBe(413);
    expectJsonHeaders({ headers: answer.headers });
    expect(JSON.parse(answer.body)).toEqual({
      error: 'invalid_request',
      error_description: 'Request body is larger than 8192 bytes',
    });
  }, 5_000);

  it('413 for a declared Content-Length over 8 KiB', async () => {
    const response = await fetch(`${running.url}/swap`, {
      method: 'POST',
      headers: FORM,
      body: `code=${'a'.repeat(10_000)}`,
    });
    expect(response.status).toBe(413);
    expectJsonHeaders(response);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Request body is larger than 8192 bytes',
    });
  });

  it('answers JSON even to requests Node cannot parse (bad request line, oversized headers)', async () => {
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(running.port, '127.0.0.1');
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          answer += chunk;
        });
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
        socket.end(request);
      });
    const cases: [string, string, string][] = [
      ['GARBAGE\r\n\r\n', '400 Bad Request', 'Malformed HTTP request'],
      [
        `POST /swap HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        '431 Request Header Fields Too Large',
        'Request headers are too large',
      ],
    ];
    for (const [request, statusLine, description] of cases) {
      const answer = await raw(request);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      const [first, ...headerLines] = head.split('\r\n');
      expect(first).toBe(`HTTP/1.1 ${statusLine}`);
      const headers = new Headers(
        headerLines.map((line) => line.split(/:\s*/, 2) as [string, string]),
      );
      expectJsonHeaders({ headers });
      expect(JSON.parse(body)).toEqual({
        error: 'invalid_request',
        error_description: description,
      });
    }
  });

  it('502 when Spotify drops the connection', async () => {
    const code = await getCode();
    emulator.setFault({ endpoint: '/api/token', type: 'drop', count: 1 });
    const response = await fetch(`${running.url}/swap`, {
      method: 'POST',
      headers: FORM,
      body: `code=${code}`,
    });
    expect(response.status).toBe(502);
    expectJsonHeaders(response);
    expect(await response.json()).toEqual({
      error: 'server_error',
      error_description: 'Spotify could not be reached',
    });
  });

  it('a bug on the token routes (a rate-limit store that throws) is a logged JSON 500, and the server goes on', async () => {
    const broken = await start({
      rateLimit: { ip: 5, token: 0 },
      rateLimitStore: {
        kind: 'broken',
        limiter: () => ({ consume: () => Promise.reject(new Error('store exploded')) }),
        health: async () => 'ok',
        close: async () => {},
      },
    });
    try {
      const linesBefore = logLines.length;
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await fetch(`${broken.url}/swap`, {
          method: 'POST',
          headers: { ...FORM, 'X-Request-Id': 'bug-1' },
          body: 'code=a',
        });
        expect(response.status).toBe(500);
        expectJsonHeaders(response);
        expect(response.headers.get('x-request-id')).toBe('bug-1');
        const text = await response.text();
        expect(JSON.parse(text)).toEqual({
          error: 'server_error',
          error_description: 'Internal server error',
        });
        expect(text).not.toContain('exploded');
      }
      const logged = logLines.slice(linesBefore).join('');
      expect(logged).toContain('unhandled error');
      expect(logged).toContain('store exploded');
      expect(logged).toContain('"requestId":"bug-1"');
      expect((await fetch(`${broken.url}/healthz`)).status).toBe(200);
    } finally {
      await broken.close();
    }
  });

  it('/healthz, /readyz and Prometheus /metrics with route patterns, no tokens or IPs', async () => {
    expect((await fetch(`${running.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
    const ready = await fetch(`${running.url}/readyz`);
    expect(await ready.json()).toMatchObject({ ready: true, status: 'ready' });
    await fetch(`${running.url}/no/such/path/AQC-secret-looking`);
    const metrics = await fetch(`${running.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metrics.headers.get('cache-control')).toBe('no-store');
    expect(metrics.headers.get('pragma')).toBe('no-cache');
    const text = await metrics.text();
    expect(text).toContain(
      'spotify_session_http_requests_total{route="/swap",method="POST",status="200"}',
    );
    expect(text).toContain('route="unmatched"');
    expect(text).toMatch(
      /spotify_session_upstream_request_duration_seconds_bucket\{[^}]*grant="authorization_code",outcome="ok"/,
    );
    expect(text).toContain('outcome="network_error"');
    expect(text).not.toContain('secret-looking');
    expect(text).not.toContain('127.0.0.1');
  });

  it('ignores X-Forwarded-For without TRUST_PROXY: the socket address is the client', async () => {
    const direct = await start({ rateLimit: { ip: 1 } });
    try {
      const post = (xff: string) =>
        fetch(`${direct.url}/swap`, {
          method: 'POST',
          headers: { ...FORM, 'X-Forwarded-For': xff },
          body: '',
        });
      expect((await post('198.51.100.1')).status).toBe(400);
      const limited = await post('198.51.100.2');
      expect(limited.status).toBe(429);
      expectJsonHeaders(limited);
    } finally {
      await direct.close();
    }
  });

  it('believes only the right-most X-Forwarded-For entry behind one proxy', async () => {
    const behindProxy = await start({ trustProxy: 1, rateLimit: { ip: 1 } });
    try {
      const post = (xff: string) =>
        fetch(`${behindProxy.url}/swap`, {
          method: 'POST',
          headers: { ...FORM, 'X-Forwarded-For': xff },
          body: '',
        });
      expect((await post('1.1.1.1, 203.0.113.1')).status).toBe(400);
      // Same real client, different forged left-most entry: still limited.
      expect((await post('2.2.2.2, 203.0.113.1')).status).toBe(429);
      expect((await post('1.1.1.1, 203.0.113.2')).status).toBe(400);
    } finally {
      await behindProxy.close();
    }
  });

  it('close() lets an in-flight request finish, then stops listening', async () => {
    const draining = await start();
    const code = await getCode();
    emulator.setFault({ endpoint: '/api/token', type: 'latency', latencyMs: 400, count: 1 });
    const called = upstreamCalled();
    const inFlight = fetch(`${draining.url}/swap`, {
      method: 'POST',
      headers: FORM,
      body: `code=${code}`,
    });
    // Once the request is on its way to Spotify, shut down.
    await called;
    const closed = draining.close();
    expect((await draining.tokenServer.ready()).status).toBe('draining');
    const response = await inFlight;
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; refresh_token: string };
    secrets.add(body.access_token).add(body.refresh_token);
    await closed;
    await expect(fetch(`${draining.url}/healthz`)).rejects.toThrow();
  });

  it('logged every request, and never a code, token or secret (debug level)', () => {
    const all = logLines.join('');
    expect(all).toContain('"msg":"listening"');
    expect(all).toContain('"status":413');
    expect(secrets.size).toBeGreaterThan(8);
    expect([...secrets].filter((secret) => all.includes(secret))).toEqual([]);
  });
});
