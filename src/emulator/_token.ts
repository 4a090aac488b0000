import type { Context, Hono } from 'hono';
import type { cors } from 'hono/cors';
import { readBoundedText } from './_body.js';
import { constantTimeEqual, sha256Base64url } from './_crypto.js';
import type { EmulatorApp, ResolvedOptions } from './_options.js';
import type { EmulatorState } from './_state.js';

/** Path of the token endpoint. */
export const TOKEN_PATH = '/api/token';

/**
 * CORS of the token endpoint: Spotify lets browser PKCE apps call `/api/token`
 * directly. Any origin, no cookies; `Authorization` is allowed for the
 * preflight a Basic-authenticated request needs; `Retry-After` is readable.
 */
export const TOKEN_CORS: NonNullable<Parameters<typeof cors>[0]> = {
  origin: '*',
  allowMethods: ['POST'],
  allowHeaders: ['Authorization', 'Content-Type'],
  exposeHeaders: ['Retry-After'],
  maxAge: 600,
};

const MAX_BODY_BYTES = 16 * 1024;
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
type GrantType = (typeof GRANT_TYPES)[number];

const JSON_HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
} as const;

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** An RFC 6749 §5.2 error answer (HTTP 400 unless told). */
function oauthError(error: string, description: string, status = 400): Response {
  return json({ error, error_description: description }, status);
}

/** 413 for a body over the cap; the connection closes so the rest of it is never read. */
function tooLarge(): Response {
  const response = unexpectedStatus(413);
  response.headers.set('Connection', 'close');
  return response;
}

/** The body Spotify answered a JSON (or otherwise non-form) body with. */
function unexpectedStatus(status: number): Response {
  return oauthError('server_error', `Unexpected status: ${status}`, status);
}

interface ClientCredentials {
  clientId: string;
  /** `undefined` when none was sent (a public PKCE client). */
  clientSecret: string | undefined;
  /** The secret form-decoded, as RFC 6749 §2.3.1 encodes Basic credentials. */
  clientSecretDecoded: string | undefined;
}

function formDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The Basic credentials, `undefined` when there is no Basic header, `null` when it is malformed. */
function parseBasic(header: string | undefined): ClientCredentials | undefined | null {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (match?.[1] === undefined) return null;
  let decoded: string;
  try {
    const binary = atob(match[1].replace(/-/g, '+').replace(/_/g, '/'));
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(binary, (char) => char.charCodeAt(0)),
    );
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  const secret = decoded.slice(colon + 1);
  return {
    clientId: decoded.slice(0, colon),
    clientSecret: secret,
    clientSecretDecoded: formDecode(secret),
  };
}

/**
 * `POST /api/token`, as Spotify documents it
 * (https://developer.spotify.com/documentation/web-api/tutorials/code-flow,
 * https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens).
 */
export function registerToken(app: Hono, options: ResolvedOptions, state: EmulatorState): void {
  app.post(TOKEN_PATH, async (c) => handleToken(c, options, state));
  app.all(TOKEN_PATH, () => {
    const response = unexpectedStatus(405);
    response.headers.set('Allow', 'POST, OPTIONS');
    return response;
  });
}

async function handleToken(
  c: Context,
  options: ResolvedOptions,
  state: EmulatorState,
): Promise<Response> {
  const contentType = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
  // Counted in bytes while reading, so a chunked body past the cap is refused
  // before it is all in memory.
  const text = await readBoundedText(c.req.raw, MAX_BODY_BYTES);
  if (text === undefined) return tooLarge();
  // An empty body without a type reads as an empty form (so: grant_type is missing).
  if (contentType !== 'application/x-www-form-urlencoded' && !(contentType === '' && text === ''))
    return unexpectedStatus(415);
  const form = new URLSearchParams(text);
  for (const name of new Set(form.keys()))
    if (form.getAll(name).length > 1)
      return oauthError('invalid_request', `${name} parameter must not be repeated`);

  const grantType = form.get('grant_type') ?? '';
  if (grantType === '')
    return oauthError('unsupported_grant_type', 'grant_type parameter is missing');
  if (!(GRANT_TYPES as readonly string[]).includes(grantType))
    return oauthError(
      'unsupported_grant_type',
      'grant_type must be client_credentials, authorization_code or refresh_token',
    );
  state.countGrant(grantType);

  const auth = await authenticateClient(c, form, options);
  if (auth instanceof Response) return auth;
  const { client, authenticated } = auth;

  switch (grantType as GrantType) {
    case 'authorization_code':
      return exchangeCode(form, client, authenticated, options, state);
    case 'refresh_token':
      return refresh(form, client, authenticated, options, state);
    case 'client_credentials':
      if (!authenticated) return oauthError('invalid_client', 'Invalid client secret');
      return json(
        {
          access_token: state.issueAccessToken(client.clientId, undefined, []),
          token_type: 'Bearer',
          expires_in: options.accessTokenLifetime,
        },
        200,
      );
  }
}

/**
 * Finds the client from the Basic header or the body. A missing secret is not
 * an error here: whether a public client may go on depends on the grant.
 */
async function authenticateClient(
  c: Context,
  form: URLSearchParams,
  options: ResolvedOptions,
): Promise<{ client: EmulatorApp; authenticated: boolean } | Response> {
  const basic = parseBasic(c.req.header('Authorization'));
  if (basic === null) return oauthError('invalid_client', 'Invalid client');
  const bodyId = form.get('client_id');
  const bodySecret = form.get('client_secret');
  let credentials: ClientCredentials;
  if (basic !== undefined) {
    // RFC 6749 §2.3: one authentication method per request.
    if (bodySecret !== null)
      return oauthError('invalid_request', 'Only one client authentication method may be used');
    if (bodyId !== null && bodyId !== basic.clientId)
      return oauthError('invalid_client', 'Invalid client');
    credentials = basic;
  } else {
    if (bodyId === null || bodyId === '') return oauthError('invalid_client', 'Invalid client');
    credentials = {
      clientId: bodyId,
      clientSecret: bodySecret ?? undefined,
      clientSecretDecoded: undefined,
    };
  }

  const client = options.apps.get(credentials.clientId);
  if (client === undefined) return oauthError('invalid_client', 'Invalid client');
  if (credentials.clientSecret === undefined) return { client, authenticated: false };
  const matches =
    (await constantTimeEqual(credentials.clientSecret, client.clientSecret)) ||
    (credentials.clientSecretDecoded !== undefined &&
      (await constantTimeEqual(credentials.clientSecretDecoded, client.clientSecret)));
  if (!matches) return oauthError('invalid_client', 'Invalid client secret');
  return { client, authenticated: true };
}

async function exchangeCode(
  form: URLSearchParams,
  client: EmulatorApp,
  authenticated: boolean,
  options: ResolvedOptions,
  state: EmulatorState,
): Promise<Response> {
  const code = form.get('code') ?? '';
  if (code === '') return oauthError('invalid_request', 'code parameter is missing');
  const record = state.codes.get(code);
  // Another app's code is not burnt: only the app it was issued to can spend it.
  if (record === undefined || record.clientId !== client.clientId)
    return oauthError('invalid_grant', 'Invalid authorization code');
  // Single use: any exchange attempt spends the code, so a wrong verifier cannot be retried.
  state.codes.delete(code);
  if (record.expiresAt <= state.now())
    return oauthError('invalid_grant', 'Invalid authorization code');
  if (!authenticated && record.codeChallenge === undefined)
    return oauthError('invalid_client', 'Invalid client secret');
  if ((form.get('redirect_uri') ?? '') !== record.redirectUri)
    return oauthError('invalid_grant', 'Invalid redirect URI');

  const verifier = form.get('code_verifier');
  if (record.codeChallenge !== undefined) {
    if (verifier === null || verifier === '')
      return oauthError('invalid_request', 'code_verifier required');
    if (!CODE_VERIFIER.test(verifier))
      return oauthError(
        'invalid_request',
        'code_verifier must be 43-128 characters of [A-Za-z0-9._~-]',
      );
    if (!(await constantTimeEqual(await sha256Base64url(verifier), record.codeChallenge)))
      return oauthError('invalid_grant', 'code_verifier was incorrect');
  } else if (verifier !== null) {
    // A verifier for a code issued without a challenge cannot be correct.
    return oauthError('invalid_grant', 'code_verifier was incorrect');
  }

  const accessToken = state.issueAccessToken(client.clientId, record.userId, record.scopes);
  const refreshToken = state.issueRefreshToken({
    clientId: client.clientId,
    userId: record.userId,
    scopes: record.scopes,
    authorizedAt: state.now(),
    fromPkce: record.codeChallenge !== undefined,
  });
  return json(
    {
      access_token: accessToken,
      token_type: 'Bearer',
      scope: record.scopes.join(' '),
      expires_in: options.accessTokenLifetime,
      refresh_token: refreshToken,
    },
    200,
  );
}

function refresh(
  form: URLSearchParams,
  client: EmulatorApp,
  authenticated: boolean,
  options: ResolvedOptions,
  state: EmulatorState,
): Response {
  const token = form.get('refresh_token') ?? '';
  if (token === '') return oauthError('invalid_request', 'refresh_token parameter is missing');
  const record = state.refreshTokens.get(token);
  if (record === undefined || record.clientId !== client.clientId)
    return oauthError('invalid_grant', 'Invalid refresh token');
  if (!authenticated && !record.fromPkce)
    return oauthError('invalid_client', 'Invalid client secret');
  if (record.revoked || state.now() >= record.authorizedAt + options.refreshTokenLifetime * 1000)
    return oauthError('invalid_grant', 'Refresh token revoked');

  const body: Record<string, string | number> = {
    access_token: state.issueAccessToken(client.clientId, record.userId, record.scopes),
    token_type: 'Bearer',
    scope: record.scopes.join(' '),
    expires_in: options.accessTokenLifetime,
  };
  const rotate = options.rotation === 'always' || (options.rotation === 'pkce' && record.fromPkce);
  if (rotate) {
    state.refreshTokens.delete(token);
    body.refresh_token = state.issueRefreshToken({
      clientId: record.clientId,
      userId: record.userId,
      scopes: record.scopes,
      authorizedAt: record.authorizedAt,
      fromPkce: record.fromPkce,
    });
  }
  return json(body, 200);
}
