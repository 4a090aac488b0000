/** Small file-system steps FileStore builds on (Node). */
// Not `node:fs`: its ES module facade evaluates every lazy export of fs (streams included),
// which costs the CLI's `token` a few milliseconds of start-up (docs/benchmarks.md).
import { constants, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { ownerToken } from './_shared.js';

/**
 * Opening for reading never follows a symbolic link in the last component (`ELOOP` instead):
 * a link planted as `<key>.json` or `<key>.lock` cannot make the store read another file.
 * Windows has no such flag (and links there need privileges).
 */
const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** The `code` of a Node system error (`ENOENT`, `EACCES`…), if any. */
export function ioCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
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

/** Deletes the file; `false` when it was already gone. */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (error) {
    if (ioCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Owner-only directory (0700), created with its parents when missing. */
export async function ensureDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
}

/**
 * Refuses a directory other users may write to (group or world write bit): whoever can write
 * there can swap the token file for their own account's tokens, or plant a lock. A missing
 * directory passes (it is created 0700). Windows has no such mode bits.
 *
 * @throws {ConfigurationError} it is group- or world-writable (the message says how to fix it).
 */
export async function checkPrivateDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  let mode: number;
  try {
    mode = (await stat(directory)).mode;
  } catch (error) {
    // Missing, or something else in the way: the operation itself reports that, naming its file.
    if (ioCode(error) === 'ENOENT' || ioCode(error) === 'ENOTDIR') return;
    throw error;
  }
  if ((mode & 0o022) === 0) return;
  const who = (mode & 0o002) !== 0 ? 'every user' : 'its group';
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  throw new ConfigurationError(
    'directory',
    `FileStore refuses ${directory}: ${who} may write to it (mode ${octal}), and could replace the tokens or plant a lock there. Run \`chmod 700 ${directory}\`, or choose a directory only you can write to.`,
  );
}

/** Flushes a directory entry change (a rename) to disk; not possible everywhere (Windows). */
async function syncDirectory(directory: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Best effort: the rename itself is already atomic.
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Windows refuses to replace a file another process has open for a moment; retry then. */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = ioCode(error);
      const transient = code === 'EPERM' || code === 'EACCES' || code === 'EBUSY';
      if (process.platform !== 'win32' || !transient || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * (attempt + 1)));
    }
  }
}

/**
 * Replaces `file` with `text` atomically: a private (0600) temporary file in
 * the same directory, written and flushed, then renamed over `file`. Readers
 * see the old content or the new, never a mix, and a crash leaves the old one.
 */
export async function writeFileAtomic(
  directory: string,
  file: string,
  text: string,
): Promise<void> {
  await ensureDirectory(directory);
  const temporary = join(dirname(file), `.${basename(file)}.${ownerToken()}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameWithRetry(temporary, file);
  } catch (error) {
    await removeFile(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(directory);
}
