/**
 * `POST /refresh`: a sealed refresh token for a new access token (Spotify's iOS SDK
 * token swap guide). The
 * token is unsealed first; only a token that unsealed counts against the per-token limit;
 * a rotated refresh token is sealed again with the ORIGINAL authorization time.
 */
import type { Handler } from 'hono';
import { refreshTokenGrant } from '../core/grants.js';
import type { AppEnv, TokenRouteContext } from './_app.js';
import { limitToken } from './_rate-limit-middleware.js';
import { invalidRefreshToken, json } from './_responses.js';
import {
  callSpotify,
  invalidRequest,
  keyringOrAnswer,
  readTokenRequest,
  saneExpiresIn,
  sealOrUndefined,
  unsealable,
} from './_token-request.js';
import { MAX_SEALED_LENGTH, type UnsealedToken } from './keyring.js';

const REFRESH_PARAMS = ['refresh_token', 'client_id', 'grant_type'] as const;
/** Every envelope the server seals fits (see MAX_SEALED_LENGTH): /refresh takes them all. */
const REFRESH_MAX_LENGTHS = { refresh_token: MAX_SEALED_LENGTH } as const;

/** The `/refresh` handler. */
export function refreshHandler(ctx: TokenRouteContext, route: string): Handler<AppEnv> {
  const { config } = ctx;
  const unsealOptions = {
    clientId: config.clientId,
    maxAge: config.refreshTokenMaxAge,
    now: config.now,
  };
  return async (c) => {
    c.set('route', route);
    const requestId = c.get('requestId');
    const params = await readTokenRequest(
      ctx,
      c,
      REFRESH_PARAMS,
      'refresh_token',
      REFRESH_MAX_LENGTHS,
    );
    if (params instanceof Response) return params;
    const sealed = params.get('refresh_token');
    if (sealed === undefined) return invalidRequest('refresh_token is missing', requestId);
    const keyring = ctx.loadedKeyring ?? (await keyringOrAnswer(ctx, requestId));
    if (keyring instanceof Response) return keyring;
    let unsealed: UnsealedToken;
    try {
      unsealed = await keyring.unseal(sealed, unsealOptions);
    } catch {
      return invalidRefreshToken(requestId);
    }
    const limited = await limitToken(ctx.tokenLimiter, sealed, requestId, ctx.metrics);
    if (limited !== undefined) return limited;
    const tokens = await callSpotify(
      ctx,
      c,
      'refresh_token',
      () => refreshTokenGrant(ctx.client, { refreshToken: unsealed.refreshToken }),
      // A token sealed before tokens were checked, that Spotify could never accept.
      () => invalidRefreshToken(requestId),
    );
    if (tokens instanceof Response) return tokens;
    let rotated: string | undefined;
    if (tokens.refreshToken !== undefined && tokens.refreshToken !== unsealed.refreshToken) {
      // Keep the ORIGINAL authorization time: rotation does not extend the six months.
      rotated = await sealOrUndefined(ctx, keyring, tokens.refreshToken, unsealed.issuedAt);
      if (rotated === undefined) return unsealable(requestId);
    }
    return json(
      200,
      {
        access_token: tokens.accessToken,
        token_type: tokens.tokenType,
        expires_in: saneExpiresIn(tokens.expiresIn),
        scope: tokens.scope ?? '',
        ...(rotated === undefined ? {} : { refresh_token: rotated }),
      },
      undefined,
      requestId,
    );
  };
}
