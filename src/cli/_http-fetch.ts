/**
 * The `fetch` of the CLI's Web API calls (`api`, `whoami`): one exchange on Node's own
 * `node:http`/`node:https` client, read whole. On Node 20 the first call of the global
 * `fetch` loads undici, its WebAssembly HTTP parser, `node:http2` and web streams: more
 * start-up time than the rest of `api GET /me` together (docs/benchmarks.md, "CLI cold
 * start"). The token endpoint is left to the global `fetch` (a refresh is the rare case).
 *
 * It is a {@link SelfTimedFetch}: core's `sendRequest` hands it the deadline and the size
 * bound and takes the bytes. Redirects are never followed, and the answer's `Response` is a
 * bodiless stand-in with the status and the headers (a real `Response` or `Headers` would
 * load undici again). A plain `fetch(input, init)` call (what the Web API client makes, under
 * core's own deadline) is served the same way, its answer read whole and handed back as a
 * `Response` over that buffer. It sends string, `URLSearchParams` and byte bodies (the Web
 * API client sends JSON text).
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import {
  MAX_TIMER_MS,
  SELF_TIMED,
  type SelfTimedFetch,
  type WholeAnswer,
} from '../core/internal.js';
import { bodyOf, headerRecord } from '../node/internal.js';

/** Most bytes kept when the caller names no bound (core always names one). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** The read side of `Headers` over Node's parsed headers (names already lower-case). */
class AnswerHeaders {
  readonly #headers: IncomingHttpHeaders;

  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers;
  }

  get(name: string): string | null {
    const value = this.#headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.#headers[name.toLowerCase()] !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#headers).sort()) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void): void {
    for (const [name, value] of this.entries()) callback(value, name, this as unknown as Headers);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** What the library reads of a bodiless `Response`: status, text, type and headers. */
function bodilessResponse(url: string, answer: IncomingMessage): Response {
  const status = answer.statusCode as number;
  return {
    status,
    statusText: answer.statusMessage ?? '',
    ok: status >= 200 && status < 300,
    redirected: false,
    type: 'basic',
    url,
    headers: new AnswerHeaders(answer.headers),
    body: null,
    bodyUsed: false,
  } as unknown as Response;
}

/** The request headers and body as `node:http` takes them, with what `fetch` adds when absent. */
function requestOf(init: RequestInit): {
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
} {
  const body = bodyOf(init.body);
  const headers = headerRecord(init.headers);
  headers.accept ??= '*/*';
  if (init.body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
  } else if (typeof body === 'string') {
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  }
  // The body is taken as it comes: no content coding to undo.
  headers['accept-encoding'] = 'identity';
  return { headers, body };
}

async function exchange(
  input: string,
  init: RequestInit,
  timeout: number,
  maxBodyBytes: number,
): Promise<WholeAnswer> {
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`unsupported protocol ${url.protocol}`);
  }
  const prepared = requestOf(init);
  const { request } =
    url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  return new Promise<WholeAnswer>((resolve, reject) => {
    // One connection, closed after the answer: nothing keeps the process alive after it.
    const options: RequestOptions = {
      method: init.method ?? 'GET',
      headers: prepared.headers,
      agent: false,
    };
    const outgoing = request(url, options);
    let settled = false;
    const settle = (error: unknown, answer?: WholeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (answer === undefined) {
        reject(error);
        outgoing.destroy();
      } else resolve(answer);
    };
    const timer = setTimeout(
      () => settle(new DOMException('The operation timed out.', 'TimeoutError')),
      timeout,
    );
    const onAbort = () => settle(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error) => settle(error));
    outgoing.on('response', (answer) => {
      const status = answer.statusCode ?? 0;
      if (status < 200 || status > 599) {
        settle(new RangeError(`the answer's status ${status} is not in 200–599`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => {
        const body = Buffer.concat(chunks, size);
        settle(undefined, { response: bodilessResponse(input, answer), body });
      };
      answer.on('data', (chunk: Buffer) => {
        if (settled) return;
        chunks.push(chunk);
        size += chunk.length;
        // Longer than the caller reads: keep what came (the caller refuses it), stop.
        if (size > maxBodyBytes) {
          finish();
          outgoing.destroy();
        }
      });
      answer.on('end', finish);
      answer.on('error', (error) => settle(error));
      // A connection that closed before the whole body came: the answer broke off.
      answer.on('close', () => {
        if (!answer.complete)
          settle(new Error('the connection closed before the answer was whole'));
      });
    });
    outgoing.end(prepared.body);
  });
}

/**
 * Most bytes a plain call reads: the Web API client's own bound (16 MiB). A longer answer
 * fails its body read, never comes back cut short.
 */
const MAX_PLAIN_BYTES = 16 * 1024 * 1024;

/**
 * A plain `fetch` call (what core's `sendWebRequest` makes), still on `node:http`: the
 * caller's signal ends it, and the answer is read whole before it is handed back as a
 * `Response` that reads that one buffer (a web `Response` would load undici).
 */
async function plainFetch(input: string, init: RequestInit): Promise<Response> {
  // The caller's own deadline ends the exchange through `init.signal`.
  const { response, body } = await exchange(input, init, MAX_TIMER_MS, MAX_PLAIN_BYTES);
  const bytes = async (): Promise<Uint8Array> => {
    if (body.byteLength > MAX_PLAIN_BYTES) {
      throw new RangeError(`the answer is longer than ${MAX_PLAIN_BYTES} bytes`);
    }
    return body;
  };
  let read = false;
  const reader = {
    read: async () => {
      if (read) return { done: true as const, value: undefined };
      read = true;
      return { done: false as const, value: await bytes() };
    },
    cancel: async () => {},
    releaseLock: () => {},
  };
  return Object.assign(response, {
    arrayBuffer: async () => {
      const view = await bytes();
      return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
    },
    text: async () => new TextDecoder().decode(await bytes()),
    json: async () => JSON.parse(new TextDecoder().decode(await bytes())) as unknown,
    body: body.byteLength === 0 ? null : { getReader: () => reader, cancel: async () => {} },
  });
}

function httpFetch(input: string, init: RequestInit): Promise<Response>;
function httpFetch(
  input: string,
  init: RequestInit,
  timeout: number,
  maxBodyBytes?: number,
): Promise<WholeAnswer>;
function httpFetch(
  input: string,
  init: RequestInit,
  timeout?: number,
  maxBodyBytes?: number,
): Promise<Response | WholeAnswer> {
  if (timeout === undefined) return plainFetch(input, init);
  return exchange(input, init, timeout, maxBodyBytes ?? MAX_BUFFERED_BYTES);
}

/** The CLI's Web API `fetch` (see the top of this file). */
export const cliFetch: SelfTimedFetch = Object.assign(httpFetch, { [SELF_TIMED]: true as const });
