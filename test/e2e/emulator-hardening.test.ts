/**
 * The emulator against hostile clients: bodies refused while they are
 * still arriving, byte (not character) caps, a clock that cannot be pushed
 * into nonsense, stats that do not grow with random paths, and a control API
 * that a web page cannot drive (cross-site posts, DNS rebinding).
 */
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALL_USER_SCOPES, control, userToken } from '../../src/emulator/_test-http.js';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/emulator/index.js';

let emulator: Emulator;
let server: EmulatorServer;
const T0 = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  emulator = createEmulator({ now: () => T0 });
  server = await emulator.listen();
});
afterAll(async () => {
  await server?.close();
});

const MB = 1024 * 1024;

/**
 * POSTs a chunked body of up to `maxBytes`, 64 KiB at a time, and stops
 * writing as soon as an answer arrives: how much was sent by then. Before the
 * answer, up to a few MB can sit in the loopback socket's buffers, so the
 * tests allow 16 MB: a server that reads the whole body first lets all 64 MB in.
 */
function sendChunkedUntilAnswered(
  path: string,
  headers: Record<string, string>,
  maxBytes: number,
): Promise<{ status: number; sent: number; body: string }> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...headers, 'Transfer-Encoding': 'chunked' },
    });
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        body += text;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, sent, body });
        req.destroy();
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < maxBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('bodies are refused while they arrive, not after', () => {
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const json = { 'Content-Type': 'application/json' };

  test('POST /api/token: a 64 MB chunked body → 413 long before its end', async () => {
    const answer = await sendChunkedUntilAnswered('/api/token', form, 64 * MB);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      error: 'server_error',
      error_description: 'Unexpected status: 413',
    });
    expect(answer.sent).toBeLessThan(16 * MB);
  });

  test('the consent form, the control API and the Web API too', async () => {
    const { accessToken } = await userToken(server.url, ALL_USER_SCOPES);
    const cases: [string, Record<string, string>][] = [
      ['/authorize/decision', form],
      ['/__emulator/faults', json],
      ['/v1/me/playlists', { ...json, Authorization: `Bearer ${accessToken}` }],
    ];
    for (const [path, headers] of cases) {
      const answer = await sendChunkedUntilAnswered(path, headers, 64 * MB);
      expect([path, answer.status]).toEqual([path, 413]);
      expect(answer.sent).toBeLessThan(16 * MB);
    }
  });

  test('the 16 KiB token cap counts bytes, not characters', async () => {
    // 6,000 three-byte characters: 18,000 bytes, but only 6,000 UTF-16 units.
    const body = `grant_type=client_credentials&x=${'€'.repeat(6000)}`;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });
    const response = await fetch(`${server.url}/api/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });
});

describe('the control clock stays sane', () => {
  test('junk and absurd advances → 400; the clock does not move', async () => {
    const before = emulator.now();
    for (const body of [
      { advance: 1e300 },
      { advance: 100 * 365 * 24 * 3600 + 1 },
      { advance: -1 },
      { advance: '5' },
      { advance: null },
      { set: 'tomorrow' },
      { set: before - 1 },
      { set: 1.5 },
      { set: Date.UTC(10000, 0, 1) },
      { advance: 1, set: before + 1000 },
      {},
      '1e309',
    ]) {
      const answer = await control(server.url, 'POST', '/clock', body);
      expect([body, answer.status]).toEqual([body, 400]);
    }
    expect(emulator.now()).toBe(before);
    expect(() => emulator.advanceClock(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => emulator.advanceClock(1e20)).toThrow(TypeError);
    expect(() => emulator.setClock(before - 1)).toThrow(TypeError);
  });

  test('set moves the clock to a time; a large but sane advance works', async () => {
    const target = emulator.now() + 90_000;
    expect(await control(server.url, 'POST', '/clock', { set: target })).toEqual({
      status: 200,
      body: { now: target },
    });
    expect(emulator.setClock(target + 10_000)).toBe(target + 10_000);
    expect(emulator.advanceClock(10 * 365 * 24 * 3600)).toBe(
      target + 10_000 + 10 * 365 * 24 * 3600 * 1000,
    );
  });
});

test('stats stay bounded: unknown paths share one bucket, Web API ids one template', async () => {
  const other = createEmulator();
  for (let index = 0; index < 500; index++) {
    await other.app.request(`/random/${index}`);
    await other.app.request(`/v1/tracks/${String(index).padStart(22, '0')}`);
    await other.app.request(`/v1/made-up/${index}`);
    await other.app.request(`/api/token/${index}`, { method: 'POST' });
  }
  await other.app.request('/x', { method: 'BREW' });
  const { requests } = other.stats();
  expect(requests).toEqual({
    'GET (other path)': 1000,
    'POST (other path)': 500,
    'OTHER (other path)': 1,
    'GET /v1/tracks/{id}': 500,
  });
});

/** One request with the headers as given (`Host` included), over a real socket. */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a web page cannot drive the control API', () => {
  const FAULT = JSON.stringify({ endpoint: '/v1', type: 'status', status: 503 });

  test('a cross-site text/plain or form POST → 415, nothing changes', async () => {
    emulator.clearFaults();
    const before = emulator.now();
    emulator.advanceClock(60);
    const attempts: Array<[string, string, Record<string, string>, string]> = [
      ['POST', '/__emulator/faults', { 'Content-Type': 'text/plain' }, FAULT],
      ['POST', '/__emulator/faults', {}, FAULT],
      ['POST', '/__emulator/reset', { 'Content-Type': 'application/x-www-form-urlencoded' }, ''],
      ['POST', '/__emulator/clock', { 'Content-Type': 'multipart/form-data; boundary=x' }, ''],
      ['DELETE', '/__emulator/faults', {}, ''],
    ];
    emulator.setFault({ endpoint: '/v1/me', type: 'latency', latencyMs: 1 });
    for (const [method, path, headers, body] of attempts) {
      const answer = await raw(
        server.url,
        method,
        path,
        { ...headers, Origin: 'https://evil.example' },
        body,
      );
      expect([path, answer.status, answer.body.error]).toEqual([
        path,
        415,
        'unsupported_media_type',
      ]);
      expect(answer.body.error_description).toMatch(/Content-Type: application\/json/);
    }
    expect(emulator.listFaults()).toHaveLength(1); // not added, not cleared
    expect(emulator.now()).toBe(before + 60_000); // not reset
    // With the JSON type (a page cannot send it without a preflight nobody grants), it works.
    const json = { 'Content-Type': 'application/json; charset=utf-8' };
    expect((await raw(server.url, 'POST', '/__emulator/faults', json, FAULT)).status).toBe(201);
    expect((await raw(server.url, 'DELETE', '/__emulator/faults', json)).body).toEqual({
      cleared: 2,
    });
    expect((await raw(server.url, 'POST', '/__emulator/reset', json)).status).toBe(200);
  });

  test('a Host that is not loopback or the listening host (DNS rebinding) → 403', async () => {
    emulator.clearFaults();
    const json = { 'Content-Type': 'application/json' };
    const port = new URL(server.url).port;
    for (const host of [
      'rebind.evil.example',
      `rebind.evil.example:${port}`,
      '192.0.2.1',
      'localhost.evil.example',
    ]) {
      for (const [method, path, body] of [
        ['GET', '/__emulator/stats', ''],
        ['POST', '/__emulator/faults', FAULT],
        ['POST', '/__emulator/reset', ''],
      ] as const) {
        const answer = await raw(server.url, method, path, { ...json, Host: host }, body);
        expect([host, path, answer.status, answer.body.error]).toEqual([
          host,
          path,
          403,
          'host_not_allowed',
        ]);
      }
    }
    expect(emulator.listFaults()).toEqual([]);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      'app.localhost',
      '127.0.0.53',
    ]) {
      const answer = await raw(server.url, 'GET', '/__emulator/clock', { Host: host });
      expect([host, answer.status]).toEqual([host, 200]);
    }
    // Spotify's own endpoints keep answering whatever name the emulator is reached by.
    const api = await raw(server.url, 'GET', '/v1/me', { Host: 'emulator.internal' });
    expect(api.status).toBe(401);
    const token = await raw(
      server.url,
      'POST',
      '/api/token',
      { 'Content-Type': 'application/x-www-form-urlencoded', Host: 'emulator.internal' },
      'grant_type=client_credentials&client_id=spotify-session-demo&client_secret=spotify-session-demo-secret',
    );
    expect(token.status).toBe(200);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')?.address;
  test.skipIf(external === undefined)(
    'the host it was told to listen on is answered too',
    async () => {
      const other = createEmulator();
      const running = await other.listen({ host: external as string });
      try {
        expect((await raw(running.url, 'GET', '/__emulator/stats', {})).status).toBe(200);
        const refused = await raw(running.url, 'GET', '/__emulator/stats', {
          Host: 'rebind.evil.example',
        });
        expect(refused.status).toBe(403);
      } finally {
        await running.close();
      }
    },
  );
});
