/**
 * Health, readiness and metrics routes, at the root whatever the base path: `GET /healthz`
 * (the process answers), `GET /readyz` (it can serve: keys loaded, not draining; `degraded`
 * while the shared rate-limit store is down) and `GET /metrics` (Prometheus text, when a
 * metrics implementation was given).
 */
import type { Hono } from 'hono';
import { json, oauthError } from './_responses.js';
import type { TokenServerMetrics } from './metrics.js';
import type { RateLimitStore, RateLimitStoreHealth } from './rate-limit.js';
import type { AppEnv, ReadyState } from './token-server.js';

/** Readiness from the keys' import, the store's health and the drain flag. */
export function readiness(options: {
  keysLoaded: () => Promise<boolean>;
  store: RateLimitStore;
  draining: () => boolean;
}): () => Promise<ReadyState> {
  const { keysLoaded, store, draining } = options;
  return async () => {
    const keysOk = await keysLoaded();
    const storeStatus = await store.health().catch((): RateLimitStoreHealth => 'down');
    const checks: ReadyState['checks'] = {
      config: keysOk ? 'ok' : 'invalid',
      rateLimitStore: { kind: store.kind, status: storeStatus },
    };
    if (draining()) return { ready: false, status: 'draining', checks };
    if (!keysOk) return { ready: false, status: 'not_ready', checks };
    if (storeStatus === 'down') return { ready: true, status: 'degraded', checks };
    return { ready: true, status: 'ready', checks };
  };
}

/** Adds `/healthz`, `/readyz` and `/metrics` (GET and HEAD; 405 for other methods). */
export function healthRoutes(
  app: Hono<AppEnv>,
  options: { ready: () => Promise<ReadyState>; metrics: TokenServerMetrics | undefined },
): void {
  const { ready, metrics } = options;
  app.get('/healthz', (c) => {
    c.set('route', '/healthz');
    return json(200, { status: 'ok' }, undefined, c.get('requestId'));
  });
  app.get('/readyz', async (c) => {
    c.set('route', '/readyz');
    const state = await ready();
    return json(state.ready ? 200 : 503, state, undefined, c.get('requestId'));
  });
  app.get('/metrics', async (c) => {
    c.set('route', '/metrics');
    if (metrics === undefined) {
      return json(
        404,
        { error: 'not_found', error_description: 'Not found' },
        undefined,
        c.get('requestId'),
      );
    }
    const { contentType, body } = await metrics.render();
    return new Response(body, { status: 200, headers: { 'Content-Type': contentType } });
  });
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    app.all(path, (c) => {
      c.set('route', path);
      return oauthError(
        405,
        'invalid_request',
        'Method not allowed: use GET, HEAD',
        { Allow: 'GET, HEAD' },
        c.get('requestId'),
      );
    });
  }
}
