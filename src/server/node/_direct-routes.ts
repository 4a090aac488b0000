/**
 * The token routes answered straight from `node:http`: `POST /swap` and `POST /refresh`
 * run the same route functions, per-IP limit and recorder as the fetch handler, but read
 * the body from the `IncomingMessage` and write the answer to the `ServerResponse`,
 * skipping the web `Request`/`Headers`/`Response` objects and the Hono context each request
 * would otherwise build (most of what the server spent per request beyond the reference
 * proxy; see docs/benchmarks.md). CORS headers are added as Hono's `cors` middleware
 * adds them. Everything else — other paths and methods (CORS preflights included), unusual
 * `Host` headers, a `clientIp` option — goes to the fetch handler, and
 * test/e2e/server-node-parity.test.ts checks that both give the same answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { declaredTooLarge } from '../_body.js';
import { clientAddressOf } from '../_client-ip.js';
import { requestIdFrom } from '../_request-log.js';
import { type Answer, answerHeaders } from '../_responses.js';
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
 * Reads at most `limit` bytes of the body, as `readBodyLimited` does for a web `Request`:
 * a declared length over the limit is refused unread; a body without one is dropped as
 * soon as it passes the limit.
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
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    // Three listeners, never removed (the request object is dropped after the answer): a
    // client that goes away mid-body makes Node emit 'error' (ECONNRESET).
    incoming.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.byteLength;
      if (size > limit) {
        over = true;
        incoming.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    incoming.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    incoming.on('error', reject);
  });
}

/** Writes an answer built by a route (the bytes the fetch handler's `json()` would send). */
function writeAnswer(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  answer: Answer,
  requestId: string,
  declaredLength: string | undefined,
  cors: Record<string, string> | undefined,
): void {
  const text = JSON.stringify(answer.body);
  const headers: Record<string, string | number> = answerHeaders(answer.headers, requestId);
  if (cors !== undefined) Object.assign(headers, cors);
  headers['Content-Length'] = Buffer.byteLength(text);
  // Node discards an unread body of a declared, small length to keep the connection; a
  // body that is endless or over the limit is not worth reading: close after the answer.
  if (
    !incoming.readableEnded &&
    (declaredLength === undefined || declaredTooLarge(declaredLength, MAX_BODY_BYTES))
  ) {
    headers.Connection = 'close';
  }
  outgoing.writeHead(answer.status, headers);
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
    if (headers.host === undefined || !PLAIN_HOST.test(headers.host)) {
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
