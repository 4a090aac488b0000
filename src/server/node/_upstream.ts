/**
 * The token server's client for Spotify on Node: a `fetch`-shaped function straight on
 * undici's dispatcher (`Agent.dispatch`) with keep-alive connections. Under load it costs a
 * fraction of `fetch` per call (no web streams, no `Request` construction) and about half of
 * `node:http`'s `ClientRequest` (see docs/benchmarks.md), and reuses a handful of connections
 * to the token endpoint. Node-only: the Node adapter injects it when the options give no
 * `fetch`; the neutral handler never imports this file.
 *
 * It does what the grant functions need of `fetch` and no more: a request with a string,
 * `URLSearchParams` or byte body, headers as an object, `Headers` or pairs, an
 * `AbortSignal`; the answer read whole first. It is a {@link SelfTimedFetch}: core's
 * `sendRequest` takes the answer as bytes under this client's own deadline, and only a plain
 * `fetch(input, init)` call gets a `Response` (built from those bytes). Redirects are not
 * followed (the token endpoint has none to give).
 */
import { Agent, type Dispatcher } from 'undici';
import { SELF_TIMED, type SelfTimedFetch, type WholeAnswer } from '../../core/internal.js';
import { bodyOf, headerRecord } from '../../node/internal.js';

/** Most bytes of an answer kept when the caller names no bound; a longer one is cut here. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Statuses whose `Response` must have no body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

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
  fetch: SelfTimedFetch;
  /** Closes idle keep-alive connections (in-flight requests finish). */
  close(): void;
}

/**
 * undici's controller-based handler interface: the one its dispatchers call since undici 7,
 * and the only one undici 8 knows. Picked by name and required, so that a rename or a changed
 * signature in undici's types is a type error here, not a request that never settles.
 */
export type CurrentDispatchHandler = Required<
  Pick<
    Dispatcher.DispatchHandler,
    'onRequestStart' | 'onResponseStart' | 'onResponseData' | 'onResponseEnd' | 'onResponseError'
  >
>;

type ParsedHeaders = Record<string, string | string[] | undefined>;

/**
 * A bodiless `Response` with the answer's status and headers (undici's parsed form: repeated
 * names as arrays, in order). The headers are appended to the Response's own list: passing
 * them in the init would build a second list and copy it (≈ 0.7 µs per call).
 */
function bodilessResponse(status: number, statusText: string, parsed: ParsedHeaders): Response {
  const response = new Response(null, { status, statusText });
  const { headers } = response;
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    if (typeof value === 'string') headers.append(name, value);
    else if (value !== undefined) for (const item of value) headers.append(name, item);
  }
  return response;
}

/**
 * One exchange: collects the answer whole and settles once, with the answer or why there is
 * none. {@link stop} ends it early (deadline, caller's signal), whether or not the request
 * has reached a connection yet.
 */
export class WholeAnswerHandler implements CurrentDispatchHandler {
  readonly #maxBodyBytes: number;
  readonly #settle: (error: unknown, answer?: WholeAnswer) => void;
  #settled = false;
  #controller: Dispatcher.DispatchController | undefined;
  #stopped: Error | undefined;
  #status = 0;
  #statusText = '';
  #headers: ParsedHeaders = {};
  readonly #chunks: Buffer[] = [];
  #size = 0;

  /**
   * @param maxBodyBytes - reading stops once the body is longer (the answer keeps what came).
   * @param settle - called once: `(undefined, answer)`, or `(error)`.
   */
  constructor(maxBodyBytes: number, settle: (error: unknown, answer?: WholeAnswer) => void) {
    this.#maxBodyBytes = maxBodyBytes;
    this.#settle = settle;
  }

  /** Settles with `reason` and aborts the exchange. */
  stop(reason: unknown): void {
    this.#finish(reason);
    this.#stopped = reason instanceof Error ? reason : new Error('stopped');
    this.#controller?.abort(this.#stopped);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#stopped !== undefined) controller.abort(this.#stopped);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: ParsedHeaders,
    statusMessage?: string,
  ): void {
    // 1xx answers come before the final one: keep the last.
    this.#status = statusCode;
    this.#statusText = statusMessage ?? '';
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.length;
    this.#chunks.push(chunk);
    // Longer than the caller reads: keep what came (the caller refuses it), stop.
    if (this.#size > this.#maxBodyBytes) {
      this.#answer();
      controller.abort(new RangeError('answer too long'));
    }
  }

  onResponseEnd(): void {
    this.#answer();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    this.#finish(error);
  }

  #answer(): void {
    if (this.#settled) return;
    const status = this.#status;
    if (status < 200 || status > 599) {
      this.#finish(new RangeError(`the answer's status ${status} is not in 200–599`));
      return;
    }
    const chunks = this.#chunks;
    let response: Response;
    try {
      response = bodilessResponse(status, this.#statusText, this.#headers);
    } catch (error) {
      // A header or status text `Headers` refuses: the answer is unusable, not a crash in undici.
      this.#finish(error);
      return;
    }
    this.#finish(undefined, {
      response,
      body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#size),
    });
  }

  #finish(error: unknown, answer?: WholeAnswer): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settle(error, answer);
  }
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
  const read = (input: string, init: RequestInit, timeout?: number, maxBodyBytes?: number) =>
    new Promise<WholeAnswer>((resolve, reject) => {
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => handler.stop(signal?.reason);
      const handler = new WholeAnswerHandler(
        maxBodyBytes ?? MAX_BUFFERED_BYTES,
        (error, answer) => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (answer !== undefined) resolve(answer);
          else reject(error);
        },
      );
      if (timeout !== undefined) {
        timer = setTimeout(
          () => handler.stop(new DOMException('The operation timed out.', 'TimeoutError')),
          timeout,
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      agent.dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: init.method ?? 'GET',
          headers,
          body: body ?? null,
        },
        handler,
      );
    });

  function fetch(input: string, init: RequestInit): Promise<Response>;
  function fetch(
    input: string,
    init: RequestInit,
    timeout: number,
    maxBodyBytes?: number,
  ): Promise<WholeAnswer>;
  function fetch(
    input: string,
    init: RequestInit,
    timeout?: number,
    maxBodyBytes?: number,
  ): Promise<Response | WholeAnswer> {
    if (timeout !== undefined) return read(input, init, timeout, maxBodyBytes);
    // A plain fetch call (core's own deadline path, when the caller passes a signal): a real
    // `Response` over the bytes read, at the price of its construction.
    return read(input, init).then(({ response, body }) => {
      const { status, statusText, headers } = response;
      const bodiless = NULL_BODY_STATUSES.has(status) || body.byteLength === 0;
      return new Response(bodiless ? null : new Uint8Array(body), { status, statusText, headers });
    });
  }

  const selfTimed: SelfTimedFetch = Object.assign(fetch, { [SELF_TIMED]: true as const });
  return {
    fetch: selfTimed,
    close() {
      // In-flight requests finish; idle connections close.
      agent.close().catch(() => {});
    },
  };
}
