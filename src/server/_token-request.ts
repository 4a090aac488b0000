/**
 * What `/swap` and `/refresh` do alike: read and check the parameters, call Spotify's token
 * endpoint once (never retried) and map its failures, answer with the tokens. Everything
 * here works on a {@link TokenCall} and returns an {@link Answer}, so the fetch handler and
 * the Node adapter run the same code.
 */
import type { Context, Handler } from 'hono';
import { InvalidArgumentError } from '../core/errors/index.js';
import type { TokenEndpointResult } from '../core/grants.js';
import { paramsSourceOf, readParams } from './_body.js';
import { type Answer, answerResponse, oauthAnswer, upstreamFailure } from './_responses.js';
import type { TokenCall, TokenRouteContext } from './_route-context.js';
import type { Keyring } from './keyring.js';
import type { UpstreamOutcome } from './metrics.js';
import type { AppEnv } from './token-server.js';

/** Longest `expires_in` passed on, in seconds (Spotify's access tokens last one hour). */
const MAX_EXPIRES_IN = 86_400;

/** A token route: one request in, one answer out. */
export type TokenRoute = (call: TokenCall) => Promise<Answer>;

/** The route as a Hono handler: the web `Request` read through a {@link TokenCall}. */
export function honoTokenRoute(route: TokenRoute, pattern: string): Handler<AppEnv> {
  return async (c: Context<AppEnv>) => {
    c.set('route', pattern);
    const call: TokenCall = {
      ...paramsSourceOf(c.req.raw),
      requestId: c.get('requestId'),
      upstream: undefined,
    };
    const answer = await route(call);
    c.set('upstream', call.upstream);
    return answerResponse(answer, call.requestId);
  };
}

export function invalidRequest(description: string): Answer {
  return oauthAnswer(400, 'invalid_request', description);
}

/**
 * The parameters (only `names`), or the answer: unreadable body, a `grant_type` other than
 * `grantType`, or a `client_id` that is not this server's.
 */
export async function readTokenRequest(
  ctx: TokenRouteContext,
  call: TokenCall,
  names: readonly string[],
  grantType: 'authorization_code' | 'refresh_token',
  maxLengths?: Readonly<Record<string, number>>,
): Promise<Map<string, string> | Answer> {
  const read = await readParams(call, names, maxLengths);
  if (!read.ok) {
    const { status, error, description } = read.problem;
    return oauthAnswer(status, error, description);
  }
  const params = read.params;
  const sentGrantType = params.get('grant_type');
  if (sentGrantType !== undefined && sentGrantType !== grantType) {
    return invalidRequest(`grant_type must be ${grantType}`);
  }
  const clientId = params.get('client_id');
  if (clientId !== undefined && clientId !== ctx.config.clientId) {
    return invalidRequest('client_id is not the client this server serves');
  }
  return params;
}

/** The keyring, or the 500 answer when its keys could not be imported. */
export async function keyringOrAnswer(ctx: TokenRouteContext): Promise<Keyring | Answer> {
  try {
    return await ctx.keyring;
  } catch {
    return oauthAnswer(500, 'server_error', 'The token server is misconfigured (encryption keys)');
  }
}

/**
 * Calls Spotify through a grant function; the tokens, or the answer for the app. Records
 * the outcome for the access log and the metrics. The grant functions bound the whole
 * exchange by `upstreamTimeout`.
 */
export async function callSpotify(
  ctx: TokenRouteContext,
  call: TokenCall,
  grant: 'authorization_code' | 'refresh_token',
  request: () => Promise<TokenEndpointResult>,
  onInvalidArgument?: () => Answer,
): Promise<TokenEndpointResult | Answer> {
  const started = performance.now();
  const record = (outcome: UpstreamOutcome) => {
    const seconds = (performance.now() - started) / 1000;
    ctx.metrics?.observeUpstream({ grant, outcome }, seconds);
    call.upstream = { outcome, ms: Math.round(seconds * 1000) };
  };
  try {
    const result = await request();
    record('ok');
    return result;
  } catch (error) {
    const failure = upstreamFailure(error);
    if (failure === undefined) {
      if (onInvalidArgument !== undefined && error instanceof InvalidArgumentError) {
        return onInvalidArgument();
      }
      throw error;
    }
    record(failure.outcome);
    if (failure.outcome === 'client_rejected') {
      ctx.logger.error(
        { requestId: call.requestId, grant },
        'Spotify refused the client credentials (invalid_client): check the client id and secret',
      );
    }
    return { status: failure.status, body: failure.body, headers: failure.headers };
  }
}

/** Whether a step gave the route's {@link Answer} rather than its next value. */
export function isAnswer<T extends object>(value: T | Answer): value is Answer {
  return 'status' in value && 'body' in value;
}

/** `expires_in` as a whole number of seconds within `[0, MAX_EXPIRES_IN]`. */
export function saneExpiresIn(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), MAX_EXPIRES_IN);
}

/** The 502 for a refresh token Spotify sent that cannot be sealed (absurdly long). */
export const unsealable: Answer = oauthAnswer(
  502,
  'server_error',
  'Spotify sent a refresh token this server cannot seal',
);

/**
 * `refresh_token_expires_in`: seconds until the sealed refresh token is refused — its
 * original authorization (`issuedAt`) plus `refreshTokenMaxAge`, Spotify's six months by
 * default (https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens)
 * — however often it is refreshed. An extra member of the answer, which the mobile SDKs
 * ignore, so that an app can ask the user to log in again before the login ends.
 */
export function refreshTokenExpiresIn(
  ctx: TokenRouteContext,
  issuedAt: number,
  // A swap counts from the second it sealed, not from a clock read after the sealing, so
  // that its answer is the whole lifetime even when the sealing crosses a second.
  nowSeconds = Math.floor(ctx.config.now() / 1000),
): number {
  return Math.max(0, issuedAt + ctx.config.refreshTokenMaxAge - nowSeconds);
}

/** Seals Spotify's refresh token; `undefined` when it cannot be (absurdly long, say). */
export async function sealOrUndefined(
  ctx: TokenRouteContext,
  keyring: Keyring,
  refreshToken: string,
  issuedAt: number,
): Promise<string | undefined> {
  try {
    return await keyring.seal(refreshToken, { clientId: ctx.config.clientId, issuedAt });
  } catch {
    ctx.logger.warn('Spotify sent a refresh token that cannot be sealed');
    return undefined;
  }
}
