/**
 * `POST /swap`: the SDK's authorization code for tokens, with Spotify's refresh token sealed
 * (Spotify's iOS SDK guide:
 * https://developer.spotify.com/documentation/ios/concepts/token-swap-and-refresh). Checks the optional parameters newer SDKs send.
 */
import { authorizationCodeGrant } from '../core/grants.js';
import {
  CODE_VERIFIER_PATTERN,
  MAX_CODE_VERIFIER_LENGTH,
  MIN_CODE_VERIFIER_LENGTH,
} from '../core/internal.js';
import type { Answer } from './_responses.js';
import type { TokenCall, TokenRouteContext } from './_route-context.js';
import {
  callSpotify,
  invalidRequest,
  isAnswer,
  keyringOrAnswer,
  readTokenRequest,
  refreshTokenExpiresIn,
  saneExpiresIn,
  sealOrUndefined,
  type TokenRoute,
  unsealable,
} from './_token-request.js';

const SWAP_PARAMS = ['code', 'code_verifier', 'redirect_uri', 'client_id', 'grant_type'] as const;

/** The `/swap` route. */
export function swapRoute(ctx: TokenRouteContext): TokenRoute {
  const { config, logger } = ctx;
  return async (call: TokenCall): Promise<Answer> => {
    const params = await readTokenRequest(ctx, call, SWAP_PARAMS, 'authorization_code');
    if (isAnswer(params)) return params;
    const code = params.get('code');
    if (code === undefined) return invalidRequest('code is missing');
    const redirectUri = params.get('redirect_uri') ?? config.redirectUris[0];
    if (redirectUri === undefined || !config.redirectUris.includes(redirectUri)) {
      return invalidRequest('redirect_uri is not one this server allows');
    }
    const codeVerifier = params.get('code_verifier');
    if (codeVerifier !== undefined && !CODE_VERIFIER_PATTERN.test(codeVerifier)) {
      return invalidRequest(
        `code_verifier is malformed (${MIN_CODE_VERIFIER_LENGTH}-${MAX_CODE_VERIFIER_LENGTH} characters of A-Z a-z 0-9 . _ ~ -)`,
      );
    }
    const keyring = ctx.loadedKeyring ?? (await keyringOrAnswer(ctx));
    if (isAnswer(keyring)) return keyring;
    const tokens = await callSpotify(ctx, call, 'authorization_code', () =>
      authorizationCodeGrant(ctx.client, { code, redirectUri, codeVerifier }),
    );
    if (isAnswer(tokens)) return tokens;
    let sealed: string | undefined;
    let issuedAt: number | undefined;
    if (tokens.refreshToken === undefined) {
      logger.warn({ requestId: call.requestId }, 'Spotify sent no refresh token with a code');
    } else {
      issuedAt = Math.floor(config.now() / 1000);
      sealed = await sealOrUndefined(ctx, keyring, tokens.refreshToken, issuedAt);
      if (sealed === undefined) return unsealable;
    }
    return {
      status: 200,
      body: {
        access_token: tokens.accessToken,
        token_type: tokens.tokenType,
        expires_in: saneExpiresIn(tokens.expiresIn),
        ...(sealed === undefined || issuedAt === undefined
          ? {}
          : {
              refresh_token: sealed,
              refresh_token_expires_in: refreshTokenExpiresIn(ctx, issuedAt, issuedAt),
            }),
        scope: tokens.scope ?? '',
      },
    };
  };
}
