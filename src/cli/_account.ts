/**
 * `api`, `whoami` and `logout`: everyday use of a profile that `login` stored (`token` is in
 * `_account-run.ts`). Data goes to stdout, messages to stderr.
 */
import { readFile } from 'node:fs/promises';
// The full client, operation table included: it refuses before sending a call the login's
// scopes cannot make, which takes the table.
import { SpotifyWebAPI, WebAPIError } from '../api/index.js';
import { operationAt } from '../api/internal.js';
import type { Session } from '../core/index.js';
import { print } from './_account-run.js';
import { CommandError, EXIT } from './_exit-codes.js';
import { cliFetch } from './_http-fetch.js';
import {
  deleteProfileSettings,
  openProfile,
  type ProfileFlags,
  resolveApiUrl,
} from './_profile.js';
import { withStoredSession } from './_stored-session.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

/**
 * Runs `call` with a Web API client on the stored login (see `withStoredSession`). A Web API error becomes one line
 * naming the status and the request, and for a missing scope the login that adds it.
 */
function withApi<T>(
  flags: ProfileFlags,
  env: NodeJS.ProcessEnv,
  call: (api: SpotifyWebAPI, session: Session) => Promise<T>,
): Promise<T> {
  return withStoredSession(flags, env, async (session, profile) => {
    const apiUrl = resolveApiUrl(env, profile);
    try {
      const options = { fetch: cliFetch, ...(apiUrl === undefined ? {} : { apiUrl }) };
      return await call(new SpotifyWebAPI(options, session), session);
    } catch (error) {
      if (!(error instanceof WebAPIError)) throw error;
      const request = `${error.method} ${error.path}`;
      const advice =
        error.kind === 'insufficient_scope'
          ? ` ${scopeAdvice(request, session.getScope(), profile.name)}`
          : '';
      // No response: the client refused the call before sending it (a scope the login lacks).
      const what =
        error.response === undefined
          ? `${request} was not sent: this login lacks a scope it needs.`
          : `HTTP ${error.status} ${request}: ${error.message}`;
      throw new CommandError(EXIT.failed, `${what}${advice}`, { cause: error });
    }
  });
}

/**
 * What to log in again with after a 403 for a missing scope: the scopes Spotify's reference
 * lists for the operation (generated from its OpenAPI description) that this login lacks,
 * added to the ones it has (a new login replaces the old one). Where the reference lists
 * none, or none is missing, it says so instead of guessing.
 */
export function scopeAdvice(request: string, granted: readonly string[], profile: string): string {
  const [template, listed] = documentedScopes(request) ?? [request, []];
  const missing = listed.filter((scope) => !granted.includes(scope));
  const has = `this login has ${granted.length > 0 ? granted.join(' ') : 'no scope'}`;
  const login = (scopes: string) =>
    `spotify-session login${profile === 'default' ? '' : ` --profile ${profile}`} --scope ${scopes}`;
  if (missing.length > 0) {
    return (
      `Spotify's reference lists ${listed.join(', ')} for ${template}; ${has}. ` +
      `Log in again adding ${missing.join(' ')}: ${login([...granted, ...missing].join(' '))}`
    );
  }
  const listedText =
    listed.length > 0
      ? `already has every scope Spotify's reference lists for ${template} (${listed.join(', ')})`
      : `Spotify's reference lists no scope for ${template}`;
  return (
    `${has}; it ${listedText}. Find the scope on the endpoint's reference page ` +
    `(https://developer.spotify.com/documentation/web-api), then: ${login(`${granted.join(' ')} <scope>`.trim())}`
  );
}

/** The documented `METHOD /template` and its scopes for a concrete `METHOD /path`. */
export function documentedScopes(request: string): [string, readonly string[]] | undefined {
  const [method = '', path = ''] = request.split(' ');
  const operation = operationAt(method, path)?.[1];
  if (operation?.scopes === undefined) return undefined;
  return [`${operation.method} ${operation.path}`, operation.scopes];
}

/** Parses `--query k=v` entries. */
function parseQuery(entries: readonly string[]): Record<string, string> {
  const query: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals <= 0) {
      throw new CommandError(
        EXIT.usage,
        `--query takes key=value (got ${JSON.stringify(entry)}), e.g. --query limit=10`,
      );
    }
    query[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return query;
}

async function readData(data: string): Promise<unknown> {
  let text = data;
  if (data.startsWith('@')) {
    const file = data.slice(1);
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      throw new CommandError(EXIT.usage, `--data ${data}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CommandError(
      EXIT.usage,
      `--data must be JSON (or @file, @- for stdin), e.g. --data '{"name":"My playlist"}'`,
    );
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `api METHOD PATH`: one Web API call with the stored session. */
export async function callApi(
  method: string,
  path: string,
  flags: ProfileFlags & { query?: string[] | undefined; data?: string | undefined },
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const upper = method.toUpperCase();
  if (!(METHODS as readonly string[]).includes(upper)) {
    throw new CommandError(
      EXIT.usage,
      `METHOD must be one of ${METHODS.join(', ')} (got ${method})`,
    );
  }
  if (!path.startsWith('/') || path.startsWith('//')) {
    throw new CommandError(
      EXIT.usage,
      `PATH must start with one "/" and leave out /v1, e.g. /me or /me/player (got ${path})`,
    );
  }
  const query = parseQuery(flags.query ?? []);
  const body = flags.data === undefined ? undefined : await readData(flags.data);
  const result = await withApi(flags, env, (api) =>
    api.request<unknown>(upper as Method, path, {
      ...(Object.keys(query).length > 0 ? { query } : {}),
      ...(body === undefined ? {} : { body }),
    }),
  );
  print(result, process.stdout.isTTY === true);
}

/** `whoami`: the logged-in user. */
export async function whoami(
  flags: ProfileFlags & { json?: boolean | undefined },
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const { me, loginEnd } = await withApi(flags, env, async (api, session) => ({
    me: (await api.me()) as { id: string; display_name?: string | null; email?: string },
    loginEnd: session.getRefreshTokenExpiresAt(),
  }));
  if (flags.json === true) {
    print(me, process.stdout.isTTY === true);
    return;
  }
  const name = me.display_name ?? me.id;
  // Spotify ends every login six months after it began, however often it is refreshed.
  const validUntil =
    loginEnd === undefined
      ? 'unknown (this login was stored by an older version; run `spotify-session login` to start one whose end is known)'
      : new Date(loginEnd * 1000).toISOString();
  process.stdout.write(`${name} (${me.id})\nlogin valid until ${validUntil}\n`);
}

/** `logout`: forgets the profile's tokens and settings. */
export async function logout(flags: ProfileFlags, env: NodeJS.ProcessEnv): Promise<void> {
  const profile = await openProfile(flags, env);
  const had = (await profile.store.get(profile.name)) !== undefined;
  await profile.store.delete(profile.name);
  await deleteProfileSettings(profile);
  process.stderr.write(
    `${had ? 'Forgot' : 'There were no'} tokens of profile "${profile.name}". ` +
      'To take the app’s access away from your Spotify account as well, remove it at https://www.spotify.com/account/apps/\n',
  );
}
