/**
 * The metrics interface the token server reports to. It is runtime-neutral: the
 * Prometheus implementation (`createPrometheusMetrics`, prom-client, Node) lives in
 * `prometheus.ts`; on Workers pass nothing or your own implementation.
 */

/** Labels of one answered request. Never a token, a code or an IP address. */
export interface RequestMetricLabels {
  /** Route pattern (`/swap`, `/refresh`, `/healthz`, …) or `unmatched`, never the raw path. */
  route: string;
  /** `GET`, `POST`, `HEAD`, `OPTIONS` or `OTHER`. */
  method: string;
  /** HTTP status sent. */
  status: number;
}

/** How a call to Spotify went, for logs and metrics (never the error's text). */
export type UpstreamOutcome =
  | 'ok'
  | 'oauth_error'
  | 'client_rejected'
  | 'rate_limited'
  | 'http_error'
  | 'invalid_response'
  | 'network_error'
  | 'timeout';

/** Labels of one call to Spotify's token endpoint. */
export interface UpstreamMetricLabels {
  /** `authorization_code` or `refresh_token`. */
  grant: 'authorization_code' | 'refresh_token';
  /** How the call went. */
  outcome: UpstreamOutcome;
}

/** Where the token server reports what it did. */
export interface TokenServerMetrics {
  /** One answered request and how long it took. */
  observeRequest(labels: RequestMetricLabels, seconds: number): void;
  /** One call to Spotify and how long it took. */
  observeUpstream(labels: UpstreamMetricLabels, seconds: number): void;
  /** Rate-limit refusals, by limit (`ip` or `token`). */
  observeRateLimited(limit: 'ip' | 'token'): void;
  /**
   * The rate-limit store (`kind`: `redis`, …) went down or came back. Optional: stores
   * without a connection never call it.
   */
  observeRateLimitStore?(kind: string, status: 'ok' | 'down'): void;
  /** The exposition `GET /metrics` answers with. */
  render(): Promise<{ contentType: string; body: string }>;
}

const KNOWN_METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);

/** Bounds the `method` label: anything unusual becomes `OTHER`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER';
}
