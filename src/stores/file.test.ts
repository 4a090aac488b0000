import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AbortedError,
  ConfigurationError,
  InvalidArgumentError,
  LockTimeoutError,
  type SessionTokens,
  StoreError,
} from '../core/index.js';
import { currentHolder } from './_file-lock.js';
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

describe('FileStore rate limit', () => {
  it('records it in <clientId>.rate-limit (0600, atomic), keeps the later time, forgets it once passed', async () => {
    const store = new FileStore({ directory: join(root, 'tokens') });
    expect(await store.rateLimitedUntil('app')).toBeUndefined();
    const until = Date.now() + 30_000;
    await store.recordRateLimit('app', until);
    await store.recordRateLimit('app', until - 20_000);
    expect(await store.rateLimitedUntil('app')).toBe(until);
    const file = store.rateLimitFileOf('app');
    expect(file).toBe(join(root, 'tokens', 'app.rate-limit'));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ until });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // Another FileStore on the same directory (another process) sees it.
    expect(await new FileStore({ directory: join(root, 'tokens') }).rateLimitedUntil('app')).toBe(
      until,
    );
    await store.recordRateLimit('past', Date.now() - 1);
    expect(await store.rateLimitedUntil('past')).toBeUndefined();
    // A token key cannot collide with it: token files end in .json.
    await store.set('app', TOKENS);
    expect(await store.rateLimitedUntil('app')).toBe(until);
    await writeFile(file, 'junk');
    await expect(store.rateLimitedUntil('app')).rejects.toThrow(
      /app\.rate-limit does not hold a rate limit.*delete it/,
    );
    await expect(store.recordRateLimit('../x', until)).rejects.toBeInstanceOf(InvalidArgumentError);
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
    const here = currentHolder(); // host, PID namespace and boot id of this machine
    await writeFile(
      lockFile,
      JSON.stringify({ ...here, pid: await deadPid(), owner: 'dead', expiresAt: far }),
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
      JSON.stringify({ ...here, pid: process.ppid, owner: 'x', expiresAt: far }),
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
      JSON.stringify({ ...currentHolder(), pid: await deadPid(), owner: 'g', expiresAt: 0 }),
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

describe('FileStore refuses what another user could tamper with', () => {
  it.each([
    ['0777', 0o777, 'every user'],
    ['0770', 0o770, 'its group'],
  ])('refuses a directory with mode %s, saying to chmod 700 it', async (_name, mode, who) => {
    const directory = join(root, 'shared');
    await mkdir(directory);
    await chmod(directory, mode);
    const store = new FileStore({ directory });
    for (const attempt of [
      () => store.get('k'),
      () => store.set('k', TOKENS),
      () => store.delete('k'),
      () => store.lock('k', { ttl: 1_000, wait: 0 }),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ option: 'directory' });
      expect((error as Error).message).toContain(`${who} may write to it`);
      expect((error as Error).message).toContain(`chmod 700 ${directory}`);
    }
    expect(await readdir(directory)).toEqual([]);
    await chmod(directory, 0o700);
    await store.set('k', TOKENS);
    expect(await store.get('k')).toEqual(TOKENS);
  });

  it('does not follow a symbolic link planted as <key>.json, reading or writing', async () => {
    const store = new FileStore({ directory: root });
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    const target = join(elsewhere, 'other.json');
    await writeFile(target, JSON.stringify({ ...TOKENS, refreshToken: 'AQplanted' }));
    await symlink(target, join(root, 'k.json'));
    const error = await store.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/\(ELOOP\): it is a symbolic link/);
    expect((error as Error).message).not.toContain('AQplanted');
    // A write replaces the link itself; the file it pointed to stays as it was.
    await store.set('k', TOKENS);
    expect((await lstat(join(root, 'k.json'))).isSymbolicLink()).toBe(false);
    expect(await store.get('k')).toEqual(TOKENS);
    expect(JSON.parse(await readFile(target, 'utf8')).refreshToken).toBe('AQplanted');
  });
});

describe('FileStore lock: holders elsewhere with the same host name', () => {
  async function heldBy(fields: Record<string, unknown>, expiresInMs: number): Promise<void> {
    await writeFile(
      join(root, 'k.lock'),
      JSON.stringify({
        ...currentHolder(),
        pid: await deadPid(),
        owner: 'other',
        expiresAt: Date.now() + expiresInMs,
        ...fields,
      }),
    );
  }

  it.each([
    ['another PID namespace (a container sharing the directory)', { ns: 'pid:[4026530000]' }],
    ['another boot', { boot: '00000000-0000-4000-8000-000000000000' }],
    [
      'a record that does not say (written by an older version)',
      { ns: undefined, boot: undefined },
    ],
  ])('respects a lock from %s until it expires, whatever its pid', async (_where, fields) => {
    const store = new FileStore({ directory: root });
    await heldBy(fields, 1_500);
    await expect(store.lock('k', { ttl: 1_000, wait: 300 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    const started = Date.now();
    const held = await store.lock('k', { ttl: 1_000, wait: 5_000 });
    expect(Date.now() - started).toBeGreaterThan(700);
    await held.release();
  });

  it('records this process’s PID namespace and boot id (Linux)', async () => {
    const store = new FileStore({ directory: root });
    const held = await store.lock('k', { ttl: 10_000, wait: 0 });
    const record = JSON.parse(await readFile(join(root, 'k.lock'), 'utf8'));
    if (process.platform === 'linux') {
      expect(record.ns).toMatch(/^pid:\[\d+\]$/);
      expect(record.boot).toMatch(/^[0-9a-f-]{36}$/);
    }
    await held.release();
  });
});

describe('FileStore lock extend', () => {
  it('renews the owner’s lock, and answers false once it was lost or released', async () => {
    const store = new FileStore({ directory: root });
    const lockFile = join(root, 'k.lock');
    const held = await store.lock('k', { ttl: 200, wait: 0 });
    const before = JSON.parse(await readFile(lockFile, 'utf8'));
    expect(await held.extend?.(10_000)).toBe(true);
    const after = JSON.parse(await readFile(lockFile, 'utf8'));
    expect(after).toEqual({ ...before, expiresAt: after.expiresAt });
    expect(after.expiresAt).toBeGreaterThan(Date.now() + 9_000);
    expect((await stat(lockFile)).mode & 0o777).toBe(0o600);
    // Renewed: still held long after the first ttl.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(store.lock('k', { ttl: 1_000, wait: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    await held.release();
    expect(await held.extend?.(10_000)).toBe(false);
    expect(await readdir(root)).toEqual([]);

    const expired = await store.lock('k', { ttl: 50, wait: 0 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await expired.extend?.(10_000)).toBe(false); // its ttl passed: lost, not revived
    const successor = await store.lock('k', { ttl: 10_000, wait: 1_000 });
    const theirs = await readFile(lockFile, 'utf8');
    expect(await expired.extend?.(10_000)).toBe(false);
    expect(await readFile(lockFile, 'utf8')).toBe(theirs); // the successor's lock untouched
    await successor.release();
    await expect(held.extend?.(0)).rejects.toThrow(/ttl must be a number of milliseconds/);
  });
});
