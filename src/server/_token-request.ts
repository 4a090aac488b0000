/**
 * What `/swap` and `/refresh` do alike: read and check the parameters, call Spotify's token
 * endpoint once (never retried) and map its failures, answer with the tokens.
 */
import type { Context } from 'hono';
import { InvalidArgumentError } from '../core/errors/index.js';
import type { TokenEndpointResult } from '../core/grants.js';
import type { AppEnv, TokenRouteContext } from './_app.js';
import { readParams } from './_body.js';
import { json, oauthError, type UpstreamOutcome, upstreamFailure } from './_responses.js';
import type { Keyring } from './keyring.js';

/** Longest `expires_in` passed on, in seconds (Spotify's access tokens last one hour). */
export const MAX_EXPIRES_IN = 86_400;

export function invalidRequest(description: string, requestId: string): Response {
  return oauthError(400, 'invalid_request', description, undefined, requestId);
}

/**
 * The parameters (only `names`), or the answer: unreadable body, a `grant_type` other than
 * `grantType`, or a `client_id` that is not this server's.
 */
export async function readTokenRequest(
  ctx: TokenRouteContext,
  c: Context<AppEnv>,
  names: readonly string[],
  grantType: 'authorization_code' | 'refresh_token',
  maxLengths?: Readonly<Record<string, number>>,
): Promise<Map<string, string> | Response> {
  const requestId = c.get('requestId');
  const read = await readParams(c.req.raw, names, maxLengths);
  if (!read.ok) {
    const { status, error, description } = read.problem;
    return oauthError(status, error, description, undefined, requestId);
  }
  const params = read.params;
  const sentGrantType = params.get('grant_type');
  if (sentGrantType !== undefined && sentGrantType !== grantType) {
    return invalidRequest(`grant_type must be ${grantType}`, requestId);
  }
  const clientId = params.get('client_id');
  if (clientId !== undefined && clientId !== ctx.config.clientId) {
    return invalidRequest('client_id is not the client this server serves', requestId);
  }
  return params;
}

/** The keyring, or the 500 answer when its keys could not be imported. */
export async function keyringOrAnswer(
  ctx: TokenRouteContext,
  requestId: string,
): Promise<Keyring | Response> {
  try {
    return await ctx.keyring;
  } catch {
    return oauthError(
      500,
      'server_error',
      'The token server is misconfigured (encryption keys)',
      undefined,
      requestId,
    );
  }
}

/**
 * Calls Spotify through a grant function; the tokens, or the answer for the app. Records
 * the outcome for the access log and the metrics. The grant functions bound the whole
 * exchange by `upstreamTimeout`.
 */
export async function callSpotify(
  ctx: TokenRouteContext,
  c: Context<AppEnv>,
  grant: 'authorization_code' | 'refresh_token',
  call: () => Promise<TokenEndpointResult>,
  onInvalidArgument?: () => Response,
): Promise<TokenEndpointResult | Response> {
  const started = performance.now();
  const record = (outcome: UpstreamOutcome) => {
    const seconds = (performance.now() - started) / 1000;
    ctx.metrics?.observeUpstream({ grant, outcome }, seconds);
    c.set('upstream', { outcome, ms: Math.round(seconds * 1000) });
  };
  try {
    const result = await call();
    record('ok');
    return result;
  } catch (error) {
    const requestId = c.get('requestId');
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
        { requestId, grant },
        'Spotify refused the client credentials (invalid_client): check the client id and secret',
      );
    }
    return json(failure.status, failure.body, failure.headers, requestId);
  }
}

/** `expires_in` as a whole number of seconds within `[0, MAX_EXPIRES_IN]`. */
export function saneExpiresIn(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), MAX_EXPIRES_IN);
}

/** The 502 for a refresh token Spotify sent that cannot be sealed (absurdly long). */
export function unsealable(requestId: string): Response {
  return oauthError(
    502,
    'server_error',
    'Spotify sent a refresh token this server cannot seal',
    undefined,
    requestId,
  );
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
