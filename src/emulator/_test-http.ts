/**
 * Raw-HTTP helpers for the emulator's tests: plain `fetch`, no library code,
 * so the tests check the wire exactly as a client sees it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DEMO_APP } from './_options.js';

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
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(`${base}/__emulator${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
