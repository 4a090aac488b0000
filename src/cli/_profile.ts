/**
 * What `login`, `token`, `api`, `whoami` and `logout` share about a profile: where its tokens
 * and settings live, and which client id and URLs to use. Light on purpose: `token` with a
 * valid stored login needs no more than this, the file store's reading side and core's token
 * checks (`FileStore` loads when a command opens the profile; `_stored-session.ts` has the
 * Session).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAccessTokenValid, parseSessionTokens, type SessionTokens } from '../core/tokens.js';
import type { FileStore } from '../stores/file.js';
import {
  defaultDirectory,
  isFileKey,
  othersWhoMayWrite,
  readText,
  tokenFile,
} from '../stores/file-read.js';
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

/** The profile named by `--profile`, `SPOTIFY_PROFILE` or `default` (not yet validated). */
export function profileName(flags: ProfileFlags, env: NodeJS.ProcessEnv): string {
  return flags.profile ?? env.SPOTIFY_PROFILE ?? 'default';
}

/** Reads the profile named by `--profile`, `SPOTIFY_PROFILE` or `default`. */
export async function openProfile(
  flags: ProfileFlags,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedProfile> {
  const name = validateProfileName(profileName(flags, env));
  const directory = defaultDirectory();
  const { FileStore } = await import('../stores/file.js');
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
  // node:crypto only here: loading it costs `token` start-up time (docs/benchmarks.md).
  const { randomBytes } = await import('node:crypto');
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

/**
 * The profile's stored tokens when they hold an access token valid for the next minute (the
 * Session's own rule), read with one read of the tokens file and the file store's own checks
 * (its key rule, a private directory, no symbolic link, valid tokens): what `token` prints
 * without a Session. `undefined` in every other case — no login, a token to renew, anything
 * the store would refuse —, where the Session path does it all again and says what is wrong.
 */
export async function readValidStoredTokens(
  flags: ProfileFlags,
  env: NodeJS.ProcessEnv,
): Promise<SessionTokens | undefined> {
  const name = profileName(flags, env);
  if (!PROFILE_PATTERN.test(name) || !isFileKey(name)) return undefined;
  try {
    // FileStore.get's steps, without the store: the directory first, then the file.
    const directory = defaultDirectory();
    if ((await othersWhoMayWrite(directory)) !== undefined) return undefined;
    const text = await readText(tokenFile(directory, name));
    if (text === undefined) return undefined;
    const tokens = parseSessionTokens(JSON.parse(text));
    return isAccessTokenValid(tokens.accessToken, tokens.expiresAt, Date.now())
      ? tokens
      : undefined;
  } catch {
    return undefined;
  }
}
