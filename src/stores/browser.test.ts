/**
 * BrowserStore on stand-ins: a fake Storage, fake-indexeddb and a fake Web Locks manager
 * whose "tabs" can crash (test/support/fake-browser.ts); BroadcastChannel is Node's own.
 * Each "tab" is its own BrowserStore (and Session) sharing only the storage and the locks,
 * as tabs share only the origin's storage. Real Chromium runs the same flows in
 * test/e2e/browser-*.test.ts.
 */
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeLockManager, FakeStorage, type FakeTab } from '../../test/support/fake-browser.js';
import { rejection } from '../../test/support/rejection.js';
import { syncTabs } from '../browser/index.js';
import {
  AbortedError,
  ConfigurationError,
  InvalidArgumentError,
  LockTimeoutError,
  Session,
  type SessionTokens,
  StoreError,
} from '../core/index.js';
import { createEmulator, DEMO_APP, type Emulator } from '../emulator/index.js';
import { BrowserStore, type BrowserStoreOptions } from './browser.js';

const KEY = 'me';
const open: BrowserStore[] = [];

afterEach(() => {
  for (const store of open.splice(0)) store.close();
});

/** A new store in a new "tab" of the same origin. */
function tabStore(
  shared: { storage: BrowserStoreOptions['storage']; locks: FakeLockManager },
  options: Partial<BrowserStoreOptions> = {},
): { store: BrowserStore; tab: FakeTab } {
  const tab = shared.locks.tab();
  const store = new BrowserStore({ storage: shared.storage, locks: tab.locks, ...options });
  open.push(store);
  return { store, tab };
}

function origin(kind: 'indexedDB' | 'storage') {
  return kind === 'indexedDB'
    ? {
        storage: 'indexedDB' as const,
        indexedDB: new IDBFactory(),
        locks: new FakeLockManager(),
      }
    : { storage: new FakeStorage().asStorage(), locks: new FakeLockManager() };
}

function tabOf(shared: ReturnType<typeof origin>, options: Partial<BrowserStoreOptions> = {}) {
  return tabStore(
    shared,
    'indexedDB' in shared ? { indexedDB: shared.indexedDB, ...options } : options,
  );
}

/** Resolves once `check` holds, polling (the channel delivers asynchronously). */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.each(['indexedDB', 'storage'] as const)('BrowserStore on %s', (kind) => {
  it('returns a JSON copy of whatever was set, under its own name only', async () => {
    const shared = origin(kind);
    const { store } = tabOf(shared);
    const { store: other } = tabOf(shared);
    const { store: otherApp } = tabOf(shared, { name: 'other-app' });
    // Opaque: a value the Session may write that is not SessionTokens passes unchanged.
    const value = { refused: true, at: 1_700_000_000, nested: { list: [1, 'two'] } };
    await store.set(KEY, value as unknown as SessionTokens);
    const read = await other.get(KEY);
    expect(read).toEqual(value);
    expect(read).not.toBe(value);
    await expect(otherApp.get(KEY)).resolves.toBeUndefined();
    await store.delete(KEY);
    await expect(other.get(KEY)).resolves.toBeUndefined();
    await expect(store.delete('never-set')).resolves.toBeUndefined();
  });

  it('refuses what JSON cannot keep, and bad keys', async () => {
    const { store } = tabOf(origin(kind));
    await expect(store.set(KEY, { n: 1n } as unknown as SessionTokens)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(store.set(KEY, undefined as unknown as SessionTokens)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(store.get('')).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('tells the other tabs the key that changed, never the tokens', async () => {
    const shared = origin(kind);
    const { store: writer } = tabOf(shared);
    const { store: reader } = tabOf(shared);
    const heard: string[] = [];
    const own: string[] = [];
    const stop = reader.subscribe((key) => heard.push(key));
    writer.subscribe((key) => own.push(key));
    const raw: unknown[] = [];
    const spy = new BroadcastChannel(`spotify-session-store:${writer.name}`);
    spy.onmessage = (event) => raw.push(event.data);
    try {
      await writer.set(KEY, { accessToken: 'BQ-secret', refreshToken: 'AQ-secret' });
      await writer.delete(KEY);
      await eventually(() => heard.length === 2 && raw.length === 2, 'two announcements');
      expect(heard).toEqual([KEY, KEY]);
      expect(own).toEqual([]);
      expect(JSON.stringify(raw)).not.toContain('secret');
      stop();
      await writer.set(KEY, { accessToken: 'BQ2' });
      await eventually(() => raw.length === 3, 'a third announcement');
      expect(heard).toHaveLength(2);
    } finally {
      spy.close();
    }
  });

  it('locks across tabs: first come first served, released, or freed by a crash', async () => {
    const shared = origin(kind);
    const { store: a, tab: tabA } = tabOf(shared);
    const { store: b } = tabOf(shared);
    const { store: c } = tabOf(shared);
    const held = await a.lock(KEY, { ttl: 1_000, wait: 1_000 });
    await expect(held.extend(1_000)).resolves.toBe(true);
    // wait: 0 tries once; a short wait times out; an abort ends the wait.
    expect(await rejection(b.lock(KEY, { ttl: 1_000, wait: 0 }))).toBeInstanceOf(LockTimeoutError);
    expect(await rejection(b.lock(KEY, { ttl: 1_000, wait: 30 }))).toBeInstanceOf(LockTimeoutError);
    const controller = new AbortController();
    const aborted = b.lock(KEY, { ttl: 1_000, wait: 60_000, signal: controller.signal });
    controller.abort(new Error('user left'));
    expect(await rejection(aborted)).toBeInstanceOf(AbortedError);
    // Another key is free.
    await (await b.lock('someone-else', { ttl: 1_000, wait: 0 })).release();

    const order: string[] = [];
    const bWaits = b.lock(KEY, { ttl: 1_000, wait: 60_000 }).then((lock) => {
      order.push('b');
      return lock;
    });
    const cWaits = c.lock(KEY, { ttl: 1_000, wait: 60_000 }).then((lock) => {
      order.push('c');
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual([]);
    // ttl means nothing to a Web Lock: only the tab's end frees it without a release.
    tabA.crash();
    const bLock = await bWaits;
    expect(order).toEqual(['b']);
    await bLock.release();
    await bLock.release(); // a second release does nothing
    await expect(bLock.extend(1_000)).resolves.toBe(false);
    await (await cWaits).release();
    expect(order).toEqual(['b', 'c']);
  });

  it('knows when its lock was stolen', async () => {
    const shared = origin(kind);
    const { store } = tabOf(shared);
    const thief = shared.locks.tab();
    const held = await store.lock(KEY, { ttl: 1_000, wait: 1_000 });
    await thief.locks.request(`${store.name}:${KEY}`, { steal: true }, async () => {});
    await expect(held.extend(1_000)).resolves.toBe(false);
    await held.release();
  });

  it('checks lock options like every store', async () => {
    const { store } = tabOf(origin(kind));
    expect(
      await rejection(store.lock(KEY, { ttl: 0, wait: 1 } as { ttl: number; wait: number })),
    ).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('BrowserStore failures say what to do', () => {
  it('without Web Locks (an http:// page that is not 127.0.0.1 or localhost)', () => {
    const error = (() => {
      try {
        new BrowserStore({ storage: new FakeStorage().asStorage() });
      } catch (caught) {
        return caught as ConfigurationError;
      }
      throw new Error('expected a ConfigurationError');
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.option).toBe('locks');
    expect(error.message).toContain('secure context');
    expect(error.message).toContain('MemoryStore');
  });

  it('refuses localStorage, which tabs do not read consistently', () => {
    const localStorage = new FakeStorage().asStorage();
    const previous = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
    Object.defineProperty(globalThis, 'localStorage', { value: localStorage, configurable: true });
    try {
      const locks = new FakeLockManager().tab().locks;
      expect(() => new BrowserStore({ storage: localStorage, locks })).toThrow(
        /localStorage cannot hold tokens that tabs share.*sessionStorage/,
      );
      expect(() => new BrowserStore({ storage: 'local' as 'indexedDB', locks })).toThrow(
        ConfigurationError,
      );
      expect(() => new BrowserStore({ locks })).toThrow(/IndexedDB/);
    } finally {
      if (previous === undefined) Reflect.deleteProperty(globalThis, 'localStorage');
      else Object.defineProperty(globalThis, 'localStorage', previous);
    }
  });

  it('a full storage, a corrupt value', async () => {
    const storage = new FakeStorage();
    const store = new BrowserStore({
      storage: storage.asStorage(),
      locks: new FakeLockManager().tab().locks,
    });
    open.push(store);
    storage.failWith = new DOMException('full', 'QuotaExceededError');
    const full = await rejection(store.set(KEY, { accessToken: 'BQ-secret' }));
    expect(full).toBeInstanceOf(StoreError);
    expect(full.message).toContain('no storage left');
    expect(full.message).not.toContain('BQ-secret');
    storage.failWith = undefined;
    storage.setItem(`spotify-session:${KEY}`, '{not json');
    const corrupt = await rejection(store.get(KEY));
    expect(corrupt).toBeInstanceOf(StoreError);
    expect(corrupt.message).toContain('store.delete("me")');
  });

  it('an IndexedDB that cannot be opened (blocked storage), then recovers', async () => {
    const factory = new IDBFactory();
    const failing = {
      open: (...args: Parameters<IDBFactory['open']>) => {
        if (failing.fail) throw new DOMException('blocked', 'SecurityError');
        return factory.open(...args);
      },
      fail: true,
    };
    const store = new BrowserStore({
      indexedDB: failing as unknown as IDBFactory,
      locks: new FakeLockManager().tab().locks,
    });
    open.push(store);
    const error = await rejection(store.get(KEY));
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toContain('sessionStorage');
    failing.fail = false;
    await store.set(KEY, { accessToken: 'BQ' });
    await expect(store.get(KEY)).resolves.toEqual({ accessToken: 'BQ' });
  });
});

/** A user logged in on the emulator: tokens as the Session stores them, already expired. */
async function expiredLogin(emulator: Emulator, accountsUrl: string): Promise<SessionTokens> {
  const url = new URL(`${accountsUrl}/authorize`);
  url.searchParams.set('client_id', DEMO_APP.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', 'http://127.0.0.1:8888/callback');
  const response = await emulator.fetch(new Request(url));
  const code = new URL(response.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const session = new Session({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUri: 'http://127.0.0.1:8888/callback',
    accountsUrl,
    fetch: (input, init) => emulator.fetch(new Request(input, init)),
  });
  await session.requestAccessToken(code);
  return { ...session.toJSON(), expiresAt: Math.floor(Date.now() / 1000) - 10 };
}

describe.each(['indexedDB', 'storage'] as const)('Sessions in several tabs on %s', (kind) => {
  const accountsUrl = 'http://127.0.0.1:9';

  function tabSession(shared: ReturnType<typeof origin>, emulator: Emulator) {
    const { store, tab } = tabOf(shared);
    const heard: SessionTokens[] = [];
    const session = new Session({
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      accountsUrl,
      fetch: (input, init) => emulator.fetch(new Request(input, init)),
      store,
      storeKey: KEY,
      onTokens: (tokens) => heard.push(tokens),
    });
    syncTabs(session, store, { onTokens: (tokens) => heard.push(tokens) });
    return { session, store, tab, heard };
  }

  it('an expired token refreshes once for every tab; every tab hears of it', async () => {
    const emulator = createEmulator({ autoApprove: true, rotation: 'always' });
    const shared = origin(kind);
    const tabs = Array.from({ length: 5 }, () => tabSession(shared, emulator));
    const login = await expiredLogin(emulator, accountsUrl);
    expect(login.authorizedAt).toEqual(expect.any(Number));
    await tabs[0]?.store.set(KEY, login);
    const before = emulator.stats().grants.refresh_token ?? 0;
    const tokens = await Promise.all(
      tabs.flatMap(({ session }) =>
        Array.from({ length: 20 }, () => session.getValidAccessToken()),
      ),
    );
    expect(emulator.stats().grants.refresh_token).toBe(before + 1);
    expect(new Set(tokens).size).toBe(1);
    expect(emulator.lookupAccessToken(tokens[0] as string)).toBeDefined();
    const stored = await tabs[0]?.store.get(KEY);
    await eventually(
      () => tabs.every(({ heard }) => heard.at(-1)?.accessToken === tokens[0]),
      'onTokens in every tab',
    );
    for (const { session } of tabs) expect(session.toJSON()).toEqual(stored);
    // The rotated login still ends six months after the original authorization.
    expect(stored?.refreshToken).not.toBe(login.refreshToken);
    expect(stored?.authorizedAt).toBe(login.authorizedAt);
  });

  it('a tab that crashes holding the lock mid-refresh leaves it to another', async () => {
    const emulator = createEmulator({ autoApprove: true, rotation: 'always' });
    const shared = origin(kind);
    // The first tab's refresh never gets an answer: its request hangs until the tab dies.
    const stuck = tabOf(shared);
    const hanging = new Session({
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      accountsUrl,
      fetch: () => new Promise<Response>(() => {}),
      store: stuck.store,
      storeKey: KEY,
    });
    const other = tabSession(shared, emulator);
    await stuck.store.set(KEY, await expiredLogin(emulator, accountsUrl));
    void hanging.getValidAccessToken().catch(() => {});
    await eventually(() => (shared.locks.grants.get(`spotify-session:${KEY}`) ?? 0) === 1, 'lock');
    const waiting = other.session.getValidAccessToken();
    await new Promise((resolve) => setTimeout(resolve, 20));
    stuck.tab.crash();
    const token = await waiting;
    expect(emulator.lookupAccessToken(token)).toBeDefined();
    expect(emulator.stats().grants.refresh_token).toBe(1);
  });

  it('a logout in one tab logs out the others', async () => {
    const emulator = createEmulator({ autoApprove: true, rotation: 'always' });
    const shared = origin(kind);
    const [a, b] = [tabSession(shared, emulator), tabSession(shared, emulator)];
    const login = await expiredLogin(emulator, accountsUrl);
    await a?.store.set(KEY, { ...login, expiresAt: (login.expiresAt as number) + 3_600 });
    await b?.session.load();
    expect(b?.session.getRefreshToken()).toBe(login.refreshToken);
    await a?.store.delete(KEY);
    await eventually(() => b?.session.getRefreshToken() === undefined, 'the logout in tab b');
    expect(b?.heard.at(-1)).toEqual({});
  });
});
