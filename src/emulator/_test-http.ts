/**
 * Raw-HTTP helpers for the emulator's tests: plain `fetch`, no library code,
 * so the tests check the wire exactly as a client sees it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DEMO_APP } from './_options.js';
import { STANDARD_SCOPES } from './_scopes.js';

export const CLIENT_ID = DEMO_APP.clientId;
export const CLIENT_SECRET = DEMO_APP.clientSecret;
export const REDIRECT_URI = 'http://127.0.0.1:8888/callback';

export function basic(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
}

export interface PkcePair {
  verifier: string;
  challenge: string;
}

export function pkcePair(): PkcePair {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** `${base}/authorize?…` with the demo app's defaults, `undefined` values left out. */
export function authorizeUrl(
  base: string,
  params: Record<string, string | undefined> = {},
): string {
  const url = new URL('/authorize', base);
  const all: Record<string, string | undefined> = {
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    ...params,
  };
  for (const [name, value] of Object.entries(all))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

/** GET /authorize without following the redirect. */
export function authorize(
  base: string,
  params: Record<string, string | undefined> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(authorizeUrl(base, params), { redirect: 'manual', headers });
}

/** The query of a 302's Location. */
export function locationOf(response: Response): URL {
  const location = response.headers.get('Location');
  if (location === null) throw new Error(`expected a redirect, got ${response.status}`);
  return new URL(location);
}

/** A code from an auto-approving emulator. */
export async function codeFor(
  base: string,
  params: Record<string, string | undefined> = {},
): Promise<string> {
  const response = await authorize(base, params);
  const code = locationOf(response).searchParams.get('code');
  if (code === null) throw new Error(`no code in ${response.headers.get('Location')}`);
  return code;
}

export interface TokenAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POST /api/token with a form body. */
export async function token(
  base: string,
  form: Record<string, string>,
  init: { authorization?: string; contentType?: string; body?: string } = {},
): Promise<TokenAnswer> {
  const headers: Record<string, string> = {
    'Content-Type': init.contentType ?? 'application/x-www-form-urlencoded',
  };
  if (init.authorization !== undefined) headers.Authorization = init.authorization;
  const response = await fetch(`${base}/api/token`, {
    method: 'POST',
    headers,
    body: init.body ?? new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** Exchanges a code as a confidential client (Basic auth). */
export function exchange(base: string, code: string, redirectUri = REDIRECT_URI) {
  return token(
    base,
    { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
    { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
  );
}

/** JSON request to the control API. */
export async function control(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  // Every control write says JSON, even without a body.
  const init: RequestInit =
    method === 'GET' ? { method } : { method, headers: { 'Content-Type': 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${base}/__emulator${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Logs `user` in through the consent form (`GET /authorize`, then
 * `POST /authorize/decision` with `decision=agree`) and exchanges the code:
 * the user's access token with `scopes`. Works on an emulator without
 * `autoApprove`.
 */
export async function userToken(
  base: string,
  scopes: readonly string[],
  user = 'demo-user',
): Promise<{ accessToken: string; refreshToken: string }> {
  const page = await authorize(base, { scope: scopes.join(' '), show_dialog: 'true' });
  const html = await page.text();
  const transaction = /name="transaction" value="([^"]+)"/.exec(html)?.[1];
  let code: string | null;
  if (transaction === undefined) {
    // An auto-approving emulator redirected at once.
    code = locationOf(page).searchParams.get('code');
  } else {
    const decided = await fetch(`${base}/authorize/decision`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ transaction, decision: 'agree', user }).toString(),
    });
    code = locationOf(decided).searchParams.get('code');
  }
  if (code === null) throw new Error('no code');
  const answer = await exchange(base, code);
  return {
    accessToken: String(answer.body.access_token),
    refreshToken: String(answer.body.refresh_token),
  };
}

/** A client-credentials (app) token of the demo app. */
export async function appToken(base: string): Promise<string> {
  const answer = await token(
    base,
    { grant_type: 'client_credentials' },
    { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
  );
  return String(answer.body.access_token);
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or `undefined` for an empty body. */
  body: unknown;
}

/** A Web API request with a bearer token (`null`: no `Authorization` header). */
export async function api(
  base: string,
  accessToken: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const all: Record<string, string> = { ...headers };
  if (accessToken !== null) all.Authorization = `Bearer ${accessToken}`;
  const init: RequestInit = { method, headers: all };
  if (body !== undefined) {
    all['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`${base}/v1${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

/**
 * Every standard scope a user token can carry, for tests that are not about scopes (the
 * playback SDK and image-upload scopes are left out: no emulated endpoint asks for them).
 */
export const ALL_USER_SCOPES: readonly string[] = STANDARD_SCOPES.filter(
  (scope) => !['ugc-image-upload', 'app-remote-control', 'streaming'].includes(scope),
);
