/**
 * `spotify-session/stores/file`: tokens in JSON files, shared safely by every
 * process of one user on one machine (Node).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ConfigurationError,
  InvalidArgumentError,
  type SessionTokens,
  type SpotifyError,
  StoreError,
  type StoreOperation,
  type TokenStore,
  type TokenStoreLock,
  type TokenStoreLockOptions,
} from '../core/index.js';
import { checkPrivateDirectory, removeFile, writeFileAtomic } from './_fs.js';
import {
  checkKey,
  checkLockOptions,
  checkTtl,
  checkUntil,
  copyTokens,
  pollForLock,
  stillAhead,
} from './_shared.js';
import { defaultDirectory, ioCode, isFileKey, readText, tokenFile } from './file-read.js';

export type { TokenStore, TokenStoreLock, TokenStoreLockOptions } from '../core/index.js';

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /**
   * Directory holding one `<key>.json` file per key (created with mode 0700
   * on first write). Relative paths resolve against the working directory.
   * One that other users may write to (group or world write bit) is refused
   * with a `ConfigurationError` that says to `chmod 700` it.
   * @default FileStore.defaultDirectory()
   */
  directory?: string | undefined;
}

function checkFileKey(key: string): string {
  checkKey(key);
  if (!isFileKey(key)) {
    throw new InvalidArgumentError(
      'key',
      `FileStore keys become file names: use 1–128 letters, digits, ".", "_", "-", "+" or "@", not starting with "." and without ".." or a device name such as "con" (got ${JSON.stringify(key.slice(0, 140))})`,
    );
  }
  return key;
}

/**
 * Keeps each key's tokens in `<directory>/<key>.json` (mode 0600, in a
 * directory created with mode 0700). Writes are atomic — a temporary file in
 * the same directory, flushed to disk, then renamed over the old one — so a
 * reader or a crash never sees half a file. Token files are never read
 * through a symbolic link, and a directory other users may write to is
 * refused.
 *
 * `lock()` works across processes with a `<key>.lock` file created
 * exclusively; a lock whose holder died (same machine, same PID namespace)
 * or whose `ttl` passed is taken over safely. Meant for one machine: on
 * network file systems, prefer `RedisStore`.
 */
export class FileStore implements TokenStore {
  /** The directory the files live in (absolute). */
  readonly directory: string;

  constructor(options: FileStoreOptions = {}) {
    const directory = options.directory ?? FileStore.defaultDirectory();
    if (typeof directory !== 'string' || directory === '') {
      throw new InvalidArgumentError(
        'options.directory',
        'FileStore directory must be a non-empty path (or leave it out for FileStore.defaultDirectory())',
      );
    }
    this.directory = resolve(directory);
  }

  /**
   * Where tokens live by default: `$XDG_CONFIG_HOME/spotify-session` when
   * `XDG_CONFIG_HOME` is set, else `~/Library/Application Support/spotify-session`
   * on macOS, `%APPDATA%\spotify-session` on Windows, `~/.config/spotify-session`
   * elsewhere.
   *
   * @param env - the environment to read. @default process.env
   * @param platform - the platform's conventions to follow. @default process.platform
   * @param home - the user's home directory. @default os.homedir()
   */
  static defaultDirectory(
    env: Readonly<Record<string, string | undefined>> = process.env,
    platform: NodeJS.Platform = process.platform,
    home: string = homedir(),
  ): string {
    return defaultDirectory(env, platform, home);
  }

  /** The file holding `key`'s tokens. */
  fileOf(key: string): string {
    return tokenFile(this.directory, checkFileKey(key));
  }

  /**
   * The file recording the Web API's rate limit on the app `clientId`: `<clientId>.rate-limit`
   * (token files end in `.json`, so no key's tokens can take its place).
   */
  rateLimitFileOf(clientId: string): string {
    return join(this.directory, `${checkFileKey(clientId)}.rate-limit`);
  }

  async get(key: string): Promise<SessionTokens | undefined> {
    const file = this.fileOf(key);
    await this.#checkDirectory('get', key);
    let text: string | undefined;
    try {
      text = await readText(file);
    } catch (error) {
      throw ioError('get', key, file, error);
    }
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new StoreError('get', key, {
        cause: error,
        message: `${file} is not valid JSON (edited by hand, or written by another program): delete it and authorize again to store fresh tokens`,
      });
    }
    try {
      return copyTokens(value);
    } catch (error) {
      throw new StoreError('get', key, {
        cause: error,
        message: `${file} does not hold spotify-session tokens (${(error as Error).message}): delete it and authorize again to store fresh tokens`,
      });
    }
  }

  async set(key: string, tokens: SessionTokens): Promise<void> {
    const file = this.fileOf(key);
    const text = `${JSON.stringify(copyTokens(tokens), null, 2)}\n`;
    await this.#checkDirectory('set', key);
    try {
      await writeFileAtomic(this.directory, file, text);
    } catch (error) {
      throw ioError('set', key, file, error);
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.fileOf(key);
    await this.#checkDirectory('delete', key);
    try {
      await removeFile(file);
    } catch (error) {
      throw ioError('delete', key, file, error);
    }
  }

  /**
   * When the Web API's rate limit on the app `clientId` ends (ms since the epoch), as recorded
   * by any process using this directory; `undefined` when none is, or it has passed.
   * @throws {StoreError} the file could not be read, or holds something else.
   */
  async rateLimitedUntil(clientId: string): Promise<number | undefined> {
    const file = this.rateLimitFileOf(clientId);
    await this.#checkDirectory('get', clientId);
    return stillAhead(await readRateLimit(file, clientId));
  }

  /**
   * Records that the Web API asked the app `clientId` to wait until `until` (ms since the
   * epoch), in `<clientId>.rate-limit`, written atomically. A later time recorded already is
   * kept (when two processes write at the same instant, the last write wins).
   * @throws {StoreError} the file could not be read or written.
   */
  async recordRateLimit(clientId: string, until: number): Promise<void> {
    const file = this.rateLimitFileOf(clientId);
    const next = checkUntil(until);
    await this.#checkDirectory('set', clientId);
    const current = await readRateLimit(file, clientId);
    if (current !== undefined && current >= next) return;
    try {
      await writeFileAtomic(this.directory, file, `${JSON.stringify({ until: next })}\n`);
    } catch (error) {
      throw ioError('set', clientId, file, error);
    }
  }

  /**
   * Holds `key` across processes until `release()` or until `ttl` passes
   * (`extend(ttl)` renews it). Waiters poll with backoff.
   * @throws {LockTimeoutError} still held after `wait` ms.
   * @throws {AbortedError} `signal` aborted first.
   * @throws {StoreError} the lock file could not be created or read.
   */
  async lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock> {
    const lockFile = `${this.fileOf(key).slice(0, -'.json'.length)}.lock`;
    const { ttl, wait, signal } = checkLockOptions(options);
    // Loaded on the first lock: a process that only reads its tokens (the CLI's `api` with a
    // valid token) never needs it.
    const { acquireFileLock, currentHolder, extendFileLock, releaseFileLock } = await import(
      './_file-lock.js'
    );
    await this.#checkDirectory('lock', key);
    const me = currentHolder();
    const owner = await pollForLock(key, wait, signal, async () => {
      try {
        return await acquireFileLock(this.directory, lockFile, ttl, me);
      } catch (error) {
        throw ioError('lock', key, lockFile, error);
      }
    });
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await releaseFileLock(lockFile, owner, me);
        } catch (error) {
          throw ioError('release', key, lockFile, error);
        }
      },
      extend: async (more) => {
        const ms = checkTtl(more, 'ttl');
        if (released) return false;
        try {
          return await extendFileLock(this.directory, lockFile, owner, ms, me);
        } catch (error) {
          throw ioError('lock', key, lockFile, error);
        }
      },
    };
  }

  /** Refuses a directory other users may write to (see `checkPrivateDirectory`). */
  async #checkDirectory(operation: StoreOperation, key: string): Promise<void> {
    try {
      await checkPrivateDirectory(this.directory);
    } catch (error) {
      throw ioError(operation, key, this.directory, error);
    }
  }
}

/** The time recorded in a rate-limit file; `undefined` when there is none. */
async function readRateLimit(file: string, clientId: string): Promise<number | undefined> {
  let text: string | undefined;
  try {
    text = await readText(file);
  } catch (error) {
    throw ioError('get', clientId, file, error);
  }
  if (text === undefined) return undefined;
  let until: unknown;
  try {
    until = (JSON.parse(text) as { until?: unknown } | null)?.until;
  } catch {
    // Not JSON: refused below, like any other content.
  }
  if (typeof until !== 'number' || !Number.isFinite(until)) {
    throw new StoreError('get', clientId, {
      message: `${file} does not hold a rate limit ({"until": ms since the epoch}): delete it`,
    });
  }
  return until;
}

function ioError(
  operation: StoreOperation,
  key: string,
  file: string,
  error: unknown,
): SpotifyError {
  if (error instanceof ConfigurationError) return error;
  const code = ioCode(error);
  const hint =
    code === 'ELOOP'
      ? 'it is a symbolic link, and FileStore does not follow links to tokens (one could point anywhere): delete it and log in again'
      : code === 'EACCES' || code === 'EPERM'
        ? 'check that you own it and its directory (files should be mode 0600, the directory 0700)'
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? 'free some disk space and try again'
          : code === 'EROFS'
            ? 'the file system is read-only: choose another directory'
            : code === 'ENOTDIR' || code === 'EISDIR'
              ? 'something else is in the way of the file or its directory: move it'
              : 'check the file and its directory';
  const verb = { get: 'read', set: 'write', delete: 'delete', lock: 'lock', release: 'unlock' }[
    operation
  ];
  return new StoreError(operation, key, {
    cause: error,
    message: `FileStore could not ${verb} ${file}${code === undefined ? '' : ` (${code})`}: ${hint}`,
  });
}
