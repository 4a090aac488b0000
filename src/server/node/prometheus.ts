/**
 * Prometheus metrics through prom-client (Node). Import this only where prom-client runs;
 * the token server itself only knows the {@link TokenServerMetrics} interface.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TokenServerMetrics } from '../metrics.js';

/** Options of {@link createPrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /**
   * Registry to register the metrics in (share one with the rest of your app).
   * @default a new Registry
   */
  registry?: Registry;
  /**
   * Also collect prom-client's default process metrics (CPU, memory, event loop lag).
   * @default true
   */
  defaultMetrics?: boolean;
  /**
   * Prefix of every metric name.
   * @default 'spotify_session_'
   */
  prefix?: string;
}

/**
 * Metrics for `GET /metrics`: `<prefix>http_requests_total{route,method,status}`,
 * `<prefix>http_request_duration_seconds{route,method,status}`,
 * `<prefix>upstream_request_duration_seconds{grant,outcome}`,
 * `<prefix>rate_limited_total{limit}` and `<prefix>rate_limit_store_up{kind}` (1 while a
 * shared store such as Redis answers, 0 while limits fall back to process memory). Labels never hold a token, a code or an IP address,
 * and `route` is the route pattern, so cardinality stays bounded.
 */
export function createPrometheusMetrics(
  options: PrometheusMetricsOptions = {},
): TokenServerMetrics & { registry: Registry } {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'spotify_session_';
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  const requests = new Counter({
    name: `${prefix}http_requests_total`,
    help: 'Requests answered by the token server, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: 'Time to answer a request, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: `${prefix}upstream_request_duration_seconds`,
    help: "Time Spotify's token endpoint took, by grant and outcome.",
    labelNames: ['grant', 'outcome'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: `${prefix}rate_limited_total`,
    help: 'Requests refused with 429, by limit (ip or token).',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  const storeUp = new Gauge({
    name: `${prefix}rate_limit_store_up`,
    help: 'Whether the shared rate-limit store answers (1) or limits are per process (0), by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  return {
    registry,
    observeRequest(labels, seconds) {
      const l = { route: labels.route, method: labels.method, status: String(labels.status) };
      requests.inc(l);
      requestDuration.observe(l, seconds);
    },
    observeUpstream(labels, seconds) {
      upstreamDuration.observe({ grant: labels.grant, outcome: labels.outcome }, seconds);
    },
    observeRateLimited(limit) {
      rateLimited.inc({ limit });
    },
    observeRateLimitStore(kind, status) {
      storeUp.set({ kind }, status === 'ok' ? 1 : 0);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
