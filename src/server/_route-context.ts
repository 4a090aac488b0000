/**
 * What the token routes work on: one request as a {@link TokenCall}, whatever carried it,
 * and the pieces resolved once when the server is created.
 */
import type { Logger } from 'pino';
import type { ClientConfig } from '../core/grants.js';
import type { ResolvedTokenServerOptions } from './_resolve-options.js';
import type { Keyring } from './keyring.js';
import type { TokenServerMetrics, UpstreamOutcome } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * One `/swap` or `/refresh` request as the routes see it, whatever carried it: the Hono
 * handler builds it from the web `Request`, the Node adapter from `node:http`'s request.
 */
export interface TokenCall {
  /** The request's id (see the request-log middleware). */
  readonly requestId: string;
  /** The `Content-Type` header, when sent. */
  readonly contentType: string | undefined;
  /**
   * The body, at most `limit` bytes; `undefined` when it is larger (the rest is never
   * buffered). Rejects when the body cannot be read (the client went away).
   */
  readBody(limit: number): Promise<Uint8Array | undefined>;
  /** How the call to Spotify went, set by the route for the access log. */
  upstream: { outcome: UpstreamOutcome; ms: number } | undefined;
}

/** Everything the token routes need, resolved once at creation. */
export interface TokenRouteContext {
  config: ResolvedTokenServerOptions;
  /** Spotify client configuration for the grant functions (no Session per request). */
  client: ClientConfig;
  /** The keyring; resolves once its keys are imported (they were validated already). */
  keyring: Promise<Keyring>;
  /** The keyring once its keys are imported: routes then use it without waiting a tick. */
  loadedKeyring?: Keyring | undefined;
  /** Per-token limit (after a successful unseal), when on. */
  tokenLimiter: RateLimiter | undefined;
  logger: Logger;
  metrics: TokenServerMetrics | undefined;
}
