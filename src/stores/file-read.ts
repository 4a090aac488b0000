/**
 * The file store's reading side on its own, with nothing of core: where token files live,
 * which keys name one, whether their directory is private, and a read that never follows a
 * symbolic link. `FileStore` is built on these; the CLI's `token` calls them directly, so that
 * it starts without the rest of the store and of core (docs/benchmarks.md, "CLI cold start").
 * Not a package export.
 */
// Not `node:fs`: its ES module facade evaluates every lazy export of fs (streams included),
// which costs the CLI's `token` a few milliseconds of start-up.
import { constants, open, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** Keys become file names: nothing that could leave the directory or hide a file. */
const KEY_PATTERN = /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,127}$/;
/** Names Windows reserves for devices, whatever the extension. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/**
 * Opening for reading never follows a symbolic link in the last component (`ELOOP` instead):
 * a link planted as `<key>.json` or `<key>.lock` cannot make the store read another file.
 * Windows has no such flag (and links there need privileges).
 */
const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** `FileStore.defaultDirectory()` (documented there). */
export function defaultDirectory(
  env: Readonly<Record<string, string | undefined>> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'spotify-session');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'spotify-session');
  if (platform === 'win32') {
    const appData = env.APPDATA;
    return join(
      appData !== undefined && appData !== '' ? appData : join(home, 'AppData', 'Roaming'),
      'spotify-session',
    );
  }
  return join(home, '.config', 'spotify-session');
}

/** Whether the file store takes `key` (a non-empty string) as a file name. */
export function isFileKey(key: string): boolean {
  return KEY_PATTERN.test(key) && !key.includes('..') && !WINDOWS_DEVICE.test(key);
}

/** The file of `key`'s tokens in `directory` (`key` checked by the caller). */
export function tokenFile(directory: string, key: string): string {
  return join(directory, `${key}.json`);
}

/** The `code` of a Node system error (`ENOENT`, `EACCES`…), if any. */
export function ioCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Who besides its owner may write to `directory` (group or world write bit): whoever can write
 * there can swap the token file for their own account's tokens, or plant a lock. `undefined`
 * for nobody, for a directory that does not exist (it is created 0700) or is in the way of
 * nothing, and on Windows (no such mode bits).
 */
export async function othersWhoMayWrite(
  directory: string,
): Promise<{ who: 'every user' | 'its group'; mode: number } | undefined> {
  if (process.platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = (await stat(directory)).mode;
  } catch (error) {
    // Missing, or something else in the way: the operation itself reports that, naming its file.
    if (ioCode(error) === 'ENOENT' || ioCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
  if ((mode & 0o022) === 0) return undefined;
  return { who: (mode & 0o002) !== 0 ? 'every user' : 'its group', mode };
}

/** An open file, not followed through a symbolic link; `undefined` when it does not exist. */
export async function openNoFollow(
  file: string,
): Promise<Awaited<ReturnType<typeof open>> | undefined> {
  try {
    return await open(file, READ_NO_FOLLOW);
  } catch (error) {
    if (ioCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** The file's text (never through a symbolic link), or `undefined` when it does not exist. */
export async function readText(file: string): Promise<string | undefined> {
  const handle = await openNoFollow(file);
  if (handle === undefined) return undefined;
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
