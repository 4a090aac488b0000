/**
 * What `login`, `token`, `api`, `whoami` and `logout` share: where a profile's tokens and
 * settings live, which client id and URLs to use, and how failures become exit codes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isSpotifyError,
  NoRefreshTokenError,
  RefreshTokenRevokedError,
  Session,
  type SpotifyError,
} from '../core/index.js';
import { FileStore } from '../stores/file.js';
import { CommandError, EXIT } from './_exit-codes.js';

/** Profile names: they become file names, so nothing that could walk the file system. */
const PROFILE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** What a profile remembers besides its tokens, so `token` needs no flags after `login`. */
export interface ProfileSettings {
  clientId: string;
  accountsUrl?: string;
  apiUrl?: string;
}

/** Flags every account command takes. */
export interface ProfileFlags {
  profile?: string | undefined;
  clientId?: string | undefined;
}

/** A profile, resolved from flags, the environment and what `login` saved. */
export interface ResolvedProfile {
  name: string;
  directory: string;
  store: FileStore;
  settings: ProfileSettings | undefined;
}

function validateProfileName(name: string): string {
  if (!PROFILE_PATTERN.test(name)) {
    throw new CommandError(
      EXIT.usage,
      `--profile must be 1–64 letters, digits, "-" or "_" (got ${JSON.stringify(name.slice(0, 70))})`,
    );
  }
  return name;
}

function settingsPath(directory: string, profile: string): string {
  return join(directory, `${profile}.profile.json`);
}

/** Reads the profile named by `--profile`, `SPOTIFY_PROFILE` or `default`. */
export async function openProfile(
  flags: ProfileFlags,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedProfile> {
  const name = validateProfileName(flags.profile ?? env.SPOTIFY_PROFILE ?? 'default');
  const directory = FileStore.defaultDirectory();
  const store = new FileStore({ directory });
  let settings: ProfileSettings | undefined;
  const file = settingsPath(directory, name);
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as ProfileSettings).clientId === 'string'
    ) {
      settings = value as ProfileSettings;
    } else {
      throw new CommandError(
        EXIT.usage,
        `${file} is not a profile file: delete it and run \`spotify-session login\` again`,
      );
    }
  } catch (error) {
    if (error instanceof CommandError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CommandError(
        EXIT.usage,
        `${file} cannot be read (${(error as Error).message}): fix or delete it, then run \`spotify-session login\``,
      );
    }
  }
  return { name, directory, store, settings };
}

/** Writes the profile's settings atomically (mode 0600, like the tokens). */
export async function saveProfileSettings(
  profile: ResolvedProfile,
  settings: ProfileSettings,
): Promise<void> {
  await mkdir(profile.directory, { recursive: true, mode: 0o700 });
  const file = settingsPath(profile.directory, profile.name);
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
}

export async function deleteProfileSettings(profile: ResolvedProfile): Promise<void> {
  await rm(settingsPath(profile.directory, profile.name), { force: true });
}

/** Client id: `--client-id`, then `SPOTIFY_CLIENT_ID`, then the one `login` saved. */
export function resolveClientId(
  flags: ProfileFlags,
  env: NodeJS.ProcessEnv,
  profile: ResolvedProfile,
): string | undefined {
  return flags.clientId ?? nonEmpty(env.SPOTIFY_CLIENT_ID) ?? profile.settings?.clientId;
}

export function resolveAccountsUrl(
  env: NodeJS.ProcessEnv,
  profile: ResolvedProfile,
): string | undefined {
  return nonEmpty(env.SPOTIFY_ACCOUNTS_URL) ?? profile.settings?.accountsUrl;
}

export function resolveApiUrl(
  env: NodeJS.ProcessEnv,
  profile: ResolvedProfile,
): string | undefined {
  return nonEmpty(env.SPOTIFY_API_URL) ?? profile.settings?.apiUrl;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function notLoggedIn(profile: string): CommandError {
  const flag = profile === 'default' ? '' : ` --profile ${profile}`;
  return new CommandError(
    EXIT.notLoggedIn,
    `Not logged in (profile "${profile}"): run \`spotify-session login${flag}\``,
  );
}

/**
 * The Session of a logged-in profile: tokens from its file, every change written back
 * (and awaited) before a token is printed or used.
 */
export async function openStoredSession(
  flags: ProfileFlags,
  env: NodeJS.ProcessEnv,
): Promise<{ session: Session; profile: ResolvedProfile }> {
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
    store: profile.store,
    storeKey: profile.name,
  });
  return { session, profile };
}

/** Any failure as one line and an exit code (never a stack trace, never a secret). */
function toCommandError(error: unknown, profile = 'default'): CommandError {
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

/** Runs a command body: data goes to stdout inside it; failures become one stderr line. */
export async function runCommand(body: () => Promise<void>, profile?: string): Promise<void> {
  try {
    await body();
  } catch (error) {
    const failure = toCommandError(error, profile);
    process.stderr.write(`error: ${failure.message}\n`);
    process.exitCode = failure.exitCode;
  }
}
