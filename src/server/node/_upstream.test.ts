import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { refreshTokenGrant, resolveClientConfig } from '../../core/grants.js';
import { HTTPError, InvalidResponseError } from '../../core/index.js';
import { SELF_TIMED, sendRequest, type WholeAnswer } from '../../core/internal.js';
import {
  type CurrentDispatchHandler,
  createNodeUpstream,
  type NodeUpstream,
  WholeAnswerHandler,
} from './_upstream.js';

const servers: Server[] = [];
const clients: NodeUpstream[] = [];

async function listen(
  handler: (
    request: IncomingMessage,
    body: string,
    respond: (status: number, text: string, headers?: Record<string, string>) => void,
  ) => void,
): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () =>
      handler(request, body, (status, text, headers = {}) => {
        response.writeHead(status, headers);
        response.end(text);
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(): NodeUpstream {
  const created = createNodeUpstream();
  clients.push(created);
  return created;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

describe('createNodeUpstream', () => {
  it('sends method, headers and body; answers status, headers and body; reuses the connection', async () => {
    const ports: number[] = [];
    const url = await listen((request, body, respond) => {
      ports.push(request.socket.remotePort as number);
      respond(
        201,
        JSON.stringify({
          method: request.method,
          type: request.headers['content-type'],
          length: request.headers['content-length'],
          body,
        }),
        {
          'content-type': 'application/json',
          'x-twice': 'a',
        },
      );
    });
    const { fetch } = client();
    for (const body of ['a=1&b=2', new URLSearchParams({ a: '1', b: '2' })]) {
      const response = await fetch(`${url}/api/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-twice')).toBe('a');
      expect(await response.json()).toEqual({
        method: 'POST',
        type: 'application/x-www-form-urlencoded',
        length: '7',
        body: 'a=1&b=2',
      });
    }
    for (let i = 0; i < 8; i++) {
      await (await fetch(`${url}/api/token`, { method: 'POST', body: 'a=1&b=2' })).text();
    }
    expect(ports).toHaveLength(10);
    // Keep-alive: ten requests one after the other share one or two connections (a
    // connection is free again a moment after its answer ends).
    expect(new Set(ports).size).toBeLessThanOrEqual(2);
  });

  it('answers a Response that behaves as one: headers, body forms, clone, single use', async () => {
    const url = await listen(() => {
      // replaced below by a handler that writes raw header pairs
    });
    // A raw answer: repeated and mixed-case headers, exactly as sent.
    const server = servers[0] as Server;
    server.removeAllListeners('request');
    server.on('request', (_request, response) => {
      response.writeHead(200, 'Fine', [
        ['X-Twice', 'a'],
        ['x-twice', 'b'],
        ['Content-Type', 'application/json'],
        ['Set-Cookie', 'k=1'],
      ]);
      response.end('{"ok":true}');
    });
    const { fetch } = client();
    const response = await fetch(url, { method: 'GET' });
    expect(response).toBeInstanceOf(Response);
    expect(response.headers).toBeInstanceOf(Headers);
    expect([response.status, response.statusText, response.ok]).toEqual([200, 'Fine', true]);
    expect(response.headers.get('x-twice')).toBe('a, b');
    expect(response.headers.get('X-TWICE')).toBe('a, b');
    expect(response.headers.has('content-type')).toBe(true);
    expect(response.headers.has('content-encoding')).toBe(false);
    expect(response.headers.getSetCookie()).toEqual(['k=1']);
    expect([...response.headers.keys()]).toContain('x-twice');
    response.headers.set('x-twice', 'c');
    expect(response.headers.get('x-twice')).toBe('c');
    const copy = response.clone();
    expect(await copy.text()).toBe('{"ok":true}');
    expect(response.bodyUsed).toBe(false);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    const streamed = await fetch(url, { method: 'GET' });
    const reader = (streamed.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('{"ok":true}');
    expect((await reader.read()).done).toBe(true);
  });

  it('bounds the whole exchange itself when given a deadline (core skips its own timer)', async () => {
    const url = await listen(() => {
      // never answers
    });
    const upstream = client();
    expect((upstream.fetch as unknown as Record<symbol, unknown>)[SELF_TIMED]).toBe(true);
    const timed = upstream.fetch as (
      input: string,
      init: RequestInit,
      timeout: number,
    ) => Promise<Response>;
    const started = Date.now();
    const error = await timed(url, { method: 'POST', body: 'x' }, 50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2_000);
    // Through core: a TimeoutError, also when a caller signal takes core's own deadline path.
    const config = resolveClientConfig({
      clientId: 'id',
      clientSecret: 'secret',
      accountsUrl: url,
      fetch: upstream.fetch,
      timeout: 60,
    });
    await expect(refreshTokenGrant(config, { refreshToken: 'RT' })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    await expect(
      refreshTokenGrant(config, { refreshToken: 'RT', signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('answers a bodiless status with a null body', async () => {
    const url = await listen((_request, _body, respond) => respond(204, ''));
    const response = await client().fetch(url, { method: 'POST', body: 'x' });
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('rejects with the signal’s reason when aborted, and with the socket error code when refused', async () => {
    const url = await listen(() => {
      // never answers
    });
    const controller = new AbortController();
    const pending = client().fetch(url, { method: 'POST', body: 'x', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(pending).rejects.toThrow('stop');
    const closed = await listen(() => {});
    const port = new URL(closed).port;
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    await expect(
      client().fetch(`http://127.0.0.1:${port}/`, { method: 'GET' }),
    ).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('serves the grant functions: a refresh through it, timeouts included', async () => {
    const url = await listen((request, body, respond) => {
      expect(request.headers.authorization).toMatch(/^Basic /);
      if (new URLSearchParams(body).get('refresh_token') === 'slow') return;
      respond(
        200,
        JSON.stringify({
          access_token: 'AT',
          token_type: 'Bearer',
          expires_in: 3600,
          scope: 'a b',
        }),
        { 'content-type': 'application/json' },
      );
    });
    const config = resolveClientConfig({
      clientId: 'id',
      clientSecret: 'secret',
      accountsUrl: url,
      fetch: client().fetch,
      timeout: 200,
    });
    await expect(refreshTokenGrant(config, { refreshToken: 'RT' })).resolves.toMatchObject({
      accessToken: 'AT',
      expiresIn: 3600,
      scope: 'a b',
    });
    await expect(refreshTokenGrant(config, { refreshToken: 'slow' })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
  });

  it('answers real Responses and real errors: no stand-in objects', async () => {
    const url = await listen((_request, _body, respond) =>
      respond(503, '{"error":"down"}', { 'content-type': 'application/json', 'x-id': '7' }),
    );
    const { fetch } = client();
    // Response's own getters check that they run on a Response the platform built.
    const status = Object.getOwnPropertyDescriptor(Response.prototype, 'status')?.get;
    const response = await fetch(url, { method: 'POST', body: 'x' });
    expect(status?.call(response)).toBe(503);
    expect(await Response.prototype.text.call(response)).toBe('{"error":"down"}');
    // Through core's self-timed path: the error's response is a Response too.
    const error = await sendRequest(url, { method: 'POST', body: 'x' }, { fetch, timeout: 1000 })
      .then((answer) => {
        expect(answer.text).toBe('{"error":"down"}');
        return new HTTPError({
          status: answer.status,
          headers: answer.headers,
          body: answer.text,
          response: answer.response,
        });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HTTPError);
    const kept = (error as HTTPError).response as Response;
    expect(status?.call(kept)).toBe(503);
    expect(kept.headers.get('x-id')).toBe('7');
  });

  it('reads no more than the caller takes, and core refuses the longer answer', async () => {
    const big = 'x'.repeat(256 * 1024);
    const url = await listen((_request, _body, respond) =>
      respond(200, big, { 'content-type': 'text/plain' }),
    );
    const upstream = client();
    const answer = await upstream.fetch(url, { method: 'GET' }, 1000, 1000);
    expect(answer.body.byteLength).toBeGreaterThan(1000);
    expect(answer.body.byteLength).toBeLessThan(big.length);
    await expect(
      sendRequest(
        url,
        { method: 'GET' },
        { fetch: upstream.fetch, timeout: 1000, maxBodyBytes: 1000 },
      ),
    ).rejects.toBeInstanceOf(InvalidResponseError);
    const whole = await sendRequest(
      url,
      { method: 'GET' },
      { fetch: upstream.fetch, timeout: 1000, maxBodyBytes: big.length },
    );
    expect(whole.text).toBe(big);
  });
});

describe("WholeAnswerHandler on undici's dispatcher", () => {
  it("implements undici's current handler interface (a type error if undici changes it)", () => {
    expectTypeOf<WholeAnswerHandler>().toExtend<CurrentDispatchHandler>();
    expectTypeOf<WholeAnswerHandler>().toExtend<Dispatcher.DispatchHandler>();
    // None of the handler methods undici 8 removed (onConnect, onHeaders, onData, …).
    expectTypeOf<WholeAnswerHandler>().not.toHaveProperty('onHeaders');
    expectTypeOf<WholeAnswerHandler>().not.toHaveProperty('onConnect');
  });

  it('is called by undici through that interface, in order, with a controller', async () => {
    const url = await listen((_request, _body, respond) => respond(200, 'hello', { 'x-a': 'b' }));
    const calls: string[] = [];
    const controllers = new Set<unknown>();
    class Recording extends WholeAnswerHandler {
      override onRequestStart(controller: Dispatcher.DispatchController): void {
        calls.push('onRequestStart');
        controllers.add(controller);
        super.onRequestStart(controller);
      }
      override onResponseStart(
        controller: Dispatcher.DispatchController,
        ...rest: [number, Record<string, string | string[] | undefined>, string?]
      ): void {
        calls.push('onResponseStart');
        controllers.add(controller);
        super.onResponseStart(controller, ...rest);
      }
      override onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
        if (calls.at(-1) !== 'onResponseData') calls.push('onResponseData');
        super.onResponseData(controller, chunk);
      }
      override onResponseEnd(): void {
        calls.push('onResponseEnd');
        super.onResponseEnd();
      }
    }
    const agent = new Agent();
    try {
      const answer = await new Promise<WholeAnswer | undefined>((resolve, reject) => {
        const handler = new Recording(1024, (error, settled) =>
          settled ? resolve(settled) : reject(error),
        );
        const { origin } = new URL(url);
        agent.dispatch({ origin, path: '/', method: 'GET' }, handler);
      });
      expect(calls).toEqual([
        'onRequestStart',
        'onResponseStart',
        'onResponseData',
        'onResponseEnd',
      ]);
      expect(controllers.size).toBe(1);
      const [controller] = controllers as Set<Dispatcher.DispatchController>;
      expect(typeof controller?.abort).toBe('function');
      expect(answer?.response.status).toBe(200);
      expect(answer?.response.headers.get('x-a')).toBe('b');
      expect(new TextDecoder().decode(answer?.body)).toBe('hello');
    } finally {
      await agent.close();
    }
  });

  it('stops an exchange before and after it reaches a connection, settling once', async () => {
    const url = await listen(() => {
      // never answers
    });
    const agent = new Agent();
    const { origin } = new URL(url);
    try {
      for (const when of ['before', 'after'] as const) {
        const settled: unknown[] = [];
        const handler = new WholeAnswerHandler(1024, (error) => settled.push(error));
        const reason = new Error(`stopped ${when}`);
        if (when === 'before') handler.stop(reason);
        agent.dispatch({ origin, path: '/', method: 'GET' }, handler);
        if (when === 'after') {
          await new Promise((resolve) => setTimeout(resolve, 50));
          handler.stop(reason);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(settled).toEqual([reason]);
      }
    } finally {
      await agent.destroy();
    }
  });
});
