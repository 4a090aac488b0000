// biome-ignore lint/correctness/noNodejsModules: the test needs a real HTTP server; it runs on Node only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abortableSleep,
  base64urlDecode,
  base64urlEncode,
  errorFromResponse,
  isRedirect,
  parseJson,
  parseRetryAfter,
  SELF_TIMED,
  type SelfTimedFetch,
  sendRequest,
  type WholeAnswer,
} from './_http.js';
import {
  AbortedError,
  HTTPError,
  InvalidArgumentError,
  InvalidResponseError,
  NetworkError,
  RateLimitError,
  TimeoutError,
} from './errors/index.js';

const NOW = Date.UTC(2026, 10, 22, 4, 0, 0);

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let base: string;
const routes = new Map<string, Handler>();

beforeAll(async () => {
  server = createServer((request, response) => {
    const handler = routes.get(new URL(request.url ?? '/', 'http://x').pathname);
    if (handler === undefined) {
      response.writeHead(404).end();
      return;
    }
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  routes.set('/json', (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  routes.set('/echo', (request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      response.writeHead(200).end(`${request.method} ${request.headers['x-test']} ${body}`);
    });
  });
  routes.set('/empty', (_request, response) => {
    response.writeHead(204).end();
  });
  routes.set('/chunks', (_request, response) => {
    // Several chunks (chunked encoding): the reader must join them.
    response.writeHead(200);
    let sent = 0;
    const send = () => {
      response.write('x'.repeat(1000));
      sent += 1;
      if (sent === 5) response.end('é');
      else setTimeout(send, 2);
    };
    send();
  });
  routes.set('/drip', (_request, response) => {
    // Headers at once, then one byte every 50 ms: only a deadline over the body catches it.
    response.writeHead(200, { 'content-type': 'application/json' });
    response.flushHeaders();
    const timer = setInterval(() => response.write(' '), 50);
    response.on('close', () => clearInterval(timer));
  });
  routes.set('/drip-declared', (_request, response) => {
    // The same with a declared length (the one-call read path).
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    response.flushHeaders();
    const timer = setInterval(() => response.write(' '), 50);
    response.on('close', () => clearInterval(timer));
  });
  routes.set('/hang', () => {
    // Never answers.
  });
  routes.set('/big-declared', (_request, response) => {
    response.writeHead(200, { 'content-length': String(70_000) }).end('y'.repeat(70_000));
  });
  routes.set('/big-chunked', (_request, response) => {
    response.writeHead(200);
    for (let index = 0; index < 70; index += 1) response.write('z'.repeat(1000));
    response.end();
  });
  routes.set('/limited', (_request, response) => {
    response
      .writeHead(429, { 'retry-after': '17', 'content-type': 'application/json' })
      .end('{"error":{"status":429,"message":"API rate limit exceeded"}}');
  });
  routes.set('/down', (_request, response) => {
    response.writeHead(503, { 'x-request-id': 'r1' }).end('upstream down');
  });
  routes.set('/reset', (request) => {
    request.socket.destroy();
  });
  routes.set('/moved', (_request, response) => {
    response.writeHead(302, { location: '/echo?secret=1' }).end();
  });
  routes.set('/away', (_request, response) => {
    response.writeHead(307, { location: `${elsewhere}/echo` }).end();
  });
});

/** A second origin that must never see a request. */
let elsewhere = '';
const elsewhereSeen: string[] = [];
let elsewhereServer: Server;
beforeAll(async () => {
  elsewhereServer = createServer((request, response) => {
    elsewhereSeen.push(`${request.method} ${request.url}`);
    response.writeHead(200).end('{"access_token":"from-elsewhere"}');
  });
  await new Promise<void>((resolve) => elsewhereServer.listen(0, '127.0.0.1', resolve));
  elsewhere = `http://127.0.0.1:${(elsewhereServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  elsewhereServer.closeAllConnections();
  await new Promise((resolve) => elsewhereServer.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = { fetch: (input: string, init: RequestInit) => fetch(input, init), timeout: 2000 };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('sendRequest', () => {
  it('returns status, headers and the whole body text', async () => {
    const answer = await sendRequest(`${base}/json`, {}, options);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.text).toBe('{"ok":true}');
    expect(answer.response).toBeInstanceOf(Response);
    expect(answer.response.bodyUsed).toBe(true);
  });

  it('passes method, headers and body through', async () => {
    const answer = await sendRequest(
      `${base}/echo`,
      { method: 'POST', headers: { 'x-test': 'yes' }, body: 'a=1' },
      options,
    );
    expect(answer.text).toBe('POST yes a=1');
  });

  it('reads an empty body as "" and joins a chunked body', async () => {
    expect((await sendRequest(`${base}/empty`, {}, options)).text).toBe('');
    const chunked = await sendRequest(`${base}/chunks`, {}, options);
    expect(chunked.text).toBe(`${'x'.repeat(5000)}é`);
  });

  it('never throws for an HTTP status', async () => {
    const answer = await sendRequest(`${base}/down`, {}, options);
    expect(answer.status).toBe(503);
    expect(answer.text).toBe('upstream down');
  });

  it('times out while the body is still dripping after the headers', async () => {
    const started = performance.now();
    const error = await rejection(sendRequest(`${base}/drip`, {}, { ...options, timeout: 300 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'TIMEOUT', timeout: 300 });
    // Loose: the point is that it ended near the deadline, not after the drip.
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('times out while a body of declared length is still dripping', async () => {
    const error = await rejection(
      sendRequest(`${base}/drip-declared`, {}, { ...options, timeout: 300 }),
    );
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it('reads a body of declared length whole, and refuses a lying one over the bound', async () => {
    const declared = await sendRequest(`${base}/json`, {}, options);
    expect(declared.text).toBe('{"ok":true}');
    const lying = await rejection(
      sendRequest(
        `${base}/json`,
        {},
        {
          ...options,
          maxBodyBytes: 10,
          fetch: async () => new Response('x'.repeat(100), { headers: { 'content-length': '5' } }),
        },
      ),
    );
    expect(lying).toBeInstanceOf(InvalidResponseError);
  });

  it('times out when no headers come', async () => {
    const error = await rejection(sendRequest(`${base}/hang`, {}, { ...options, timeout: 100 }));
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it('times out even when the fetch implementation ignores its signal', async () => {
    const deaf = () => new Promise<Response>(() => {});
    const error = await rejection(sendRequest(`${base}/json`, {}, { fetch: deaf, timeout: 50 }));
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it('refuses a body over the bound, declared or chunked', async () => {
    for (const path of ['/big-declared', '/big-chunked']) {
      const error = await rejection(sendRequest(`${base}${path}`, {}, options));
      expect(error).toBeInstanceOf(InvalidResponseError);
      expect(error).toMatchObject({ status: 200 });
      expect((error as Error).message).toContain('65536');
    }
    const small = await rejection(sendRequest(`${base}/json`, {}, { ...options, maxBodyBytes: 5 }));
    expect(small).toBeInstanceOf(InvalidResponseError);
  });

  it('rejects with AbortedError when the caller aborts, before or during the exchange', async () => {
    const before = await rejection(
      sendRequest(`${base}/json`, {}, { ...options, signal: AbortSignal.abort('early') }),
    );
    expect(before).toBeInstanceOf(AbortedError);
    expect((before as Error).cause).toBe('early');

    const controller = new AbortController();
    const pending = sendRequest(`${base}/drip`, {}, { ...options, signal: controller.signal });
    setTimeout(() => controller.abort('stop'), 100);
    const during = await rejection(pending);
    expect(during).toBeInstanceOf(AbortedError);
    expect((during as Error).cause).toBe('stop');

    const headers = new AbortController();
    const waiting = sendRequest(`${base}/hang`, {}, { ...options, signal: headers.signal });
    setTimeout(() => headers.abort(), 50);
    expect(await rejection(waiting)).toBeInstanceOf(AbortedError);
  });

  it('maps a refused connection to NetworkError naming the reason', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(sendRequest(`http://127.0.0.1:${port}/`, {}, options));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).toContain(`http://127.0.0.1:${port}`);
  });

  it('maps a connection reset to NetworkError', async () => {
    expect(await rejection(sendRequest(`${base}/reset`, {}, options))).toBeInstanceOf(NetworkError);
  });

  it('maps a body that breaks off to NetworkError', async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a"'));
        controller.error(new Error('socket hang up'));
      },
    });
    const error = await rejection(
      sendRequest(`${base}/json`, {}, { ...options, fetch: async () => new Response(broken) }),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain('broke off');
  });

  it('leaves no timer behind (the process can exit)', async () => {
    // A finished request must not keep the deadline timer: fake timers show pending ones.
    const { vi } = await import('vitest');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await sendRequest(`${base}/json`, {}, { ...options, fetch: async () => new Response('x') });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 30 ', NOW)).toBe(30);
    expect(parseRetryAfter('86400', NOW)).toBe(86_400);
  });

  it('reads an HTTP-date relative to the clock, never negative', () => {
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90);
    expect(parseRetryAfter(new Date(NOW + 1_500).toUTCString(), NOW)).toBe(1);
    expect(parseRetryAfter(new Date(NOW - 60_000).toUTCString(), NOW)).toBe(0);
  });

  it('caps huge values', () => {
    expect(parseRetryAfter('86401', NOW)).toBe(86_400);
    expect(parseRetryAfter('9'.repeat(40), NOW)).toBe(86_400);
    expect(parseRetryAfter('120', NOW, 60)).toBe(60);
    expect(parseRetryAfter(new Date(NOW + 10 * 86_400_000).toUTCString(), NOW)).toBe(86_400);
  });

  it('gives undefined for absent or unreadable values', () => {
    for (const value of [
      null,
      undefined,
      '',
      'soon',
      '-5',
      '1.5',
      '1e+23',
      '0x10',
      'Infinity',
      '2026-11-22',
      'Sun, 99 Foo GMT',
      'Sun, 22 Nov 2026 04:00:00',
    ]) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });

  it('always yields an integer within [0, cap] or undefined', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 10_000_000 }), (value, cap) => {
        const seconds = parseRetryAfter(value, NOW, cap);
        return (
          seconds === undefined || (Number.isInteger(seconds) && seconds >= 0 && seconds <= cap)
        );
      }),
    );
  });
});

describe('parseJson', () => {
  it('parses or gives undefined', () => {
    expect(parseJson('{"a":1}')).toEqual({ a: 1 });
    expect(parseJson('nope')).toBeUndefined();
    expect(parseJson('')).toBeUndefined();
  });
});

describe('redirects', () => {
  it('are never followed, same origin or not, whatever init asks', async () => {
    const echoed = await sendRequest(`${base}/echo`, { method: 'POST', body: 'x' }, options);
    expect(echoed.text).toBe('POST undefined x');
    const moved = await sendRequest(`${base}/moved`, { redirect: 'follow' }, options);
    expect(moved.status).toBe(302);
    expect(isRedirect(moved.response)).toBe(true);
    const away = await sendRequest(
      `${base}/away`,
      { method: 'POST', body: 'grant_type=refresh_token&refresh_token=R' },
      options,
    );
    expect(away.status).toBe(307);
    expect(elsewhereSeen).toEqual([]);
  });

  it('become an HTTPError that says so and names accountsUrl, without the target’s query', async () => {
    const answer = await sendRequest(`${base}/moved`, {}, options);
    const error = errorFromResponse(answer, NOW) as HTTPError;
    expect(error).toBeInstanceOf(HTTPError);
    expect(error.status).toBe(302);
    expect(error.message).toMatch(
      /never redirects, so the redirect to \/echo was not followed.*accountsUrl/,
    );
    expect(error.message).not.toMatch(/secret/);
  });

  it('304 Not Modified is not one', () => {
    expect(isRedirect(new Response(null, { status: 304 }))).toBe(false);
    expect(isRedirect(new Response(null, { status: 308 }))).toBe(true);
  });
});

describe('errorFromResponse', () => {
  it('maps 429 to RateLimitError with status, capped Retry-After and headers', async () => {
    const answer = await sendRequest(`${base}/limited`, {}, options);
    const error = errorFromResponse(answer, NOW);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfter: 17, code: 'RATE_LIMITED' });
    expect((error as RateLimitError).headers.get('retry-after')).toBe('17');
  });

  it('maps other statuses to HTTPError with headers, body and a hidden response', async () => {
    const answer = await sendRequest(`${base}/down`, {}, options);
    const error = errorFromResponse(answer, NOW) as HTTPError;
    expect(error).toBeInstanceOf(HTTPError);
    expect(error).toMatchObject({ status: 503, body: 'upstream down', code: 'HTTP_ERROR' });
    expect(error.headers.get('x-request-id')).toBe('r1');
    expect(error.response).toBe(answer.response);
    expect(Object.keys(error)).not.toContain('response');
    expect(JSON.stringify(error)).not.toContain('bodyUsed');
  });

  it('parses a JSON body and puts Spotify’s message in the error message', () => {
    const response = new Response(null, { status: 404 });
    const error = errorFromResponse(
      {
        status: 404,
        headers: response.headers,
        text: '{"error":{"status":404,"message":"Non existing id"}}',
        response,
      },
      NOW,
    ) as HTTPError;
    expect(error.body).toEqual({ error: { status: 404, message: 'Non existing id' } });
    expect(error.message).toBe('Spotify answered HTTP 404: Non existing id');
  });

  it('cuts a long text body to 1 KiB', () => {
    const response = new Response(null, { status: 500 });
    const error = errorFromResponse(
      { status: 500, headers: response.headers, text: 'e'.repeat(5000), response },
      NOW,
    ) as HTTPError;
    expect(error.body).toBe('e'.repeat(1024));
  });
});

describe('abortableSleep', () => {
  it('resolves after the delay', async () => {
    const started = performance.now();
    await abortableSleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rejects with AbortedError on abort, before or during', async () => {
    await expect(abortableSleep(10, AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort('bye');
    const error = await rejection(sleeping);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe('bye');
  });
});

describe('base64url', () => {
  it('round-trips any bytes, without padding or +/ characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = base64urlEncode(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(base64urlDecode(text)).toEqual(bytes);
      }),
    );
  });

  it('matches RFC 4648 test vectors', () => {
    const encode = (text: string) => base64urlEncode(new TextEncoder().encode(text));
    expect(encode('')).toBe('');
    expect(encode('f')).toBe('Zg');
    expect(encode('fo')).toBe('Zm8');
    expect(encode('foobar')).toBe('Zm9vYmFy');
    expect(base64urlEncode(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });

  it('encodes large inputs', () => {
    expect(base64urlEncode(new Uint8Array(200_000))).toHaveLength(266_667);
  });

  it('decodes every text exactly one way: canonical text round-trips, anything else throws', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ é';
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 40 }), (text) => {
        let bytes: Uint8Array;
        try {
          bytes = base64urlDecode(text);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
          return;
        }
        expect(base64urlEncode(bytes)).toBe(text);
        // The platform's decoder agrees (atob reads standard base64).
        const standard = text.replace(/-/g, '+').replace(/_/g, '/');
        expect(bytes).toEqual(Uint8Array.from(atob(standard), (c) => c.charCodeAt(0)));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses non-base64url text', () => {
    for (const text of ['Zg==', 'Z+8', 'Z/8', 'Z g', 'Z', 'Zh', 'Zm9', 'é']) {
      expect(() => base64urlDecode(text)).toThrow(InvalidArgumentError);
    }
  });
});

describe('sendRequest with a self-timed fetch', () => {
  /** A SelfTimedFetch answering `answer` (or failing with it) on the deadline path only. */
  function selfTimed(answer: () => Promise<WholeAnswer>, seen: unknown[][] = []): SelfTimedFetch {
    const fetch = (...args: unknown[]) => {
      seen.push(args);
      if (args.length < 3) throw new Error('the plain path must not be taken');
      return answer();
    };
    return Object.assign(fetch as SelfTimedFetch, { [SELF_TIMED]: true as const });
  }
  const response = new Response(null, { status: 200, headers: { 'x-id': '1' } });

  it('passes its deadline and size bound, and takes the bytes beside the bodiless Response', async () => {
    const seen: unknown[][] = [];
    const fetch = selfTimed(
      async () => ({ response, body: new TextEncoder().encode('{"a":"é"}') }),
      seen,
    );
    const answer = await sendRequest(
      'https://x.test/t',
      { method: 'POST' },
      {
        fetch,
        timeout: 1234,
        maxBodyBytes: 100,
      },
    );
    expect(seen).toEqual([['https://x.test/t', { method: 'POST', redirect: 'manual' }, 1234, 100]]);
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"a":"é"}');
    expect(answer.headers.get('x-id')).toBe('1');
    expect(answer.response).toBe(response);
  });

  it('maps its failures as the deadline path does', async () => {
    const fail = (error: unknown) => selfTimed(() => Promise.reject(error));
    await expect(
      sendRequest(
        'https://x.test/t',
        {},
        {
          fetch: fail(new DOMException('The operation timed out.', 'TimeoutError')),
          timeout: 50,
        },
      ),
    ).rejects.toBeInstanceOf(TimeoutError);
    await expect(
      sendRequest(
        'https://x.test/t',
        {},
        {
          fetch: fail(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })),
          timeout: 50,
        },
      ),
    ).rejects.toThrow(new NetworkError('No answer from https://x.test (ECONNREFUSED)'));
    await expect(
      sendRequest(
        'https://x.test/t',
        {},
        {
          fetch: selfTimed(async () => ({ response, body: new Uint8Array(101) })),
          timeout: 50,
          maxBodyBytes: 100,
        },
      ),
    ).rejects.toBeInstanceOf(InvalidResponseError);
  });

  it('takes the plain path, with its own deadline, when the caller passes a signal', async () => {
    const seen: unknown[][] = [];
    const fetch = selfTimed(async () => ({ response, body: new Uint8Array(0) }), seen);
    await expect(
      sendRequest(
        'https://x.test/t',
        {},
        {
          fetch,
          timeout: 50,
          signal: new AbortController().signal,
        },
      ),
    ).rejects.toBeInstanceOf(NetworkError);
    expect(seen.map((args) => args.length)).toEqual([2]);
  });
});
