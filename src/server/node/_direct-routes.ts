/**
 * The token routes answered straight from `node:http`: `POST /swap` and `POST /refresh`
 * run the same route functions, per-IP limit and recorder as the fetch handler, but read
 * the body from the `IncomingMessage` and write the answer to the `ServerResponse`,
 * skipping the web `Request`/`Headers`/`Response` objects and the Hono context each request
 * would otherwise build (most of what the server spent per request beyond the reference
 * proxy; see docs/benchmarks.md). Every rule is shared with the fetch handler's path, each
 * a function both call: the CORS headers (`corsHeaders`), the client address
 * (`clientAddressOf`), the body limit (`LimitedBody`, `declaredTooLarge`), the answer's
 * bytes and headers (`renderAnswer`), the request id and the recorder. Everything else —
 * other paths and methods (CORS preflights included), unusual `Host` headers
 * ({@link hostRoute}), a `clientIp` option — goes to the fetch handler, and
 * test/e2e/server-node-parity.test.ts checks that both give the same answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { declaredTooLarge, LimitedBody } from '../_body.js';
import { clientAddressOf } from '../_client-ip.js';
import { requestIdFrom } from '../_request-log.js';
import { type Answer, renderAnswer } from '../_responses.js';
import type { TokenCall } from '../_route-context.js';
import { MAX_BODY_BYTES } from '../options.js';
import type { DirectTokenRoutes } from '../token-server.js';

type Listener = (incoming: IncomingMessage, outgoing: ServerResponse) => void;

/**
 * The `Host` values @hono/node-server accepts without parsing a URL (lower-case name, port
 * ≥ 1000). Any other value takes the fetch handler's path, which decides exactly as it
 * always has.
 */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/**
 * The one `Host` rule of the Node adapter, by the first `Host` header: `direct` for the
 * values the direct routes take, `malformed` for an HTTP/1.1 request without one (RFC 9112
 * §3.2: answered 400 in JSON, rather than by Node's empty 400), else `fetch` (the fetch
 * handler's path).
 */
export function hostRoute(
  host: string | undefined,
  httpVersion: string,
): 'direct' | 'fetch' | 'malformed' {
  if (host === undefined) return httpVersion === '1.1' ? 'malformed' : 'fetch';
  return PLAIN_HOST.test(host) ? 'direct' : 'fetch';
}

/** The headers the token routes read, joined as web `Headers.get` joins repeated fields. */
interface RouteHeaders {
  /** The first `Host` (as Node's `headers.host`, which @hono/node-server reads). */
  host: string | undefined;
  contentType: string | undefined;
  contentLength: string | undefined;
  requestId: string | undefined;
  forwardedFor: string | undefined;
  origin: string | undefined;
}

/**
 * A repeated field's values joined as the Fetch standard's `Headers.get` joins them
 * ("combine": https://fetch.spec.whatwg.org/#concept-header-list-combine), which is what the
 * fetch handler's path reads: the one place this path joins.
 */
function join(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

/**
 * One pass over the raw header pairs. Not Node's `headers` object: it keeps only the first
 * of a repeated `Content-Type`, where the fetch handler sees them joined.
 */
function routeHeaders(raw: readonly string[]): RouteHeaders {
  const headers: RouteHeaders = {
    host: undefined,
    contentType: undefined,
    contentLength: undefined,
    requestId: undefined,
    forwardedFor: undefined,
    origin: undefined,
  };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (name.length) {
      case 4:
        if (headers.host === undefined && name.toLowerCase() === 'host') headers.host = value;
        break;
      case 6:
        if (name.toLowerCase() === 'origin') headers.origin = join(headers.origin, value);
        break;
      case 12:
        if (name.toLowerCase() === 'content-type') {
          headers.contentType = join(headers.contentType, value);
        } else if (name.toLowerCase() === 'x-request-id') {
          headers.requestId = join(headers.requestId, value);
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          headers.contentLength = join(headers.contentLength, value);
        }
        break;
      case 15:
        if (name.toLowerCase() === 'x-forwarded-for') {
          headers.forwardedFor = join(headers.forwardedFor, value);
        }
        break;
    }
  }
  return headers;
}

/**
 * Reads at most `limit` bytes of the body, as `readBodyLimited` does for a web `Request`,
 * with the same limit: a declared length over it is refused unread; a body without one is
 * dropped as soon as it passes it.
 */
function readNodeBody(
  incoming: IncomingMessage,
  declared: string | undefined,
  limit: number,
): Promise<Uint8Array | undefined> {
  if (declared !== undefined && declaredTooLarge(declared, limit)) {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const body = new LimitedBody(limit);
    let over = false;
    // Three listeners, never removed (the request object is dropped after the answer): a
    // client that goes away mid-body makes Node emit 'error' (ECONNRESET).
    incoming.on('data', (chunk: Buffer) => {
      if (over) return;
      if (!body.add(chunk)) {
        over = true;
        incoming.pause();
        resolve(undefined);
      }
    });
    incoming.on('end', () => {
      if (!over) resolve(body.bytes());
    });
    incoming.on('error', reject);
  });
}

/** Writes an answer built by a route (the fetch handler's `renderAnswer`, plus the framing). */
function writeAnswer(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  answer: Answer,
  requestId: string,
  declaredLength: string | undefined,
  cors: Record<string, string> | undefined,
): void {
  const { status, headers: rendered, text } = renderAnswer(answer, requestId, cors);
  const headers: Record<string, string | number> = rendered;
  headers['Content-Length'] = Buffer.byteLength(text);
  // Node discards an unread body of a declared, small length to keep the connection; a
  // body that is endless or over the limit is not worth reading: close after the answer.
  if (
    !incoming.readableEnded &&
    (declaredLength === undefined || declaredTooLarge(declaredLength, MAX_BODY_BYTES))
  ) {
    headers.Connection = 'close';
  }
  outgoing.writeHead(status, headers);
  outgoing.end(text);
}

/**
 * A `node:http` listener answering the token routes directly and everything else through
 * `fallback` (the fetch handler's listener).
 */
export function directTokenListener(direct: DirectTokenRoutes, fallback: Listener): Listener {
  const { routes, ipLimit, trustProxy, record, unhandled, corsHeaders } = direct;
  return (incoming, outgoing) => {
    const route = incoming.method === 'POST' ? routes.get(incoming.url as string) : undefined;
    if (route === undefined) {
      fallback(incoming, outgoing);
      return;
    }
    const headers = routeHeaders(incoming.rawHeaders);
    if (hostRoute(headers.host, incoming.httpVersion) !== 'direct') {
      fallback(incoming, outgoing);
      return;
    }
    const started = performance.now();
    const requestId = requestIdFrom(headers.requestId);
    const call: TokenCall = {
      requestId,
      contentType: headers.contentType,
      readBody: (limit) => readNodeBody(incoming, headers.contentLength, limit),
      upstream: undefined,
    };
    const answered = (answer: Answer) => {
      writeAnswer(
        incoming,
        outgoing,
        answer,
        requestId,
        headers.contentLength,
        corsHeaders?.(headers.origin),
      );
      record({
        requestId,
        method: 'POST',
        route: incoming.url as string,
        status: answer.status,
        started,
        upstream: call.upstream,
      });
    };
    const failed = (error: unknown) => answered(unhandled(error, requestId));
    // Nothing is left to answer with when writing the answer itself failed: drop the socket.
    const broken = () => outgoing.destroy();
    if (ipLimit === undefined) {
      route(call).then(answered, failed).catch(broken);
      return;
    }
    const address = clientAddressOf(
      incoming.socket.remoteAddress,
      headers.forwardedFor,
      trustProxy,
    );
    ipLimit(address)
      .then((refused) => refused ?? route(call))
      .then(answered, failed)
      .catch(broken);
  };
}
