/** Small file-system steps FileStore builds on (Node); its reading side is in file-read.ts. */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { ownerToken } from './_shared.js';
import { ioCode, othersWhoMayWrite } from './file-read.js';

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
 * Refuses a directory other users may write to (see `othersWhoMayWrite`).
 *
 * @throws {ConfigurationError} it is group- or world-writable (the message says how to fix it).
 */
export async function checkPrivateDirectory(directory: string): Promise<void> {
  const others = await othersWhoMayWrite(directory);
  if (others === undefined) return;
  const octal = (others.mode & 0o777).toString(8).padStart(4, '0');
  throw new ConfigurationError(
    'directory',
    `FileStore refuses ${directory}: ${others.who} may write to it (mode ${octal}), and could replace the tokens or plant a lock there. Run \`chmod 700 ${directory}\`, or choose a directory only you can write to.`,
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
