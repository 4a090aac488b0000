/**
 * CORS on the token routes, when `corsOrigins` is set (the Fetch standard's CORS protocol:
 * https://fetch.spec.whatwg.org/#http-cors-protocol). {@link corsHeaders} is the one place
 * the headers of an actual request's answer are decided: the fetch handler's middleware and
 * the Node adapter's direct routes both add them. A preflight (`OPTIONS`) is answered by the
 * middleware only (the Node adapter hands every `OPTIONS` to the fetch handler).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './token-server.js';

/** Answer headers a browser script may read. */
const EXPOSED_HEADERS = 'X-Request-Id,Retry-After';
/** What a preflight allows, and for how long (seconds) a browser may remember it. */
const PREFLIGHT_HEADERS = {
  'Access-Control-Max-Age': '600',
  'Access-Control-Allow-Methods': 'POST,OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type,X-Request-Id',
  // The answer depends on both: a cache must not reuse it for another origin or request.
  Vary: 'Origin, Access-Control-Request-Headers',
} as const;

/**
 * The CORS headers of an answer to a request from `origin` (its `Origin` header): the origin
 * itself when it is allowed, the exposed headers, and `Vary: Origin` (the answer differs by
 * origin). Answers never carry a `Vary` of their own, so it is set, not appended.
 */
export function corsHeaders(
  origins: readonly string[],
  origin: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (origin !== undefined && origins.includes(origin)) {
    headers['Access-Control-Allow-Origin'] = origin;
  }
  headers['Access-Control-Expose-Headers'] = EXPOSED_HEADERS;
  headers.Vary = 'Origin';
  return headers;
}

/**
 * The fetch handler's CORS middleware for the token routes: a preflight is answered `204`
 * here; any other answer gets {@link corsHeaders}.
 */
export function corsMiddleware(origins: readonly string[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const cors = corsHeaders(origins, c.req.header('origin'));
    if (c.req.method === 'OPTIONS') {
      return new Response(null, { status: 204, headers: { ...cors, ...PREFLIGHT_HEADERS } });
    }
    await next();
    const headers = c.res.headers;
    for (const name in cors) headers.set(name, cors[name] as string);
  };
}
