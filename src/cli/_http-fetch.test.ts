import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/web-api-server.js';
import { SpotifyWebAPIBase } from '../api/client.js';
import { WebAPIError } from '../api/errors/index.js';
import { InvalidResponseError, NetworkError, TimeoutError } from '../core/index.js';
import { isRedirect, sendRequest, sendWebRequest } from '../core/internal.js';
import { cliFetch } from './_http-fetch.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const send = (url: string, init: RequestInit, timeout = 2000, maxBodyBytes = 65_536) =>
  sendRequest(url, init, { fetch: cliFetch, timeout, maxBodyBytes });

describe('cliFetch (through core sendRequest)', () => {
  it('sends what fetch would and reads the answer whole', async () => {
    server = await startTestServer(() => ({
      status: 201,
      headers: { 'X-Thing': 'a', 'set-cookie': 'x=1' },
      body: { ok: 'é' },
    }));
    const answer = await send(`${server.apiUrl}/me?market=SE`, {
      method: 'POST',
      headers: { Authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"name":"x"}',
    });
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.text)).toEqual({ ok: 'é' });
    expect(answer.headers.get('x-thing')).toBe('a');
    expect(answer.headers.get('X-THING')).toBe('a');
    expect(answer.headers.has('content-type')).toBe(true);
    expect(answer.headers.get('nothing')).toBeNull();
    expect([...answer.headers.keys()]).toContain('x-thing');
    const [seen] = server.seen;
    expect(seen).toMatchObject({ method: 'POST', url: '/v1/me?market=SE', body: '{"name":"x"}' });
    expect(seen?.headers).toMatchObject({
      authorization: 'Bearer t',
      'content-type': 'application/json',
      'content-length': '12',
      accept: '*/*',
      'accept-encoding': 'identity',
      connection: 'close',
    });
  });

  it('never follows a redirect: the 3xx is the answer', async () => {
    server = await startTestServer(() => ({
      status: 307,
      headers: { location: 'https://x.test/' },
    }));
    const answer = await send(`${server.apiUrl}/me`, { method: 'GET' });
    expect(answer.status).toBe(307);
    expect(isRedirect(answer.response)).toBe(true);
    expect(answer.response.headers.get('location')).toBe('https://x.test/');
    expect(server.seen).toHaveLength(1);
  });

  it('stops reading a body longer than the bound', async () => {
    server = await startTestServer(() => ({ body: 'x'.repeat(200_000) }));
    await expect(send(`${server.apiUrl}/big`, { method: 'GET' }, 2000, 1000)).rejects.toThrow(
      InvalidResponseError,
    );
  });

  it('gives up at the deadline', async () => {
    server = await startTestServer(() => ({ delay: 1000, body: {} }));
    const started = Date.now();
    await expect(send(`${server.apiUrl}/slow`, { method: 'GET' }, 100)).rejects.toThrow(
      TimeoutError,
    );
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('reports a refused connection and a body that broke off as network errors', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await expect(send(`http://127.0.0.1:${port}/`, { method: 'GET' })).rejects.toThrow(
      /No answer from http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );

    const halfway = createServer((_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('{"partial":');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    await new Promise<void>((resolve) => halfway.listen(0, '127.0.0.1', resolve));
    const address = halfway.address() as AddressInfo;
    try {
      await expect(send(`http://127.0.0.1:${address.port}/`, { method: 'GET' })).rejects.toThrow(
        NetworkError,
      );
    } finally {
      await new Promise((resolve) => halfway.close(resolve));
    }
  });

  it('answers a plain fetch(input, init) call on node:http too, with a Response over the whole answer', async () => {
    server = await startTestServer(() => ({ body: { plain: true } }));
    const response = await cliFetch(`${server.apiUrl}/plain`, { method: 'GET' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/json/);
    expect(await response.json()).toEqual({ plain: true });
  });

  it('serves core sendWebRequest (the Web API client path): the body, the caller abort, the size bound', async () => {
    server = await startTestServer((request) =>
      request.url === '/v1/big' ? { body: { big: 'x'.repeat(100_000) } } : { body: { web: 1 } },
    );
    const options = { fetch: cliFetch, timeout: 2000, maxBodyBytes: 65_536 };
    const answer = await sendWebRequest(`${server.apiUrl}/web`, { method: 'GET' }, options);
    expect(JSON.parse(answer.text)).toEqual({ web: 1 });
    await expect(
      sendWebRequest(`${server.apiUrl}/big`, { method: 'GET' }, options),
    ).rejects.toThrow('larger than 65536 bytes');
    const aborted = AbortSignal.abort();
    await expect(
      sendWebRequest(`${server.apiUrl}/web`, { method: 'GET' }, { ...options, signal: aborted }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('SpotifyWebAPIBase on cliFetch', () => {
  it('calls, retries a 429 after Retry-After, and reports an error with its message', async () => {
    server = await startTestServer((request, index) => {
      if (request.url === '/v1/me' && index === 0) {
        return { status: 429, headers: { 'retry-after': '0' }, body: {} };
      }
      if (request.url === '/v1/me') return { body: { id: 'u1', type: 'user' } };
      return { status: 404, body: { error: { status: 404, message: 'Service not found' } } };
    });
    const api = new SpotifyWebAPIBase({ apiUrl: server.apiUrl, fetch: cliFetch }).setAccessToken(
      'BQ-token',
    );
    await expect(api.me()).resolves.toMatchObject({ id: 'u1' });
    expect(server.seen.map((request) => request.headers.authorization)).toEqual([
      'Bearer BQ-token',
      'Bearer BQ-token',
    ]);
    const failure = await api.request('GET', '/nothing').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WebAPIError);
    expect((failure as WebAPIError).message).toBe('Service not found');
    expect((failure as WebAPIError).status).toBe(404);
  });
});
