/**
 * The Session with a TokenStore: loading, write-before-hand-out, failures,
 * revocation, and refresh coordinated across "processes" (Sessions that
 * share nothing but the store) through the store's lock. Token requests go
 * to the emulator in process, which rotates refresh tokens, so a stale
 * refresh would fail with invalid_grant.
 */
import { describe, expect, it, vi } from 'vitest';
import { createEmulator, DEMO_APP, type Emulator } from '../emulator/index.js';
import {
  ConfigurationError,
  LockTimeoutError,
  RefreshTokenRevokedError,
  StoreError,
  TimeoutError,
  TokenCallbackError,
} from './errors/index.js';
import { authorizationCodeGrant, resolveClientConfig } from './grants.js';
import { Session, type SessionOptions } from './session.js';
import type { TokenStore, TokenStoreLock, TokenStoreLockOptions } from './store.js';
import { parseSessionTokens, refreshTokenFingerprint, type SessionTokens } from './tokens.js';

const ACCOUNTS = 'http://127.0.0.1:9';
const REDIRECT_URI = 'http://127.0.0.1:8888/callback';
const KEY = 'user-1';

/** A Map-backed store; `lockable` adds a lock with ttl and wait, like the real stores. */
class TestStore implements TokenStore {
  readonly data = new Map<string, SessionTokens>();
  readonly log: string[] = [];
  /** When set, `set` rejects with it. */
  failSet: Error | undefined;
  /** When set, `set` waits for it before writing. */
  gateSet: Promise<void> | undefined;

  async get(key: string): Promise<SessionTokens | undefined> {
    this.log.push('get');
    const tokens = this.data.get(key);
    return tokens === undefined ? undefined : structuredClone(tokens);
  }

  async set(key: string, tokens: SessionTokens): Promise<void> {
    this.log.push('set');
    await this.gateSet;
    if (this.failSet !== undefined) throw this.failSet;
    this.data.set(key, parseSessionTokens(structuredClone(tokens)));
  }

  async delete(key: string): Promise<void> {
    this.log.push('delete');
    this.data.delete(key);
  }
}

class LockingStore extends TestStore {
  #holder: { owner: symbol; expires: number } | undefined;
  readonly lockOptions: TokenStoreLockOptions[] = [];
  /** Whether its locks have `extend` (renewal), like the bundled stores. */
  extendable = false;

  async lock(key: string, options: TokenStoreLockOptions): Promise<TokenStoreLock> {
    this.lockOptions.push(options);
    const deadline = Date.now() + options.wait;
    for (;;) {
      const held = this.#holder;
      if (held === undefined || held.expires <= Date.now()) break;
      if (Date.now() >= deadline) throw new LockTimeoutError(key, options.wait);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const owner = Symbol('owner');
    this.#holder = { owner, expires: Date.now() + options.ttl };
    this.log.push('lock');
    const lock: TokenStoreLock = {
      release: async () => {
        if (this.#holder?.owner === owner) this.#holder = undefined;
        this.log.push('release');
      },
    };
    if (this.extendable) {
      lock.extend = async (ttl) => {
        this.log.push('extend');
        const held = this.#holder;
        if (held?.owner !== owner || held.expires <= Date.now()) return false;
        held.expires = Date.now() + ttl;
        return true;
      };
    }
    return lock;
  }

  get locked(): boolean {
    return this.#holder !== undefined;
  }
}

/** A fetch into the emulator in process, counting requests. */
function emulatorFetch(emulator: Emulator) {
  const counter = { requests: 0, gate: undefined as Promise<void> | undefined };
  const fetch = async (url: string, init: RequestInit) => {
    counter.requests += 1;
    await counter.gate;
    return emulator.fetch(new Request(url, init));
  };
  return { fetch, counter };
}

/** A fetch into the emulator that runs `first` before forwarding its first request. */
function afterFirst(emulator: Emulator, first: () => Promise<unknown>) {
  let raced = false;
  return async (url: string, init: RequestInit) => {
    if (!raced) {
      raced = true;
      await first();
    }
    return emulator.fetch(new Request(url, init));
  };
}

/** A user's first tokens from the emulator, as `toJSON()` would hold them. */
async function firstTokens(emulator: Emulator): Promise<SessionTokens> {
  const url = new URL(`${ACCOUNTS}/authorize`);
  url.searchParams.set('client_id', DEMO_APP.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', REDIRECT_URI);
  const response = await emulator.fetch(new Request(url));
  const code = new URL(response.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const config = resolveClientConfig({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    accountsUrl: ACCOUNTS,
    fetch: (input, init) => emulator.fetch(new Request(input, init)),
  });
  const result = await authorizationCodeGrant(config, { code, redirectUri: REDIRECT_URI });
  return {
    accessToken: result.accessToken,
    refreshToken: result.refreshToken as string,
    expiresAt: Math.floor(Date.now() / 1000) + result.expiresIn,
  };
}

function expired(tokens: SessionTokens): SessionTokens {
  return { ...tokens, expiresAt: Math.floor(Date.now() / 1000) - 10 };
}

function sessionOn(
  emulator: Emulator,
  store: TokenStore,
  options: Partial<SessionOptions> = {},
): { session: Session; counter: { requests: number; gate: Promise<void> | undefined } } {
  const { fetch, counter } = emulatorFetch(emulator);
  const session = new Session({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    accountsUrl: ACCOUNTS,
    fetch,
    store,
    storeKey: KEY,
    ...options,
  });
  return { session, counter };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function rotating(): Emulator {
  return createEmulator({ autoApprove: true, rotation: 'always' });
}

describe('Session with a store: loading', () => {
  it('loads the stored tokens before first use, once', async () => {
    const emulator = rotating();
    const store = new TestStore();
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, tokens);
    const { session, counter } = sessionOn(emulator, store);
    expect(session.getAccessToken()).toBeUndefined();
    const all = await Promise.all([session.getValidAccessToken(), session.getValidAccessToken()]);
    expect(all).toEqual([tokens.accessToken, tokens.accessToken]);
    expect(counter.requests).toBe(0);
    expect(store.log).toEqual(['get']);
    expect(session.getRefreshToken()).toBe(tokens.refreshToken);
  });

  it('load() reads again; Session.fromStore() returns a loaded Session', async () => {
    const store = new TestStore();
    store.data.set(KEY, { accessToken: 'A1', refreshToken: 'R1' });
    const session = await Session.fromStore(store, KEY, { clientId: 'id' });
    expect(session.getAccessToken()).toBe('A1');
    store.data.set(KEY, { accessToken: 'A2', refreshToken: 'R2' });
    await session.load();
    expect(session.toJSON()).toEqual({ accessToken: 'A2', refreshToken: 'R2' });
    store.data.delete(KEY);
    await session.load();
    expect(session.toJSON()).toEqual({});
  });

  it('never loads over tokens set or obtained before the first load', async () => {
    const store = new TestStore();
    store.data.set(KEY, { accessToken: 'STORED' });
    const session = new Session({ clientId: 'id', store, storeKey: KEY });
    session.setAccessToken('SET-HERE');
    await expect(session.getValidAccessToken()).resolves.toBe('SET-HERE');
    expect(store.log).toEqual([]);
    await session.save();
    expect(store.data.get(KEY)).toEqual({ accessToken: 'SET-HERE' });
  });

  it('reports a failing or corrupt store as StoreError, and tries again on the next call', async () => {
    const store = new TestStore();
    store.data.set(KEY, { refresh_token: 'typo' } as SessionTokens);
    const session = new Session({ clientId: 'id', store, storeKey: KEY });
    const corrupt = await rejection(session.getValidAccessToken());
    expect(corrupt).toBeInstanceOf(StoreError);
    expect(corrupt).toMatchObject({ code: 'STORE_FAILED', operation: 'get', key: KEY });
    store.data.set(KEY, { accessToken: 'A' });
    await expect(session.getValidAccessToken()).resolves.toBe('A');

    const broken: TokenStore = {
      get: () => Promise.reject(new Error('ECONNRESET')),
      set: async () => {},
      delete: async () => {},
    };
    const error = await rejection(Session.fromStore(broken, KEY, { clientId: 'id' }));
    expect(error).toBeInstanceOf(StoreError);
    expect((error.cause as Error).message).toBe('ECONNRESET');
  });

  it('refuses unusable store options', () => {
    const store = new TestStore();
    const cases: Array<[Partial<SessionOptions>, string]> = [
      [{ store }, 'storeKey'],
      [{ storeKey: KEY }, 'storeKey'],
      [{ store, storeKey: KEY, tokens: {} }, 'tokens'],
      [{ store: { get: async () => undefined } as unknown as TokenStore, storeKey: KEY }, 'store'],
      [{ store, storeKey: KEY, lockTtl: 5_000 }, 'lockTtl'],
      [{ store, storeKey: KEY, lockWait: 0 }, 'lockWait'],
    ];
    for (const [options, option] of cases) {
      const make = () => new Session({ clientId: 'id', ...options });
      expect(make).toThrow(ConfigurationError);
      expect(make).toThrow(expect.objectContaining({ option }));
    }
  });
});

describe('Session with a store: writing', () => {
  it('writes rotated tokens, and hands out the new access token only after the write', async () => {
    const emulator = rotating();
    const store = new TestStore();
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const order: string[] = [];
    const { session } = sessionOn(emulator, store, {
      onTokens: () => {
        order.push('onTokens');
      },
    });
    const write = gate();
    store.gateSet = write.promise;
    const pending = session.getValidAccessToken().then((token) => {
      order.push('token');
      return token;
    });
    await vi.waitFor(() => expect(store.log).toContain('set'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    write.open();
    const token = await pending;
    expect(order).toEqual(['onTokens', 'token']);
    const stored = store.data.get(KEY);
    expect(stored?.accessToken).toBe(token);
    expect(stored?.refreshToken).not.toBe(tokens.refreshToken);
    expect(emulator.lookupAccessToken(token)).toBeDefined();
  });

  it('a failed write is a StoreError; the tokens are kept and written on the next call', async () => {
    const emulator = rotating();
    const store = new TestStore();
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const { session, counter } = sessionOn(emulator, store);
    store.failSet = new Error('disk full');
    const error = await rejection(session.getValidAccessToken());
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'STORE_FAILED', operation: 'set' });
    expect((error.cause as Error).message).toBe('disk full');
    const rotated = session.getRefreshToken();
    expect(rotated).not.toBe(tokens.refreshToken);
    // Still failing: nothing is handed out, no second refresh is sent.
    await expect(session.getValidAccessToken()).rejects.toBeInstanceOf(StoreError);
    store.failSet = undefined;
    const token = await session.getValidAccessToken();
    expect(counter.requests).toBe(1);
    expect(store.data.get(KEY)).toMatchObject({ accessToken: token, refreshToken: rotated });
  });

  it('writes before onTokens, and reports an onTokens failure as TokenCallbackError', async () => {
    const store = new TestStore();
    const session = new Session({
      clientId: 'id',
      clientSecret: 'secret',
      accountsUrl: ACCOUNTS,
      store,
      storeKey: KEY,
      fetch: async () =>
        new Response(JSON.stringify({ access_token: 'APP', token_type: 'Bearer', expires_in: 60 })),
      onTokens: () => {
        throw new Error('cache down');
      },
    });
    await expect(session.requestCredentialsToken()).rejects.toBeInstanceOf(TokenCallbackError);
    expect(store.data.get(KEY)).toMatchObject({ accessToken: 'APP', grant: 'client_credentials' });
  });

  it('renews restored client-credentials tokens with client credentials', async () => {
    const emulator = createEmulator();
    const store = new TestStore();
    const first = sessionOn(emulator, store);
    const app = await first.session.requestCredentialsToken();
    expect(store.data.get(KEY)).toEqual({
      accessToken: app.accessToken,
      expiresAt: app.expiresAt,
      scope: [],
      grant: 'client_credentials',
    });
    store.data.set(KEY, expired(store.data.get(KEY) as SessionTokens));
    const later = sessionOn(emulator, store);
    const token = await later.session.getValidAccessToken();
    expect(token).not.toBe(app.accessToken);
    expect(emulator.stats().grants.client_credentials).toBe(2);
    expect(emulator.lookupAccessToken(token)?.userId).toBeUndefined();

    // A public client cannot renew them; the error says why.
    const publicClient = sessionOn(emulator, store, { clientSecret: undefined });
    store.data.set(KEY, expired(store.data.get(KEY) as SessionTokens));
    const error = await rejection(publicClient.session.getValidAccessToken());
    expect(error).toMatchObject({ code: 'NO_REFRESH_TOKEN' });
    expect(error.message).toContain('clientSecret');
  });
});

describe('Session with a store: revocation', () => {
  it('marks a revoked refresh token refused in the store (no secret kept) and tells onTokens', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    const tokens = await firstTokens(emulator);
    emulator.revokeRefreshToken(tokens.refreshToken as string);
    store.data.set(KEY, expired(tokens));
    const events: unknown[] = [];
    const { session } = sessionOn(emulator, store, {
      onTokens: (_tokens, event) => {
        events.push(event);
      },
    });
    const error = await rejection(session.getValidAccessToken());
    expect(error).toBeInstanceOf(RefreshTokenRevokedError);
    // Not deleted: a marker naming the refused token by its fingerprint, so a late answer
    // for that very token can still be stored (see 'late answers' below).
    expect(store.data.get(KEY)).toEqual({
      refused: await refreshTokenFingerprint(tokens.refreshToken as string),
    });
    expect(store.locked).toBe(false);
    expect(events).toEqual([{ grant: 'refresh_token', rotated: false, revoked: true }]);
    const next = await rejection(session.getValidAccessToken());
    expect(next).toMatchObject({ code: 'NO_REFRESH_TOKEN' });
    expect(next.message).toContain(`"${KEY}"`);
  });
});

describe('Session with a locking store: refresh across processes', () => {
  it('takes the lock with the configured ttl and wait, and releases it', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    const { session } = sessionOn(emulator, store, { lockTtl: 20_000, lockWait: 3_000 });
    await session.getValidAccessToken();
    expect(store.lockOptions).toEqual([{ ttl: 20_000, wait: 3_000 }]);
    // load, lock, re-read (another process may have refreshed), and the compare-and-set:
    // read again, then write.
    expect(store.log).toEqual(['get', 'lock', 'get', 'get', 'set', 'release']);
    expect(store.locked).toBe(false);
  });

  it('uses the tokens another process refreshed while this one waited for the lock', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const other = sessionOn(emulator, store);
    const ours = sessionOn(emulator, store);
    // The other process is mid-refresh, holding the lock.
    const upstream = gate();
    other.counter.gate = upstream.promise;
    const theirs = other.session.getValidAccessToken();
    await vi.waitFor(() => expect(other.counter.requests).toBe(1));
    expect(store.locked).toBe(true);
    const mine = ours.session.getValidAccessToken();
    await new Promise((resolve) => setTimeout(resolve, 20));
    upstream.open();
    const [theirToken, myToken] = await Promise.all([theirs, mine]);
    expect(myToken).toBe(theirToken);
    expect(ours.counter.requests).toBe(0);
    expect(emulator.stats().grants.refresh_token).toBe(1);
    expect(ours.session.getRefreshToken()).toBe(store.data.get(KEY)?.refreshToken);
    expect(emulator.lookupAccessToken(myToken)).toBeDefined();
  });

  it('refreshes with the newer stored refresh token when the stored access token is expired', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const ours = sessionOn(emulator, store);
    await ours.session.load();
    // Another process rotated the token, and its new access token has expired too.
    const other = sessionOn(emulator, store);
    await other.session.getValidAccessToken();
    store.data.set(KEY, expired(store.data.get(KEY) as SessionTokens));
    const rotated = store.data.get(KEY)?.refreshToken;
    const token = await ours.session.getValidAccessToken();
    expect(ours.counter.requests).toBe(1);
    expect(emulator.lookupAccessToken(token)).toBeDefined();
    expect(emulator.stats().grants.refresh_token).toBe(2);
    expect(ours.session.getRefreshToken()).not.toBe(rotated);
    expect(store.data.get(KEY)?.refreshToken).toBe(ours.session.getRefreshToken());
  });

  it('uses a refresh token passed explicitly as given, and stores the result', async () => {
    const store = new LockingStore();
    store.data.set(KEY, { accessToken: 'STORED', refreshToken: 'R-STORED', expiresAt: 4e9 });
    const sent: string[] = [];
    const session = new Session({
      clientId: 'id',
      clientSecret: 'secret',
      accountsUrl: ACCOUNTS,
      store,
      storeKey: KEY,
      fetch: async (_url, init) => {
        sent.push(new URLSearchParams(String(init.body)).get('refresh_token') ?? '');
        return Response.json({ access_token: 'NEW', token_type: 'Bearer', expires_in: 3600 });
      },
    });
    const result = await session.refreshAccessToken('R-GIVEN');
    expect(sent).toEqual(['R-GIVEN']);
    expect(result.accessToken).toBe('NEW');
    expect(store.data.get(KEY)).toMatchObject({ accessToken: 'NEW', refreshToken: 'R-GIVEN' });
  });

  it('one lock and one request for many concurrent callers in one process', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    const { session, counter } = sessionOn(emulator, store);
    const tokens = await Promise.all(
      Array.from({ length: 50 }, () => session.getValidAccessToken()),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(counter.requests).toBe(1);
    expect(store.log.filter((entry) => entry === 'lock')).toHaveLength(1);
  });

  it('fails with LockTimeoutError when the lock stays held, and sends nothing', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    await store.lock(KEY, { ttl: 60_000, wait: 0 });
    const { session, counter } = sessionOn(emulator, store, { lockWait: 50 });
    const error = await rejection(session.getValidAccessToken());
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toMatchObject({ code: 'LOCK_TIMEOUT', key: KEY, wait: 50 });
    expect(counter.requests).toBe(0);
  });

  it('wraps a lock that fails otherwise as StoreError, and releases after a failed refresh', async () => {
    const store = new LockingStore();
    store.data.set(KEY, { refreshToken: 'R', accessToken: 'A', expiresAt: 1 });
    const failing = Object.assign(new TestStore(), {
      lock: () => Promise.reject(new Error('redis gone')),
    });
    failing.data.set(KEY, { refreshToken: 'R' });
    const broken = new Session({ clientId: 'id', store: failing, storeKey: KEY });
    await expect(broken.refreshAccessToken()).rejects.toMatchObject({
      code: 'STORE_FAILED',
      operation: 'lock',
    });

    const session = new Session({
      clientId: 'id',
      accountsUrl: ACCOUNTS,
      store,
      storeKey: KEY,
      fetch: async () => new Response('down', { status: 503 }),
    });
    await expect(session.getValidAccessToken()).rejects.toMatchObject({ code: 'HTTP_ERROR' });
    expect(store.locked).toBe(false);
    expect(store.data.get(KEY)?.refreshToken).toBe('R');
  });
});

describe('Session with a store that cannot lock', () => {
  it('re-reads before refreshing, and uses tokens another process stored', async () => {
    const emulator = rotating();
    const store = new TestStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    const ours = sessionOn(emulator, store);
    await ours.session.load();
    const other = sessionOn(emulator, store);
    const theirs = await other.session.getValidAccessToken();
    await expect(ours.session.getValidAccessToken()).resolves.toBe(theirs);
    expect(ours.counter.requests).toBe(0);
  });

  it('on invalid_grant, takes the refresh token another process rotated in meanwhile', async () => {
    const emulator = rotating();
    const store = new TestStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    const other = sessionOn(emulator, store);
    const { session } = sessionOn(emulator, store, {
      // The other process refreshes between our re-read and our request.
      fetch: afterFirst(emulator, () => other.session.getValidAccessToken()),
    });
    const token = await session.getValidAccessToken();
    expect(token).toBe(store.data.get(KEY)?.accessToken);
    expect(emulator.stats().grants.refresh_token).toBe(2); // theirs, and our refused one
    expect(session.getRefreshToken()).toBe(store.data.get(KEY)?.refreshToken);
    expect(store.data.has(KEY)).toBe(true);
  });
});

/** A raw refresh at the emulator (another device, a check that a stored token still works). */
async function emulatorRefresh(
  emulator: Emulator,
  refreshToken: string,
): Promise<{ status: number; refreshToken: string | undefined }> {
  const response = await emulator.fetch(
    new Request(`${ACCOUNTS}/api/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${DEMO_APP.clientId}:${DEMO_APP.clientSecret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    }),
  );
  const body = (await response.json()) as { refresh_token?: string };
  return { status: response.status, refreshToken: body.refresh_token };
}

/** The stored refresh token still works at the emulator: the login was not lost. */
async function expectWorkingLogin(emulator: Emulator, store: TestStore): Promise<void> {
  const stored = store.data.get(KEY);
  expect(stored?.refreshToken).toBeDefined();
  expect((await emulatorRefresh(emulator, stored?.refreshToken as string)).status).toBe(200);
}

/**
 * A fetch into the emulator whose answers are held back until `release()`: the request
 * reaches the emulator (which answers, and rotates, at once) and the answer waits, as in the
 * socket of a process that was paused.
 */
function heldAnswers(emulator: Emulator) {
  const state = { requests: 0, answered: 0 };
  let open: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    open = resolve;
  });
  const fetch = async (url: string, init: RequestInit) => {
    state.requests += 1;
    const response = await emulator.fetch(new Request(url, init));
    state.answered += 1;
    await released;
    return response;
  };
  return { fetch, state, release: open };
}

describe('Session with a store: a sent refresh is finished and stored, however late', () => {
  it('stores the answer of a slow upstream after its caller got TimeoutError; settled() waits for it', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    store.extendable = true;
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const told: boolean[] = [];
    const { session, counter } = sessionOn(emulator, store, {
      timeout: 100,
      lockTtl: 300,
      onTokens: (_tokens, event) => {
        told.push(event.rotated);
      },
    });
    const upstream = gate();
    counter.gate = upstream.promise;
    const error = await rejection(session.getValidAccessToken());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'TIMEOUT', timeout: 100 });
    // The request goes on, and the lock stays held (renewed) past its ttl while it does.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(store.locked).toBe(true);
    const other = sessionOn(emulator, store, { lockWait: 50 });
    await expect(other.session.getValidAccessToken()).rejects.toBeInstanceOf(LockTimeoutError);
    expect(other.counter.requests).toBe(0);
    let settled = false;
    const waiting = session.settled().then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    upstream.open();
    await waiting;
    expect(store.locked).toBe(false);
    expect(store.log.filter((entry) => entry === 'extend').length).toBeGreaterThanOrEqual(2);
    const stored = store.data.get(KEY);
    expect(stored?.refreshToken).not.toBe(tokens.refreshToken);
    expect(session.getRefreshToken()).toBe(stored?.refreshToken);
    expect(told).toEqual([true]);
    await expectWorkingLogin(emulator, store);
    // The next caller gets the stored token without a request.
    await expect(session.getValidAccessToken()).resolves.toBe(stored?.accessToken);
    expect(counter.requests).toBe(1);
  });

  it('a caller’s signal ends its wait only: the answer is stored', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const { session, counter } = sessionOn(emulator, store);
    const upstream = gate();
    counter.gate = upstream.promise;
    const controller = new AbortController();
    const pending = session.getValidAccessToken({ signal: controller.signal });
    await vi.waitFor(() => expect(counter.requests).toBe(1));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    upstream.open();
    await session.settled();
    expect(store.data.get(KEY)?.refreshToken).not.toBe(tokens.refreshToken);
    await expectWorkingLogin(emulator, store);
  });

  it('a holder paused past its lock: the next holder’s invalid_grant leaves a refused marker, and the late answer is stored over it', async () => {
    const emulator = rotating();
    const store = new LockingStore(); // no extend: the paused holder cannot renew anyway
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const paused = heldAnswers(emulator);
    const { session: holder } = sessionOn(emulator, store, {
      fetch: paused.fetch,
      timeout: 50,
      lockTtl: 150,
    });
    const first = holder.getValidAccessToken();
    await vi.waitFor(() => expect(paused.state.answered).toBe(1)); // Spotify rotated already
    expect(await rejection(first)).toBeInstanceOf(TimeoutError);
    // The lock expires; another process takes it and spends the rotated-away token.
    const events: unknown[] = [];
    const next = sessionOn(emulator, store, {
      lockWait: 5_000,
      onTokens: (_tokens, event) => {
        events.push(event);
      },
    });
    const refused = await rejection(next.session.getValidAccessToken());
    expect(refused).toBeInstanceOf(RefreshTokenRevokedError);
    expect(events).toEqual([{ grant: 'refresh_token', rotated: false, revoked: true }]);
    expect(store.data.get(KEY)).toEqual({
      refused: await refreshTokenFingerprint(tokens.refreshToken as string),
    });
    // The holder resumes: its answer holds the only live refresh token, and is stored.
    paused.release();
    await holder.settled();
    expect(store.data.get(KEY)?.refreshToken).toBe(holder.getRefreshToken());
    expect(store.data.get(KEY)?.refreshToken).not.toBe(tokens.refreshToken);
    expect(store.log.filter((entry) => entry === 'lock').length).toBe(3); // holder, next, holder again
    expect(store.locked).toBe(false);
    await expectWorkingLogin(emulator, store);
  });

  it('a late answer never overwrites a newer login', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const { session, counter } = sessionOn(emulator, store);
    const upstream = gate();
    counter.gate = upstream.promise;
    const pending = session.getValidAccessToken();
    await vi.waitFor(() => expect(counter.requests).toBe(1));
    // Meanwhile the user logs in again (a code exchange writes without the lock).
    const newer = await firstTokens(emulator);
    store.data.set(KEY, newer);
    upstream.open();
    // The answer is not written; the Session takes the newer login instead.
    await expect(pending).resolves.toBe(newer.accessToken);
    await session.settled();
    expect(store.data.get(KEY)).toEqual(newer);
    expect(session.getRefreshToken()).toBe(newer.refreshToken);
    expect(emulator.stats().grants.refresh_token).toBe(1);
  });

  it('an explicit logout (store.delete) is not undone by a late answer', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    const { session, counter } = sessionOn(emulator, store, { timeout: 50 });
    const upstream = gate();
    counter.gate = upstream.promise;
    expect(await rejection(session.getValidAccessToken())).toBeInstanceOf(TimeoutError);
    await store.delete(KEY); // `spotify-session logout`
    upstream.open();
    await session.settled();
    expect(store.data.has(KEY)).toBe(false);
    expect(session.getRefreshToken()).toBeUndefined();
    const error = await rejection(session.getValidAccessToken());
    expect(error).toMatchObject({ code: 'NO_REFRESH_TOKEN' });
  });

  it('an answer in time after a logout is not written either, and says so', async () => {
    const emulator = rotating();
    const store = new TestStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    const { session, counter } = sessionOn(emulator, store);
    const upstream = gate();
    counter.gate = upstream.promise;
    const pending = session.getValidAccessToken();
    await vi.waitFor(() => expect(counter.requests).toBe(1));
    await store.delete(KEY);
    upstream.open();
    const error = await rejection(pending);
    expect(error).toMatchObject({ code: 'NO_REFRESH_TOKEN' });
    expect(error.message).toMatch(/removed or replaced while this refresh was under way/);
    expect(store.data.has(KEY)).toBe(false);
  });

  it('on invalid_grant, uses a newer refresh token found in the store instead of removing the login', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    const tokens = await firstTokens(emulator);
    store.data.set(KEY, expired(tokens));
    const { session } = sessionOn(emulator, store, {
      // Before our request lands, the token is rotated elsewhere and the result stored (a
      // process whose lock expired, or a store written without the lock).
      fetch: afterFirst(emulator, async () => {
        const rotated = await emulatorRefresh(emulator, tokens.refreshToken as string);
        store.data.set(KEY, expired({ ...tokens, refreshToken: rotated.refreshToken as string }));
      }),
    });
    const token = await session.getValidAccessToken();
    expect(emulator.lookupAccessToken(token)).toBeDefined();
    expect(store.data.get(KEY)?.accessToken).toBe(token);
    expect(session.getRefreshToken()).toBe(store.data.get(KEY)?.refreshToken);
    await expectWorkingLogin(emulator, store);
  });

  it('refuses a refreshHardLimit shorter than timeout, naming both', () => {
    const make = () =>
      new Session({ clientId: 'id', timeout: 5_000, refreshHardLimit: 1_000 } as SessionOptions);
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(expect.objectContaining({ option: 'refreshHardLimit' }));
    expect(make).toThrow(/refreshHardLimit \(1000 ms\) must be at least timeout \(5000 ms\)/);
    expect(() => new Session({ clientId: 'id', refreshHardLimit: 1.5 })).toThrow(
      /refreshHardLimit must be a positive whole number/,
    );
  });
});

describe('Session with a store: a logout elsewhere is not undone by a waiting refresh', () => {
  it('a refresh that waited for the lock through another process’s logout sends nothing and writes nothing', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    const { session, counter } = sessionOn(emulator, store);
    await session.load();
    // Another tab or process logs out: it holds the lock while it deletes.
    const logout = await store.lock(KEY, { ttl: 10_000, wait: 0 });
    const pending = session.getValidAccessToken();
    await vi.waitFor(() => expect(store.lockOptions).toHaveLength(2)); // ours is waiting
    await store.delete(KEY);
    await logout.release();
    const error = await rejection(pending);
    expect(error).toMatchObject({ code: 'NO_REFRESH_TOKEN' });
    expect(error.message).toMatch(
      /login stored under "user-1" is gone \(logged out in another tab or process\).*requestAccessToken\(code\)/,
    );
    expect(counter.requests).toBe(0);
    expect(store.data.has(KEY)).toBe(false);
    expect(session.toJSON()).toEqual({});
    await expect(session.getValidAccessToken()).rejects.toMatchObject({ code: 'NO_REFRESH_TOKEN' });
    expect(store.data.has(KEY)).toBe(false);
  });

  it('the same with a store that cannot lock, and with the refused marker of another token', async () => {
    const emulator = rotating();
    const store = new TestStore();
    store.data.set(KEY, expired(await firstTokens(emulator)));
    const { session, counter } = sessionOn(emulator, store);
    await session.load();
    await store.delete(KEY);
    await expect(session.getValidAccessToken()).rejects.toMatchObject({ code: 'NO_REFRESH_TOKEN' });
    expect(store.data.has(KEY)).toBe(false);

    // Another process rotated this token away, and its successor was refused there.
    store.data.set(KEY, expired(await firstTokens(emulator)));
    await session.load();
    const marker = { refused: await refreshTokenFingerprint('a-later-refresh-token') };
    store.data.set(KEY, marker);
    const error = await rejection(session.getValidAccessToken());
    expect(error).toMatchObject({ code: 'NO_REFRESH_TOKEN' });
    expect(counter.requests).toBe(0);
    expect(store.data.get(KEY)).toEqual(marker);
    expect(session.getRefreshToken()).toBeUndefined();
  });

  it('a refresh token given to the Session (not read from the store) still refreshes into an empty store', async () => {
    const emulator = rotating();
    const store = new LockingStore();
    const tokens = await firstTokens(emulator);
    const { session, counter } = sessionOn(emulator, store);
    await session.load();
    session.setRefreshToken(tokens.refreshToken);
    const token = await session.getValidAccessToken();
    expect(counter.requests).toBe(1);
    expect(store.data.get(KEY)).toMatchObject({ accessToken: token });
    await expectWorkingLogin(emulator, store);
  });
});

describe('session.logout()', () => {
  it('deletes the stored tokens under the lock, with the Session’s lockTtl and lockWait, and empties the Session', async () => {
    const store = new LockingStore();
    store.data.set(KEY, { accessToken: 'A1', refreshToken: 'R1' });
    const session = await Session.fromStore(store, KEY, {
      clientId: 'id',
      lockTtl: 20_000,
      lockWait: 3_000,
    });
    const elsewhere = await store.lock(KEY, { ttl: 10_000, wait: 0 });
    const done = session.logout();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // A refresh elsewhere finishes and writes its tokens; only then does the logout run.
    store.data.set(KEY, { accessToken: 'A2', refreshToken: 'R2' });
    await elsewhere.release();
    await done;
    expect(store.data.has(KEY)).toBe(false);
    expect(store.lockOptions[1]).toEqual({ ttl: 20_000, wait: 3_000 });
    expect(store.locked).toBe(false);
    expect(session.toJSON()).toEqual({});
    const error = await rejection(session.getValidAccessToken());
    expect(error).toMatchObject({ code: 'NO_REFRESH_TOKEN' });
  });

  it('fails with LockTimeoutError, keeping the tokens, when the lock stays held', async () => {
    const store = new LockingStore();
    store.data.set(KEY, { accessToken: 'A1', refreshToken: 'R1' });
    const session = await Session.fromStore(store, KEY, { clientId: 'id', lockWait: 30 });
    await store.lock(KEY, { ttl: 60_000, wait: 0 });
    await expect(session.logout()).rejects.toBeInstanceOf(LockTimeoutError);
    expect(store.data.get(KEY)).toEqual({ accessToken: 'A1', refreshToken: 'R1' });
    expect(session.getRefreshToken()).toBe('R1');
  });
});
