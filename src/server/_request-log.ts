/**
 * First middleware of the token server: the request id, the headers every answer carries,
 * one access-log line and the request metrics. Costs nothing it can avoid: answers built by
 * `json()` already carry their headers and are left alone; no log entry is built for a
 * disabled level. The Node adapter's direct token routes use the same two functions,
 * {@link requestIdFrom} and {@link RequestRecorder}.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { isComplete } from './_responses.js';
import type { TokenCall } from './_route-context.js';
import { methodLabel, type TokenServerMetrics } from './metrics.js';
import type { AppEnv } from './token-server.js';

const REQUEST_ID_PATTERN = /^[\w.:=-]{1,128}$/;

/** The request's id: a sane incoming `X-Request-Id`, else a new UUID. */
export function requestIdFrom(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID_PATTERN.test(incoming)
    ? incoming
    : crypto.randomUUID();
}

/** What one answered request is recorded with. */
export interface RequestRecord {
  requestId: string;
  /** The request method as sent. */
  method: string;
  route: string;
  status: number;
  /** `performance.now()` when the request arrived. */
  started: number;
  upstream: TokenCall['upstream'];
}

/** Records one answered request: the metrics and the access-log line. */
export type RequestRecorder = (record: RequestRecord) => void;

/** The {@link RequestRecorder} writing to `logger` and `metrics`. */
export function requestRecorder(options: {
  logger: Logger;
  metrics: TokenServerMetrics | undefined;
}): RequestRecorder {
  const { logger, metrics } = options;
  return ({ requestId, method: sent, route, status, started, upstream }) => {
    const seconds = (performance.now() - started) / 1000;
    const method = methodLabel(sent);
    metrics?.observeRequest({ route, method, status }, seconds);
    const level = status >= 500 ? 'warn' : 'info';
    if (logger.isLevelEnabled(level)) {
      logger[level](
        {
          requestId,
          method,
          route,
          status,
          durationMs: Math.round(seconds * 1000),
          ...(upstream === undefined ? {} : { upstream }),
        },
        'request',
      );
    }
  };
}

/** The request-id, headers, access-log and metrics middleware. */
export function requestLog(record: RequestRecorder): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.set('route', 'unmatched');
    c.set('upstream', undefined);
    await next();
    const response = c.res;
    const route = c.get('route');
    if (!isComplete(response)) {
      const headers = response.headers;
      // /metrics is Prometheus text; everything else is JSON (a CORS preflight has no body).
      if (route !== '/metrics' || response.status !== 200) {
        headers.set('Content-Type', 'application/json');
      }
      headers.set('Cache-Control', 'no-store');
      headers.set('Pragma', 'no-cache');
      headers.set('X-Request-Id', requestId);
    }
    record({
      requestId,
      method: c.req.method,
      route,
      status: response.status,
      started,
      upstream: c.get('upstream'),
    });
  };
}
