/**
 * The Session of a stored login, for `token` when its token needs renewing and for `api` and
 * `whoami`; and how a failure of any account command becomes one line and an exit code.
 * This loads core (the Session, the grants, oauth4webapi): `token` with a valid stored login
 * never comes here.
 */
import {
  isSpotifyError,
  NoRefreshTokenError,
  RefreshTokenRevokedError,
  Session,
  type SessionTokens,
  type SpotifyError,
  type TokenStore,
} from '../core/index.js';
import type { FileStore } from '../stores/file.js';
import { CommandError, EXIT } from './_exit-codes.js';
import {
  openProfile,
  type ProfileFlags,
  type ResolvedProfile,
  resolveAccountsUrl,
  resolveClientId,
} from './_profile.js';

function notLoggedIn(profile: string): CommandError {
  const flag = profile === 'default' ? '' : ` --profile ${profile}`;
  return new CommandError(
    EXIT.notLoggedIn,
    `Not logged in (profile "${profile}"): run \`spotify-session login${flag}\``,
  );
}

/**
 * `store`, whose first `get` answers `tokens` (just read from it) instead of reading the file
 * again: the Session's load is that first read. Every later read, every write, the lock and
 * whatever else the store keeps (the Web API's shared rate limit) go to the store itself, so
 * a refresh still reads under the lock what another process stored.
 */
function withFirstRead(store: FileStore, tokens: SessionTokens): TokenStore {
  let first: SessionTokens | undefined = tokens;
  const get = (key: string) => {
    const answer = first;
    first = undefined;
    return answer === undefined ? store.get(key) : Promise.resolve(answer);
  };
  return new Proxy(store, {
    get(target, name) {
      if (name === 'get') return get;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Call before a command's first request. Node 20 compiles the WebAssembly HTTP parser of its
 * `fetch` (undici's llhttp) a second time, optimised, on a background thread, and its exit
 * waits for that: some 150 ms after a command that made one request has printed (more on a
 * busy machine; docs/benchmarks.md). A command that makes a few requests has no use for the
 * optimised code, so V8 keeps its baseline compiler's. Node 22 and later do not wait, and
 * are left alone; so is `serve`, which never calls this.
 */
export async function skipWasmTierUp(): Promise<void> {
  if (!process.versions.node.startsWith('20.')) return;
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--liftoff-only');
}

/**
 * The Session of a logged-in profile: tokens from its file (read once), every change written
 * back (and awaited) before a token is printed or used.
 */
export async function openStoredSession(
  flags: ProfileFlags,
  env: NodeJS.ProcessEnv,
): Promise<{ session: Session; profile: ResolvedProfile }> {
  await skipWasmTierUp();
  const profile = await openProfile(flags, env);
  const tokens = await profile.store.get(profile.name);
  if (tokens === undefined) throw notLoggedIn(profile.name);
  const clientId = resolveClientId(flags, env, profile);
  if (clientId === undefined) {
    throw new CommandError(
      EXIT.usage,
      'No client id: pass --client-id or set SPOTIFY_CLIENT_ID (the one you logged in with)',
    );
  }
  const accountsUrl = resolveAccountsUrl(env, profile);
  const session = new Session({
    clientId,
    ...(accountsUrl === undefined ? {} : { accountsUrl }),
    store: withFirstRead(profile.store, tokens),
    storeKey: profile.name,
  });
  return { session, profile };
}

/**
 * Runs `use` with the profile's Session, then — whether it succeeded or not — waits for a
 * refresh whose caller gave up (a timeout) to finish storing its answer, so exiting never
 * loses a refresh token Spotify rotated meanwhile.
 */
export async function withStoredSession<T>(
  flags: ProfileFlags,
  env: NodeJS.ProcessEnv,
  use: (session: Session, profile: ResolvedProfile) => Promise<T>,
): Promise<T> {
  const { session, profile } = await openStoredSession(flags, env);
  try {
    return await use(session, profile);
  } finally {
    await session.settled();
  }
}

/** Any failure as one line and an exit code (never a stack trace, never a secret). */
export function toCommandError(error: unknown, profile = 'default'): CommandError {
  if (error instanceof CommandError) return error;
  if (error instanceof RefreshTokenRevokedError || error instanceof NoRefreshTokenError) {
    const flag = profile === 'default' ? '' : ` --profile ${profile}`;
    return new CommandError(
      EXIT.notLoggedIn,
      `The login of profile "${profile}" has expired or was revoked: run \`spotify-session login${flag}\``,
      { cause: error },
    );
  }
  if (isSpotifyError(error)) {
    const spotifyError = error as SpotifyError;
    const usage =
      spotifyError.code === 'INVALID_CONFIGURATION' || spotifyError.code === 'INVALID_ARGUMENT';
    return new CommandError(usage ? EXIT.usage : EXIT.failed, spotifyError.message, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CommandError(EXIT.failed, message, { cause: error });
}
