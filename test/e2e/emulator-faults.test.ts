/**
 * Fault injection, stats, clock and reset over real HTTP with raw fetch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  authorize,
  basic,
  CLIENT_ID,
  CLIENT_SECRET,
  codeFor,
  control,
  exchange,
  token,
} from '../../src/emulator/_test-http.js';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/emulator/index.js';

let emulator: Emulator;
let server: EmulatorServer;
let url: string;
const T0 = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  emulator = createEmulator({ autoApprove: true, now: () => T0 });
  server = await emulator.listen({ port: 0 });
  url = server.url;
});
afterEach(() => emulator.reset());
afterAll(async () => {
  await server?.close();
});

const credentials = () =>
  token(
    url,
    { grant_type: 'client_credentials' },
    { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
  );

describe('faults', () => {
  test('latency delays the answer, then the real answer comes', async () => {
    expect(
      (
        await control(url, 'POST', '/faults', {
          endpoint: '/api/token',
          type: 'latency',
          latencyMs: 300,
          count: 1,
        })
      ).status,
    ).toBe(201);
    const started = performance.now();
    const answer = await credentials();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.status).toBe(200);
    expect((await control(url, 'GET', '/faults')).body).toEqual({ faults: [] });
  });

  test('429 with Retry-After and the Web API rate-limit body', async () => {
    await control(url, 'POST', '/faults', {
      endpoint: '/api/token',
      type: 'status',
      status: 429,
      retryAfter: 7,
      count: 1,
    });
    const answer = await credentials();
    expect(answer.status).toBe(429);
    expect(answer.headers.get('Retry-After')).toBe('7');
    expect(answer.body).toEqual({ error: { status: 429, message: 'API rate limit exceeded' } });
    expect((await credentials()).status).toBe(200);
  });

  test('429 without retryAfter sends Retry-After: 1', async () => {
    emulator.setFault({ endpoint: '*', type: 'status', status: 429, count: 1 });
    expect((await credentials()).headers.get('Retry-After')).toBe('1');
  });

  test('500, 502 and 503 with an OAuth server_error body', async () => {
    for (const status of [500, 502, 503] as const) {
      emulator.setFault({ endpoint: '/api/token', type: 'status', status, count: 1 });
      const answer = await credentials();
      expect(answer.status).toBe(status);
      expect(answer.body).toEqual({
        error: 'server_error',
        error_description: `Unexpected status: ${status}`,
      });
    }
  });

  test('a status fault on /authorize answers with an HTML page', async () => {
    emulator.setFault({
      endpoint: '/authorize',
      type: 'status',
      status: 503,
      retryAfter: 2,
      count: 1,
    });
    const response = await authorize(url);
    expect(response.status).toBe(503);
    expect(response.headers.get('Retry-After')).toBe('2');
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(response.headers.get('Location')).toBeNull();
  });

  test('drop closes the connection: fetch rejects with a TypeError', async () => {
    await control(url, 'POST', '/faults', { endpoint: '/api/token', type: 'drop', count: 1 });
    await expect(credentials()).rejects.toBeInstanceOf(TypeError);
    expect((await credentials()).status).toBe(200);
  });

  test('drop in-process: the fetch handler and app.request reject with a TypeError', async () => {
    emulator.setFault({ endpoint: '*', type: 'drop', count: 2 });
    const request = new Request('http://emulator/api/token', { method: 'POST' });
    await expect(emulator.fetch(request)).rejects.toBeInstanceOf(TypeError);
    await expect(emulator.app.request('/authorize')).rejects.toBeInstanceOf(TypeError);
    expect((await emulator.app.request('/api/token', { method: 'POST' })).status).toBe(400);
  });

  test('count: exactly the next n requests', async () => {
    emulator.setFault({ endpoint: '/api/token', type: 'status', status: 500, count: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await credentials()).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
  });

  test('rate: a seeded, reproducible fraction of requests', async () => {
    const run = async () => {
      emulator.reset();
      emulator.setFault({
        endpoint: '/api/token',
        type: 'status',
        status: 503,
        rate: 0.5,
        seed: 42,
      });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await credentials()).status);
      return statuses;
    };
    const first = await run();
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await run()).toEqual(first);
  });

  test('rate 0 never fires; rate with count stops after count hits', async () => {
    emulator.setFault({ endpoint: '/api/token', type: 'status', status: 500, rate: 0 });
    expect((await credentials()).status).toBe(200);
    emulator.clearFaults();
    emulator.setFault({ endpoint: '/api/token', type: 'status', status: 500, rate: 1, count: 1 });
    expect([(await credentials()).status, (await credentials()).status]).toEqual([500, 200]);
  });

  test('a fault applies to its endpoint only; * to both; never to the control API', async () => {
    emulator.setFault({ endpoint: '/authorize', type: 'status', status: 500 });
    expect((await credentials()).status).toBe(200);
    expect((await authorize(url)).status).toBe(500);
    emulator.clearFaults();
    emulator.setFault({ endpoint: '*', type: 'status', status: 502 });
    expect((await credentials()).status).toBe(502);
    expect((await authorize(url)).status).toBe(502);
    expect((await control(url, 'GET', '/stats')).status).toBe(200);
  });

  test('GET lists faults with id and remaining; DELETE clears them', async () => {
    const created = await control(url, 'POST', '/faults', {
      endpoint: '*',
      type: 'status',
      status: 500,
      count: 3,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.any(String),
      endpoint: '*',
      remaining: 3,
      hits: 0,
    });
    await credentials();
    const listed = (await control(url, 'GET', '/faults')).body.faults as Record<string, unknown>[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: created.body.id, remaining: 2, hits: 1 });
    expect(await control(url, 'DELETE', '/faults')).toEqual({ status: 200, body: { cleared: 1 } });
    expect((await credentials()).status).toBe(200);
  });

  test('invalid faults → 400 with a clear message', async () => {
    const cases: [unknown, RegExp][] = [
      [{ endpoint: '/api/token', type: 'explode' }, /type must be/],
      [{ endpoint: '/nowhere', type: 'drop' }, /endpoint must be/],
      [{ endpoint: '*', type: 'status' }, /needs status/],
      [{ endpoint: '*', type: 'status', status: 418 }, /status must be 429, 500, 502 or 503/],
      [{ endpoint: '*', type: 'latency' }, /needs latencyMs/],
      [{ endpoint: '*', type: 'drop', rate: 2 }, /rate must be between 0 and 1/],
      [{ endpoint: '*', type: 'drop', count: 0 }, /count must be >= 1/],
      [{ endpoint: '*', type: 'drop', colour: 'red' }, /./],
      ['{not json', /JSON/],
    ];
    for (const [body, message] of cases) {
      const answer = await control(url, 'POST', '/faults', body);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
      expect(String(answer.body.error_description)).toMatch(message);
    }
    expect(() => emulator.setFault({ endpoint: '*', type: 'status' })).toThrow(TypeError);
    expect((await control(url, 'GET', '/faults')).body).toEqual({ faults: [] });
  });
});

describe('stats, clock, reset', () => {
  test('stats count every request (refused and faulted too) and grants by type', async () => {
    await authorize(url, { client_id: 'nobody' });
    await authorize(url);
    await credentials();
    await token(
      url,
      { grant_type: 'refresh_token', refresh_token: 'nope' },
      { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
    );
    await exchange(url, 'bad-code');
    emulator.setFault({ endpoint: '/api/token', type: 'status', status: 500, count: 1 });
    await credentials();
    await fetch(`${url}/api/token`);
    expect(await control(url, 'GET', '/stats')).toEqual({
      status: 200,
      body: {
        requests: { 'GET /authorize': 2, 'POST /api/token': 4, 'GET /api/token': 1 },
        grants: { authorization_code: 1, refresh_token: 1, client_credentials: 1 },
      },
    });
    expect(emulator.stats().requests['POST /api/token']).toBe(4);
  });

  test('clock: advance moves now; invalid input → 400', async () => {
    expect((await control(url, 'POST', '/clock', { advance: 10 })).body).toEqual({
      now: T0 + 10_000,
    });
    expect(emulator.now()).toBe(T0 + 10_000);
    expect((await control(url, 'POST', '/clock', { advance: -1 })).status).toBe(400);
    expect((await control(url, 'POST', '/clock', { advance: '5' })).status).toBe(400);
    expect((await control(url, 'POST', '/revoke', {})).status).toBe(400);
  });

  test('reset forgets tokens, codes, counters, faults and the clock advance', async () => {
    const code = await codeFor(url);
    const { refresh_token } = (await exchange(url, await codeFor(url))).body;
    emulator.setFault({ endpoint: '/authorize', type: 'status', status: 500 });
    emulator.advanceClock(100);
    expect(await control(url, 'POST', '/reset')).toEqual({ status: 200, body: { reset: true } });
    expect(emulator.now()).toBe(T0);
    expect((await control(url, 'GET', '/faults')).body).toEqual({ faults: [] });
    expect((await control(url, 'GET', '/stats')).body).toEqual({
      requests: {},
      grants: { authorization_code: 0, refresh_token: 0, client_credentials: 0 },
    });
    expect((await exchange(url, code)).body.error_description).toBe('Invalid authorization code');
    const answer = await token(
      url,
      { grant_type: 'refresh_token', refresh_token: String(refresh_token) },
      { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
    );
    expect(answer.body.error_description).toBe('Invalid refresh token');
  });

  test('an unknown control endpoint → 404 JSON', async () => {
    expect((await control(url, 'GET', '/nope')).status).toBe(404);
  });
});

test('close() ends keep-alive connections promptly', async () => {
  const other = createEmulator();
  const running = await other.listen();
  await fetch(`${running.url}/__emulator/stats`, { headers: { Connection: 'keep-alive' } });
  const started = performance.now();
  await running.close();
  expect(performance.now() - started).toBeLessThan(1000);
  await expect(fetch(`${running.url}/__emulator/stats`)).rejects.toBeInstanceOf(TypeError);
});
