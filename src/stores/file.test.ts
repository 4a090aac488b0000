import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AbortedError,
  InvalidArgumentError,
  LockTimeoutError,
  type SessionTokens,
  StoreError,
} from '../core/index.js';
import { FileStore } from './file.js';

const TOKENS: SessionTokens = {
  accessToken: 'BQaccess',
  refreshToken: 'AQrefresh',
  expiresAt: 1_800_000_000,
  scope: ['user-read-email', 'user-read-private'],
};

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'file-store-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}

describe('FileStore values', () => {
  it('writes one 0600 JSON file per key in a 0700 directory it creates', async () => {
    const directory = join(root, 'nested', 'spotify-session');
    const store = new FileStore({ directory });
    expect(await store.get('default')).toBeUndefined();
    await store.set('default', TOKENS);
    expect(await store.get('default')).toEqual(TOKENS);
    const file = join(directory, 'default.json');
    expect(store.fileOf('default')).toBe(file);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(TOKENS);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    // No temporary file is left behind.
    expect(await readdir(directory)).toEqual(['default.json']);
  });

  it('replaces the file, keeps keys apart, and deletes (twice without error)', async () => {
    const store = new FileStore({ directory: root });
    await store.set('a', TOKENS);
    await store.set('b', { accessToken: 'BQb' });
    await store.set('a', { ...TOKENS, refreshToken: 'AQrotated' });
    expect((await store.get('a'))?.refreshToken).toBe('AQrotated');
    expect(await store.get('b')).toEqual({ accessToken: 'BQb' });
    await store.delete('a');
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    expect(await readdir(root)).toEqual(['b.json']);
  });

  it('makes a file written by someone else private again on the next write', async () => {
    const store = new FileStore({ directory: root });
    await writeFile(join(root, 'k.json'), JSON.stringify(TOKENS), { mode: 0o644 });
    expect(await store.get('k')).toEqual(TOKENS);
    await store.set('k', TOKENS);
    expect((await stat(join(root, 'k.json'))).mode & 0o777).toBe(0o600);
  });

  it('refuses keys that could leave the directory, with a clear error', async () => {
    const store = new FileStore({ directory: root });
    for (const key of [
      '../x',
      'a/b',
      'a\\b',
      '..',
      '.hidden',
      'a..b',
      '',
      'con',
      'NUL.txt',
      'a b',
    ]) {
      await expect(store.set(key, TOKENS), key).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(store.get('../x')).rejects.toThrow(/become file names/);
    await store.set('user@example.com', TOKENS);
    await store.set('work_profile-2', TOKENS);
    expect(await readdir(root)).toHaveLength(2);
  });

  it('says which file is corrupt and what to do', async () => {
    const store = new FileStore({ directory: root });
    await writeFile(join(root, 'broken.json'), '{"accessToken": "BQ', 'utf8');
    const error = await store.get('broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'STORE_FAILED', operation: 'get', key: 'broken' });
    expect((error as Error).message).toContain(join(root, 'broken.json'));
    expect((error as Error).message).toMatch(/not valid JSON.*delete it/);

    await writeFile(join(root, 'other.json'), '{"access_token":"BQ"}', 'utf8');
    await expect(store.get('other')).rejects.toThrow(
      /does not hold spotify-session tokens.*access_token.*delete it/,
    );
  });

  it('turns an unreadable or unwritable path into a StoreError naming the file', async () => {
    const store = new FileStore({ directory: root });
    await mkdir(join(root, 'dir.json'));
    await expect(store.get('dir')).rejects.toThrow(/could not read .*dir\.json \(EISDIR\)/);
    const blocked = new FileStore({ directory: join(root, 'b.json', 'sub') });
    await writeFile(join(root, 'b.json'), 'not a directory');
    const error = await blocked.set('k', TOKENS).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_FAILED', operation: 'set', key: 'k' });
    expect((error as Error).message).toMatch(/could not write .*k\.json \((ENOTDIR|EEXIST)\)/);
    expect((error as Error).message).not.toContain('AQrefresh');
  });

  it('refuses tokens that are not SessionTokens before touching the disk', async () => {
    const store = new FileStore({ directory: root });
    await expect(store.set('k', { expiresAt: 1_800_000_000_000 } as SessionTokens)).rejects.toThrow(
      /milliseconds/,
    );
    expect(await readdir(root)).toEqual([]);
  });
});

describe('FileStore.defaultDirectory', () => {
  it('follows XDG_CONFIG_HOME, then each platform’s convention', () => {
    expect(FileStore.defaultDirectory({ XDG_CONFIG_HOME: '/x/config' }, 'linux', '/home/u')).toBe(
      '/x/config/spotify-session',
    );
    expect(FileStore.defaultDirectory({ XDG_CONFIG_HOME: 'relative' }, 'linux', '/home/u')).toBe(
      '/home/u/.config/spotify-session',
    );
    expect(FileStore.defaultDirectory({}, 'linux', '/home/u')).toBe(
      '/home/u/.config/spotify-session',
    );
    expect(FileStore.defaultDirectory({}, 'darwin', '/Users/u')).toBe(
      '/Users/u/Library/Application Support/spotify-session',
    );
    expect(FileStore.defaultDirectory({ APPDATA: '/c/AppData/Roaming' }, 'win32', '/c')).toBe(
      join('/c/AppData/Roaming', 'spotify-session'),
    );
    expect(new FileStore().directory).toBe(FileStore.defaultDirectory());
  });
});

describe('FileStore lock (one process)', () => {
  it('writes <key>.lock with pid and owner, is exclusive, and release removes it', async () => {
    const store = new FileStore({ directory: root });
    const held = await store.lock('k', { ttl: 10_000, wait: 0 });
    const record = JSON.parse(await readFile(join(root, 'k.lock'), 'utf8'));
    expect(record).toMatchObject({ pid: process.pid, host: hostname() });
    expect(record.owner).toMatch(/^[0-9a-f]{32}$/);
    expect(record.expiresAt).toBeGreaterThan(Date.now());
    expect((await stat(join(root, 'k.lock'))).mode & 0o777).toBe(0o600);

    const error = await store.lock('k', { ttl: 1_000, wait: 60 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toMatchObject({ code: 'LOCK_TIMEOUT', key: 'k', wait: 60 });

    const waiting = store.lock('k', { ttl: 1_000, wait: 5_000 });
    await held.release();
    const next = await waiting;
    await next.release();
    await next.release();
    expect(await readdir(root)).toEqual([]);
  });

  it('gives up when the signal aborts', async () => {
    const store = new FileStore({ directory: root });
    const held = await store.lock('k', { ttl: 10_000, wait: 0 });
    const controller = new AbortController();
    const waiting = store.lock('k', { ttl: 1_000, wait: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await held.release();
  });

  it('takes over an expired lock; the old holder cannot release its successor’s lock', async () => {
    const store = new FileStore({ directory: root });
    const old = await store.lock('k', { ttl: 50, wait: 0 });
    const successor = await store.lock('k', { ttl: 10_000, wait: 2_000 });
    await old.release();
    const record = JSON.parse(await readFile(join(root, 'k.lock'), 'utf8'));
    expect(record.expiresAt).toBeGreaterThan(Date.now() + 5_000);
    await expect(store.lock('k', { ttl: 1_000, wait: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    await successor.release();
  });

  it('takes over at once a lock whose holder process is gone, not one held by a live process', async () => {
    const store = new FileStore({ directory: root });
    const lockFile = join(root, 'k.lock');
    const far = Date.now() + 3_600_000;
    await writeFile(
      lockFile,
      JSON.stringify({ pid: await deadPid(), host: hostname(), owner: 'dead', expiresAt: far }),
    );
    const started = Date.now();
    const held = await store.lock('k', { ttl: 10_000, wait: 2_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(JSON.parse(await readFile(lockFile, 'utf8')).pid).toBe(process.pid);
    await held.release();

    // Same dead pid but another host: the pid says nothing there, so only expiry counts.
    await writeFile(
      lockFile,
      JSON.stringify({ pid: await deadPid(), host: 'elsewhere', owner: 'x', expiresAt: far }),
    );
    await expect(store.lock('k', { ttl: 1_000, wait: 50 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    // A live pid (the parent of this test) on this host is respected.
    await writeFile(
      lockFile,
      JSON.stringify({ pid: process.ppid, host: hostname(), owner: 'x', expiresAt: far }),
    );
    await expect(store.lock('k', { ttl: 1_000, wait: 50 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
  });

  it('recovers an unreadable lock file only after a grace period, and a guard left by a dead process', async () => {
    const store = new FileStore({ directory: root });
    const lockFile = join(root, 'k.lock');
    await writeFile(lockFile, '');
    await expect(store.lock('k', { ttl: 1_000, wait: 50 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    const old = new Date(Date.now() - 10_000);
    await utimes(lockFile, old, old);
    await writeFile(
      `${lockFile}.guard`,
      JSON.stringify({ pid: await deadPid(), host: hostname(), owner: 'g', expiresAt: 0 }),
    );
    const held = await store.lock('k', { ttl: 1_000, wait: 2_000 });
    await held.release();
    expect(await readdir(root)).toEqual([]);
  });

  it('checks its options', async () => {
    const store = new FileStore({ directory: root });
    await expect(store.lock('k', { ttl: -5, wait: 0 })).rejects.toThrow(/options.ttl/);
    await expect(store.lock('../k', { ttl: 5, wait: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(() => new FileStore({ directory: '' })).toThrow(InvalidArgumentError);
  });
});
