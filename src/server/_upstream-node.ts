/**
 * The token server's client for Spotify on Node: a `fetch`-shaped function straight on
 * undici's dispatcher (`Agent.dispatch`) with keep-alive connections. Under load it costs a
 * fraction of `fetch` per call (no web streams, no `Request`/`Response` construction) and
 * about half of `node:http`'s `ClientRequest` (see docs/benchmarks.md), and reuses a
 * handful of connections to the token endpoint. Node-only: the Node adapter injects it when
 * the options give no `fetch`; the neutral handler never imports this file.
 *
 * It does what the grant functions need of `fetch` and no more: a request with a string,
 * `URLSearchParams` or byte body, headers as an object, `Headers` or pairs, an
 * `AbortSignal`; the answer as a `Response` whose body is read whole first. Redirects are not
 * followed (the token endpoint has none to give).
 */
import { Agent, type Dispatcher } from 'undici';
import { type FetchLike, SELF_TIMED } from '../core/_http.js';

/** Most bytes of an answer kept; a longer one is cut here (the grant functions refuse it). */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Statuses whose `Response` must have no body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** Options of {@link createNodeUpstream}. */
export interface NodeUpstreamOptions {
  /**
   * Most connections open to one origin at a time.
   * @default 256
   */
  maxSockets?: number;
}

/** A keep-alive upstream client and the way to close its idle connections. */
export interface NodeUpstream {
  fetch: FetchLike;
  /** Closes idle keep-alive connections (in-flight requests finish). */
  close(): void;
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === undefined || headers === null) return record;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      record[name] = value;
    });
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers) record[String(name).toLowerCase()] = String(value);
  } else {
    for (const name of Object.keys(headers)) {
      const value = (headers as Record<string, string | undefined>)[name];
      if (value !== undefined) record[name.toLowerCase()] = value;
    }
  }
  return record;
}

function bodyOf(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('this upstream client sends string, URLSearchParams or byte bodies only');
}

/**
 * A `Headers` over Node's raw header pairs that answers `get` and `has` (all core's transport
 * asks of a successful answer) from the pairs, and converts them into a real header list
 * only when anything else is used.
 */
class RawHeaders extends Headers {
  #raw: string[] | undefined;

  constructor(raw: string[]) {
    super();
    this.#raw = raw;
  }

  /** Turns the pairs into the real header list (once). */
  static fill(headers: RawHeaders): void {
    headers.#fill();
  }

  #fill(): void {
    const raw = this.#raw;
    if (raw === undefined) return;
    this.#raw = undefined;
    for (let i = 0; i + 1 < raw.length; i += 2)
      super.append(raw[i] as string, raw[i + 1] as string);
  }

  override get(name: string): string | null {
    const raw = this.#raw;
    // Names of other shapes (odd case, invalid) take the standard path and its errors.
    if (raw === undefined || !/^[a-z-]+$/.test(name)) {
      this.#fill();
      return super.get(name);
    }
    let value: string | null = null;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if ((raw[i] as string).toLowerCase() === name) {
        // Node's parser has already trimmed the value, as Headers would.
        const item = raw[i + 1] as string;
        value = value === null ? item : `${value}, ${item}`;
      }
    }
    return value;
  }

  override has(name: string): boolean {
    return this.get(name) !== null;
  }
}
for (const method of [
  'append',
  'delete',
  'set',
  'getSetCookie',
  'forEach',
  'keys',
  'values',
  'entries',
  Symbol.iterator,
] as const) {
  const standard = Headers.prototype[method] as (...args: unknown[]) => unknown;
  Object.defineProperty(RawHeaders.prototype, method, {
    configurable: true,
    writable: true,
    value(this: RawHeaders, ...args: unknown[]) {
      RawHeaders.fill(this);
      return standard.apply(this, args);
    },
  });
}

/**
 * An answer read whole, built without running the `Response` constructor (undici's costs a
 * dozen microseconds of option and header conversion per call, which a token server pays on
 * every refresh): it has `Response`'s prototype, so `instanceof Response` holds, and
 * implements every member itself. Headers are converted on first use; `arrayBuffer()`,
 * `text()` and `json()` hand over the bytes already held; `body` still gives a
 * `ReadableStream` of them to code that asks for one.
 */
class BufferedResponse {
  readonly status: number;
  readonly statusText: string;
  readonly url = '';
  readonly redirected = false;
  readonly type = 'basic';
  #raw: string[];
  #headers: Headers | undefined;
  #bytes: Uint8Array | null;
  #used = false;
  #stream: ReadableStream<Uint8Array<ArrayBuffer>> | null | undefined;

  constructor(bytes: Uint8Array | null, status: number, statusText: string, raw: string[]) {
    this.status = status;
    this.statusText = statusText;
    this.#raw = raw;
    this.#bytes = bytes;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** Header pairs as sent (repeated headers stay repeated). */
  get headers(): Headers {
    this.#headers ??= new RawHeaders(this.#raw);
    return this.#headers;
  }

  #take(): Uint8Array {
    if (this.#used) throw new TypeError('Body is unusable: it has already been read');
    this.#used = true;
    const bytes = this.#bytes ?? new Uint8Array(0);
    this.#bytes = null;
    return bytes;
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    if (this.#stream === undefined) {
      const bytes = this.#bytes;
      this.#stream =
        bytes === null
          ? null
          : new ReadableStream<Uint8Array<ArrayBuffer>>({
              start: (controller) => {
                controller.enqueue(this.#take() as Uint8Array<ArrayBuffer>);
                controller.close();
              },
            });
    }
    return this.#stream;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    try {
      const bytes = this.#take();
      return Promise.resolve(new Uint8Array(bytes) as Uint8Array<ArrayBuffer>);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    try {
      const bytes = this.#take();
      return Promise.resolve(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  text(): Promise<string> {
    try {
      return Promise.resolve(decoder.decode(this.#take()));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  json(): Promise<unknown> {
    return this.text().then((text) => JSON.parse(text) as unknown);
  }

  blob(): Promise<Blob> {
    return this.arrayBuffer().then(
      (buffer) => new Blob([buffer], { type: this.headers.get('content-type') ?? '' }),
    );
  }

  formData(): Promise<FormData> {
    return Promise.reject(new TypeError('this upstream client does not parse form data'));
  }

  clone(): Response {
    if (this.#used) throw new TypeError('Body is unusable: it has already been read');
    const copy = new BufferedResponse(this.#bytes, this.status, this.statusText, this.#raw);
    return copy as unknown as Response;
  }
}
Object.setPrototypeOf(BufferedResponse.prototype, Response.prototype);

const decoder = new TextDecoder();

/** Header pairs as text (HTTP header bytes are Latin-1, as `Headers` reads them). */
function headerPairs(raw: readonly Buffer[]): string[] {
  const pairs = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) pairs[i] = (raw[i] as Buffer).toString('latin1');
  return pairs;
}

/**
 * The dispatcher's handler interface undici itself runs on (its `onRequestStart`-style
 * interface is an adapter over this one, at a cost per call that this client avoids).
 */
interface RawHandler {
  onConnect(abort: (reason?: Error) => void): void;
  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: Buffer[] | null): void;
  onError(error: Error): void;
}

/** Creates the keep-alive client. */
export function createNodeUpstream(options: NodeUpstreamOptions = {}): NodeUpstream {
  const agent = new Agent({
    connections: options.maxSockets ?? 256,
    // Close a connection idle this long (or less, when the server's Keep-Alive hint says
    // so), before a typical server closes it under a request being sent.
    keepAliveTimeout: 4_000,
    // The caller's deadline bounds the whole exchange (below): no second pair of timers.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  /** Parsed URLs: a token server calls one token endpoint. */
  const urls = new Map<string, URL>();

  // With `timeout` (core's sendRequest passes it, see SELF_TIMED), one timer bounds the
  // whole exchange here: no AbortController, signal listeners or promise races per call.
  const fetch = (input: string, init: RequestInit, timeout?: number) =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      let url = urls.get(input);
      let headers: Record<string, string>;
      let body: string | Uint8Array | undefined;
      try {
        if (url === undefined) {
          url = new URL(input);
          if (url.protocol !== 'http:' && url.protocol !== 'https:') {
            throw new TypeError(`unsupported protocol ${url.protocol}`);
          }
          if (urls.size < 16) urls.set(input, url);
        }
        headers = headerRecord(init.headers);
        body = bodyOf(init.body);
      } catch (error) {
        reject(error);
        return;
      }
      let settled = false;
      /** Set once the request is handed to a connection; until then, `stopped` says why not. */
      let abort: ((reason?: Error) => void) | undefined;
      let stopped: unknown;
      const stop = (reason: unknown) => {
        stopped = reason;
        abort?.(reason as Error);
        finish(reason);
      };
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(
              () => stop(new DOMException('The operation timed out.', 'TimeoutError')),
              timeout,
            );
      const onAbort = () => stop(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      function finish(error: unknown, response?: Response) {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (response !== undefined) resolve(response);
        else reject(error);
      }
      let status = 0;
      let statusText = '';
      let raw: string[] = [];
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        try {
          if (status < 200 || status > 599) {
            throw new RangeError(`the answer's status ${status} is not in 200–599`);
          }
          const bytes =
            NULL_BODY_STATUSES.has(status) || size === 0
              ? null
              : chunks.length === 1
                ? (chunks[0] as Buffer)
                : Buffer.concat(chunks, size);
          finish(
            undefined,
            new BufferedResponse(bytes, status, statusText, raw) as unknown as Response,
          );
        } catch (error) {
          finish(error);
        }
      };
      agent.dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: init.method ?? 'GET',
          headers,
          body: body ?? null,
        },
        {
          onConnect(abortRequest) {
            abort = abortRequest;
            if (stopped !== undefined) abortRequest(stopped as Error);
          },
          onHeaders(statusCode, rawHeaders, _resume, statusMessage) {
            // 1xx answers come before the final one: keep the last.
            status = statusCode;
            statusText = statusMessage ?? '';
            raw = headerPairs(rawHeaders);
            return true;
          },
          onData(chunk) {
            if (settled) return false;
            size += chunk.length;
            chunks.push(chunk);
            // Longer than anyone reads: keep what came (the grant functions refuse it), stop.
            if (size > MAX_BUFFERED_BYTES) {
              done();
              abort?.(new RangeError('answer too long'));
              return false;
            }
            return true;
          },
          onComplete() {
            done();
          },
          onError(error) {
            finish(error);
          },
        } satisfies RawHandler as unknown as Dispatcher.DispatchHandler,
      );
    });

  return {
    fetch: Object.assign(fetch, { [SELF_TIMED]: true as const }),
    close() {
      // In-flight requests finish; idle connections close.
      agent.close().catch(() => {});
    },
  };
}
