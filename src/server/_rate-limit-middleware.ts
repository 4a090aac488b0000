/**
 * Rate limits on the token routes. Per client IP: {@link createIpLimit}, in front of `/swap`
 * and `/refresh`, before the body is read. Per sealed token: {@link limitToken}, called by
 * `/refresh` only AFTER the token unsealed, keyed by the envelope's authentication tag — a
 * string no one can produce for a token without the key. Failed unseals therefore count
 * against the sender's IP only: a forged tail of someone's token cannot use up that
 * person's budget.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { clientAddress, UNKNOWN_CLIENT } from './_client-ip.js';
import { type Answer, answerResponse, oauthAnswer } from './_responses.js';
import type { TokenServerMetrics } from './metrics.js';
import type { RateLimitDecision, RateLimiter } from './rate-limit.js';
import type { AppEnv } from './token-server.js';

/** Base64url characters at the end of an envelope that hold its 16-byte GCM tag. */
const TAG_CHARACTERS = 22;

/** The 429 answer. */
export function tooManyRequests(decision: Extract<RateLimitDecision, { allowed: false }>): Answer {
  return oauthAnswer(
    429,
    'temporarily_unavailable',
    `Too many requests; retry in ${decision.retryAfter} seconds`,
    { 'Retry-After': String(decision.retryAfter) },
  );
}

/** Counts one request of a client (its rate-limit key); the 429 answer when over the limit. */
export type IpLimit = (address: string) => Promise<Answer | undefined>;

/** The per-IP limit, shared by the middleware and the Node adapter. */
export function createIpLimit(options: {
  limiter: RateLimiter;
  logger: Logger;
  metrics: TokenServerMetrics | undefined;
}): IpLimit {
  const { limiter, logger, metrics } = options;
  let warnedUnknown = false;
  return async (address) => {
    if (address === UNKNOWN_CLIENT && !warnedUnknown) {
      // Every client would share one per-IP bucket: say so once, with the fix.
      warnedUnknown = true;
      logger.warn(
        'client IP unknown: all clients share one per-IP rate limit; pass env.clientIp or the clientIp option',
      );
    }
    const decision = await limiter.consume(address);
    if (decision.allowed) return undefined;
    metrics?.observeRateLimited('ip');
    return tooManyRequests(decision);
  };
}

/** The per-IP limit as a middleware in front of the route `route` (its metrics label). */
export function ipRateLimit(options: {
  limit: IpLimit;
  route: string;
  trustProxy: number;
  clientIp: ((request: Request, env: unknown) => string | undefined) | undefined;
}): MiddlewareHandler<AppEnv> {
  const { limit, route, trustProxy, clientIp } = options;
  return async (c, next) => {
    // A refusal is counted under the route it refused, not as `unmatched`.
    c.set('route', route);
    const refused = await limit(clientAddress(c.req.raw, c.env, trustProxy, clientIp));
    if (refused === undefined) return next();
    return answerResponse(refused, c.get('requestId'));
  };
}

/**
 * Counts one refresh of a sealed token that unsealed; the 429 answer when over the limit.
 * The key is the envelope's tag: the GCM tag authenticates the whole envelope (version,
 * key id, client id, nonce, ciphertext), so it names this sealed token as a hash of it would,
 * and it was just verified — it costs nothing and holds nothing secret.
 */
export async function limitToken(
  limiter: RateLimiter | undefined,
  sealed: string,
  metrics: TokenServerMetrics | undefined,
): Promise<Answer | undefined> {
  if (limiter === undefined) return undefined;
  const decision = await limiter.consume(`tag:${sealed.slice(-TAG_CHARACTERS)}`);
  if (decision.allowed) return undefined;
  metrics?.observeRateLimited('token');
  return tooManyRequests(decision);
}
