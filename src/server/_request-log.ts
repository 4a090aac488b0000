/**
 * First middleware of the token server: the request id, the headers every answer carries,
 * one access-log line and the request metrics. Costs nothing it can avoid: answers built by
 * `json()` already carry their headers and are left alone; no log entry is built for a
 * disabled level.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from './_app.js';
import { isComplete } from './_responses.js';
import { methodLabel, type TokenServerMetrics } from './metrics.js';

const REQUEST_ID_PATTERN = /^[\w.:=-]{1,128}$/;

/** The request-id, headers, access-log and metrics middleware. */
export function requestLog(options: {
  logger: Logger;
  metrics: TokenServerMetrics | undefined;
}): MiddlewareHandler<AppEnv> {
  const { logger, metrics } = options;
  return async (c, next) => {
    const started = performance.now();
    const incomingId = c.req.header('x-request-id');
    const requestId =
      incomingId !== undefined && REQUEST_ID_PATTERN.test(incomingId)
        ? incomingId
        : crypto.randomUUID();
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
    const seconds = (performance.now() - started) / 1000;
    const status = response.status;
    const method = methodLabel(c.req.method);
    metrics?.observeRequest({ route, method, status }, seconds);
    const level = status >= 500 ? 'warn' : 'info';
    if (logger.isLevelEnabled(level)) {
      const upstream = c.get('upstream');
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
