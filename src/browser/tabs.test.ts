/**
 * syncTabs and logout on stand-ins (a store whose announcements the test makes, a
 * MemoryStore lock standing for another tab's). The cross-tab flows with BrowserStore are in
 * src/stores/browser.test.ts and, in Chromium, test/e2e/browser-tabs.test.ts.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Session, type SessionTokens, StoreError } from '../core/index.js';
import { MemoryStore } from '../stores/index.js';
import { logout, syncTabs } from './index.js';

const KEY = 'me';

/** A MemoryStore that announces like BrowserStore, when the test says so. */
class AnnouncingStore extends MemoryStore {
  readonly #listeners = new Set<(key: string) => void>();
  failGet = false;

  override async get(key: string): Promise<SessionTokens | undefined> {
    if (this.failGet) throw new Error('disk on fire');
    return super.get(key);
  }

  subscribe(listener: (key: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  announce(key = KEY): void {
    for (const listener of this.#listeners) listener(key);
  }

  get listeners(): number {
    return this.#listeners.size;
  }
}

function sessionOn(store: AnnouncingStore): Session {
  return new Session({ clientId: 'id', store, storeKey: KEY });
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

afterEach(() => {
  vi.unstubAllGlobals();
});

// A Session given a store loads core's store part (a module) on first use: load it before
// the tests, whose short ticks wait for a store read, not for a module to load.
beforeAll(() => Session.fromStore(new MemoryStore(), KEY, { clientId: 'id' }));

describe('syncTabs', () => {
  it('re-reads on an announcement and calls onTokens once per change', async () => {
    const store = new AnnouncingStore();
    const session = sessionOn(store);
    const heard: [SessionTokens, unknown][] = [];
    const stop = syncTabs(session, store, {
      onTokens: (tokens, event) => heard.push([tokens, event]),
    });
    await store.set(KEY, { accessToken: 'A1', refreshToken: 'R1' });
    // A burst of announcements: one read at a time, one callback for the one change.
    store.announce();
    store.announce();
    store.announce(KEY);
    await tick();
    expect(session.getAccessToken()).toBe('A1');
    expect(heard).toEqual([
      [
        { accessToken: 'A1', refreshToken: 'R1' },
        { otherTab: true, loggedOut: false },
      ],
    ]);
    store.announce('someone-else'); // nothing changed for this Session
    await tick();
    expect(heard).toHaveLength(1);
    await store.delete(KEY);
    store.announce();
    await tick();
    expect(heard.at(-1)).toEqual([{}, { otherTab: true, loggedOut: true }]);
    stop();
    expect(store.listeners).toBe(0);
  });

  it('hears of tokens the Session took silently (after waiting for the lock)', async () => {
    const store = new AnnouncingStore();
    const session = sessionOn(store);
    const heard: SessionTokens[] = [];
    syncTabs(session, store, { onTokens: (tokens) => heard.push(tokens) });
    await store.set(KEY, { accessToken: 'A2', refreshToken: 'R2' });
    await session.load(); // as an adoption under the lock would: the Session already holds them
    store.announce();
    await tick();
    expect(heard).toEqual([{ accessToken: 'A2', refreshToken: 'R2' }]);
  });

  it('reports failures to onError (reportError by default), and goes on', async () => {
    const store = new AnnouncingStore();
    const session = sessionOn(store);
    const errors: unknown[] = [];
    syncTabs(session, store, { onError: (error) => errors.push(error) });
    store.failGet = true;
    store.announce();
    await tick();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreError);
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (error: unknown) => reported.push(error));
    const other = sessionOn(store);
    syncTabs(other, store, { onTokens: () => {} });
    store.announce();
    await tick();
    expect(reported).toHaveLength(1);
    store.failGet = false;
    await store.set(KEY, { accessToken: 'A3' });
    store.announce();
    await tick();
    expect(other.getAccessToken()).toBe('A3');
  });

  it('re-reads when the page comes back from the back/forward cache', async () => {
    const events = new EventTarget();
    vi.stubGlobal('addEventListener', events.addEventListener.bind(events));
    vi.stubGlobal('removeEventListener', events.removeEventListener.bind(events));
    const store = new AnnouncingStore();
    const session = sessionOn(store);
    const stop = syncTabs(session, store);
    await store.set(KEY, { accessToken: 'A4' });
    events.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: false }));
    await tick();
    expect(session.getAccessToken()).toBeUndefined();
    events.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    await tick();
    expect(session.getAccessToken()).toBe('A4');
    stop();
    await store.set(KEY, { accessToken: 'A5' });
    events.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    await tick();
    expect(session.getAccessToken()).toBe('A4');
  });
});

describe('logout', () => {
  it('waits for a refresh holding the lock elsewhere, then deletes and empties the Session', async () => {
    const store = new AnnouncingStore();
    await store.set(KEY, { accessToken: 'A1', refreshToken: 'R1' });
    const session = await Session.fromStore(store, KEY, { clientId: 'id' });
    const elsewhere = await store.lock(KEY, { ttl: 10_000, wait: 0 });
    const done = logout(session);
    await tick();
    // The other tab's refresh finishes and writes its tokens; only then does the logout run.
    await store.set(KEY, { accessToken: 'A2', refreshToken: 'R2' });
    expect(await store.get(KEY)).toEqual({ accessToken: 'A2', refreshToken: 'R2' });
    await elsewhere.release();
    await done;
    expect(await store.get(KEY)).toBeUndefined();
    expect(session.toJSON()).toEqual({});
  });
});
