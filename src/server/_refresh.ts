/**
 * `POST /refresh`: a sealed refresh token for a new access token (Spotify's iOS SDK
 * token swap guide). The
 * token is unsealed first; only a token that unsealed counts against the per-token limit;
 * a rotated refresh token is sealed again with the ORIGINAL authorization time.
 */
import { refreshTokenGrant } from '../core/grants.js';
import { limitToken } from './_rate-limit-middleware.js';
import { type Answer, invalidRefreshToken } from './_responses.js';
import type { TokenCall, TokenRouteContext } from './_route-context.js';
import {
  callSpotify,
  invalidRequest,
  isAnswer,
  keyringOrAnswer,
  readTokenRequest,
  saneExpiresIn,
  sealOrUndefined,
  type TokenRoute,
  unsealable,
} from './_token-request.js';
import { MAX_SEALED_LENGTH, type UnsealedToken } from './keyring.js';

const REFRESH_PARAMS = ['refresh_token', 'client_id', 'grant_type'] as const;
/** Every envelope the server seals fits (see MAX_SEALED_LENGTH): /refresh takes them all. */
const REFRESH_MAX_LENGTHS = { refresh_token: MAX_SEALED_LENGTH } as const;
/** A token sealed before tokens were checked, that Spotify could never accept. */
const refusedStoredToken = () => invalidRefreshToken;

/** The `/refresh` route. */
export function refreshRoute(ctx: TokenRouteContext): TokenRoute {
  const { config } = ctx;
  const unsealOptions = {
    clientId: config.clientId,
    maxAge: config.refreshTokenMaxAge,
    now: config.now,
  };
  return async (call: TokenCall): Promise<Answer> => {
    const params = await readTokenRequest(
      ctx,
      call,
      REFRESH_PARAMS,
      'refresh_token',
      REFRESH_MAX_LENGTHS,
    );
    if (isAnswer(params)) return params;
    const sealed = params.get('refresh_token');
    if (sealed === undefined) return invalidRequest('refresh_token is missing');
    const keyring = ctx.loadedKeyring ?? (await keyringOrAnswer(ctx));
    if (isAnswer(keyring)) return keyring;
    let unsealed: UnsealedToken;
    try {
      unsealed = await keyring.unseal(sealed, unsealOptions);
    } catch {
      return invalidRefreshToken;
    }
    const limited = await limitToken(ctx.tokenLimiter, sealed, ctx.metrics);
    if (limited !== undefined) return limited;
    const tokens = await callSpotify(
      ctx,
      call,
      'refresh_token',
      () => refreshTokenGrant(ctx.client, { refreshToken: unsealed.refreshToken }),
      refusedStoredToken,
    );
    if (isAnswer(tokens)) return tokens;
    let rotated: string | undefined;
    if (tokens.refreshToken !== undefined && tokens.refreshToken !== unsealed.refreshToken) {
      // Keep the ORIGINAL authorization time: rotation does not extend the six months.
      rotated = await sealOrUndefined(ctx, keyring, tokens.refreshToken, unsealed.issuedAt);
      if (rotated === undefined) return unsealable;
    }
    return {
      status: 200,
      body: {
        access_token: tokens.accessToken,
        token_type: tokens.tokenType,
        expires_in: saneExpiresIn(tokens.expiresIn),
        scope: tokens.scope ?? '',
        ...(rotated === undefined ? {} : { refresh_token: rotated }),
      },
    };
  };
}
