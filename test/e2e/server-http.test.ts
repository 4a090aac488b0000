/**
 * The token server over real HTTP (Node adapter, port 0) with the emulator as Spotify:
 * the SDK's requests, body limits on the wire, metrics, client IPs behind a proxy, and a
 * graceful close that lets an in-flight request finish.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP, type EmulatorServer } from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';
import { type RunningTokenServer, serveTokenServer } from '../../src/server/node.js';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const REDIRECT = 'spotify-session-demo://callback';
const emulator = createEmulator({ autoApprove: true, rotation: 'always' });
let upstream: EmulatorServer;
let running: RunningTokenServer;
const keyring = await Keyring.parse(Keyring.generateKeyString());

function start(options: Partial<Parameters<typeof serveTokenServer>[0]> = {}) {
  return serveTokenServer({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUris: [REDIRECT],
    keyring,
    accountsUrl: upstream.url,
    port: 0,
    logger: false,
    ...options,
  });
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
  return new URL(response.headers.get('location') as string).searchParams.get('code') as string;
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
    expect(swap.headers.get('content-type')).toBe('application/json');
    expect(swap.headers.get('cache-control')).toBe('no-store');
    const swapped = (await swap.json()) as { refresh_token: string; expires_in: number };
    expect(swapped.expires_in).toBe(3600);
    const refresh = await fetch(`${running.url}/refresh`, {
      method: 'POST',
      headers: FORM,
      body: `refresh_token=${swapped.refresh_token}`,
    });
    expect(refresh.status).toBe(200);
    const refreshed = (await refresh.json()) as { refresh_token?: string };
    // rotation: 'always' → a new sealed token, never Spotify's raw one
    expect(refreshed.refresh_token).toMatch(/^v1\./);
  });

  it('413 for a chunked upload over 8 KiB, cut off while reading', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${running.url}/swap`, { method: 'POST', headers: FORM }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('code=');
      let written = 0;
      const pump = () => {
        while (written < 1_000 && req.write('a'.repeat(1024))) written += 1;
        if (written < 1_000) req.once('drain', pump);
        else req.end();
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it('413 for a declared Content-Length over 8 KiB', async () => {
    const response = await fetch(`${running.url}/swap`, {
      method: 'POST',
      headers: FORM,
      body: `code=${'a'.repeat(10_000)}`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'Request body is larger than 8192 bytes',
    });
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
    expect(await response.json()).toEqual({
      error: 'server_error',
      error_description: 'Spotify could not be reached',
    });
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
    const before = emulator.stats().requests['POST /api/token'] ?? 0;
    const inFlight = fetch(`${draining.url}/swap`, {
      method: 'POST',
      headers: FORM,
      body: `code=${code}`,
    });
    // Wait until the request has reached Spotify, then shut down.
    while ((emulator.stats().requests['POST /api/token'] ?? 0) === before) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const closed = draining.close();
    const response = await inFlight;
    expect(response.status).toBe(200);
    await closed;
    await expect(fetch(`${draining.url}/healthz`)).rejects.toThrow();
  });
});
