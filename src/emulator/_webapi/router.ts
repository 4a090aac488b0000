/**
 * The Web API under `/v1`: finds the operation, checks the bearer token the
 * way Spotify does, then runs the emulated route or answers 501.
 */
import type { Context, Hono } from 'hono';
import type { cors } from 'hono/cors';
import { readBoundedText } from '../_body.js';
import type { AccessTokenInfo } from '../_state.js';
import type { Route, TokenContext, WebApiContext } from './context.js';
import {
  forbidden,
  INSUFFICIENT_SCOPE_MESSAGE,
  invalidToken,
  MALFORMED_AUTH_MESSAGE,
  NOT_ALLOWLISTED_MESSAGE,
  USER_REQUIRED_MESSAGE,
  webApiError,
} from './errors.js';
import { matchOperation } from './operations.js';
import { ParamError } from './params.js';
import { CATALOGUE_ROUTES } from './routes-catalogue.js';
import { ME_ROUTES } from './routes-me.js';
import { PLAYER_ROUTES } from './routes-player.js';
import { PLAYLIST_ROUTES } from './routes-playlists.js';
import type { WebApiState } from './state.js';
import { WITHDRAWN, withdrawnAnswer } from './withdrawn.js';

/** Path prefix of the Web API. */
export const WEB_API_PREFIX = '/v1';

/** Largest JSON body a Web API route reads. */
const MAX_JSON_BYTES = 256 * 1024;

/** Every emulated operation, by `"METHOD /template"`. */
export const ROUTES: Readonly<Record<string, Route>> = {
  ...CATALOGUE_ROUTES,
  ...ME_ROUTES,
  ...PLAYLIST_ROUTES,
  ...PLAYER_ROUTES,
};

/** What the router needs from the rest of the emulator. */
export interface WebApiDeps {
  state: WebApiState;
  now(): number;
  lookupToken(token: string): AccessTokenInfo | undefined;
}

/**
 * The stats key of a Web API request: its operation's template
 * (`GET /v1/tracks/{id}`), so ids never grow the stats; `undefined` when no
 * operation has that path.
 */
export function webApiStatsKey(method: string, path: string): string | undefined {
  const match = matchOperation(method, path.slice(WEB_API_PREFIX.length));
  if (match.kind === 'operation') return `${method} ${WEB_API_PREFIX}${match.operation.template}`;
  return undefined;
}

/**
 * Reads `Authorization` as Spotify does: anything but `Bearer <token>` is a
 * 400; a missing or empty bearer, an unknown or expired token a 401.
 */
function authenticate(request: Request, deps: WebApiDeps): TokenContext | Response {
  const header = request.headers.get('Authorization');
  if (header === null) return invalidToken();
  const match = /^(\S+)(?:[ \t]+(.*))?$/.exec(header.trim());
  if (match === null) return invalidToken();
  const [, scheme = '', rest = ''] = match;
  if (scheme.toLowerCase() !== 'bearer') return webApiError(400, MALFORMED_AUTH_MESSAGE);
  const token = rest.trim();
  if (token === '') return invalidToken();
  if (/\s/.test(token)) return webApiError(400, MALFORMED_AUTH_MESSAGE);
  const info = deps.lookupToken(token);
  if (info === undefined || info.expiresAt <= deps.now()) return invalidToken();
  return {
    clientId: info.clientId,
    userId: info.userId,
    scopes: new Set(info.scopes),
    extendedQuota: deps.state.extendedQuota.has(info.clientId),
  };
}

async function handle(c: Context, deps: WebApiDeps): Promise<Response> {
  const request = c.req.raw;
  const url = new URL(request.url);
  const match = matchOperation(request.method, url.pathname.slice(WEB_API_PREFIX.length));
  if (match.kind === 'none') return webApiError(404, 'Service not found');
  if (match.kind === 'method')
    return webApiError(405, 'Method not allowed', { headers: { Allow: match.allowed.join(', ') } });

  const token = authenticate(request, deps);
  if (token instanceof Response) return token;
  if (token.userId !== undefined && deps.state.notAllowlisted.has(token.userId))
    return forbidden(NOT_ALLOWLISTED_MESSAGE);

  const { key } = match.operation;
  // Withdrawn for this app (Development Mode): Spotify's refusal comes before any other check.
  if (WITHDRAWN.has(key) && !token.extendedQuota) return withdrawnAnswer(key);
  const route = ROUTES[key];
  if (route === undefined) return webApiError(501, `Not emulated: ${key} (see docs/emulator.md)`);
  if (route.user === true && token.userId === undefined)
    return webApiError(401, USER_REQUIRED_MESSAGE);
  if (route.anyScope !== undefined && !route.anyScope.some((scope) => token.scopes.has(scope)))
    return forbidden(INSUFFICIENT_SCOPE_MESSAGE);

  const context: WebApiContext = {
    request,
    url,
    links: { api: `${url.origin}${WEB_API_PREFIX}` },
    params: match.params,
    token,
    userId: token.userId ?? '',
    state: deps.state,
    now: deps.now,
    async json() {
      const text = await readBoundedText(request, MAX_JSON_BYTES);
      if (text === undefined)
        throw new ParamError(
          'Request entity too large',
          webApiError(413, 'Request entity too large', { headers: { Connection: 'close' } }),
        );
      if (text.trim() === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new ParamError('Error parsing JSON.');
      }
    },
  };
  try {
    return await route.handle(context);
  } catch (error) {
    if (error instanceof ParamError) return error.response;
    throw error;
  }
}

/** CORS of the Web API: browser apps call it directly, with a bearer token and no cookies. */
export const WEB_API_CORS: NonNullable<Parameters<typeof cors>[0]> = {
  origin: '*',
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
  allowHeaders: ['Authorization', 'Content-Type'],
  exposeHeaders: ['Retry-After'],
  maxAge: 600,
};

/** Registers `/v1/*` (the caller adds {@link WEB_API_CORS} before its fault middleware). */
export function registerWebApi(app: Hono, deps: WebApiDeps): void {
  app.all(WEB_API_PREFIX, () => webApiError(404, 'Service not found'));
  app.all(`${WEB_API_PREFIX}/*`, (c) => handle(c, deps));
}
