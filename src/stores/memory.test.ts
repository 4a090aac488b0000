import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  InvalidArgumentError,
  LockTimeoutError,
  Session,
  type SessionTokens,
} from '../core/index.js';
import { createEmulator, DEMO_APP } from '../emulator/index.js';
import { MemoryStore } from './index.js';

const TOKENS: SessionTokens = {
  accessToken: 'BQaccess',
  refreshToken: 'AQrefresh',
  expiresAt: 1_800_000_000,
  scope: ['user-read-email'],
};

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('MemoryStore values', () => {
  it('gets what was set, undefined for unknown keys, nothing after delete', async () => {
    const store = new MemoryStore();
    expect(await store.get('alice')).toBeUndefined();
    await store.set('alice', TOKENS);
    expect(await store.get('alice')).toEqual(TOKENS);
    expect(await store.get('bob')).toBeUndefined();
    await store.delete('alice');
    expect(await store.get('alice')).toBeUndefined();
    await store.delete('alice'); // no error for a missing key
  });

  it('copies values in and out (no aliasing)', async () => {
    const store = new MemoryStore();
    const tokens: SessionTokens = { ...TOKENS, scope: ['a'] };
    await store.set('k', tokens);
    tokens.accessToken = 'BQchanged';
    tokens.scope?.push('b');
    const got = await store.get('k');
    expect(got).toEqual({ ...TOKENS, scope: ['a'] });
    got?.scope?.push('c');
    if (got) got.refreshToken = 'AQchanged';
    expect(await store.get('k')).toEqual({ ...TOKENS, scope: ['a'] });
  });

  it('starts from initial tokens, copied', async () => {
    const initial = { alice: { ...TOKENS } };
    const store = new MemoryStore({ tokens: initial });
    initial.alice.accessToken = 'BQother';
    expect(await store.get('alice')).toEqual(TOKENS);
  });

  it('refuses a bad key and tokens that are not SessionTokens, with clear errors', async () => {
    const store = new MemoryStore();
    await expect(store.get('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      store.set('k', { refresh_token: 'x' } as unknown as SessionTokens),
    ).rejects.toThrow(/refresh_token is not a known field/);
    expect(await store.get('k')).toBeUndefined();
  });
});

describe('MemoryStore rate limit', () => {
  it('records when the Web API’s rate limit on an app ends, keeps the later time, forgets it once passed', async () => {
    const store = new MemoryStore();
    expect(await store.rateLimitedUntil('app')).toBeUndefined();
    const until = Date.now() + 30_000;
    await store.recordRateLimit('app', until);
    await store.recordRateLimit('app', until - 20_000);
    expect(await store.rateLimitedUntil('app')).toBe(until);
    expect(await store.rateLimitedUntil('other-app')).toBeUndefined();
    await store.recordRateLimit('past', Date.now() - 1);
    expect(await store.rateLimitedUntil('past')).toBeUndefined();
    await expect(store.recordRateLimit('app', Number.NaN)).rejects.toThrow(/until/);
    await expect(store.rateLimitedUntil('')).rejects.toThrow(/key/);
  });
});

describe('MemoryStore lock', () => {
  it('is exclusive and hands over first come, first served', async () => {
    const store = new MemoryStore();
    const order: string[] = [];
    const first = await store.lock('k', { ttl: 10_000, wait: 1_000 });
    const waiters = ['a', 'b', 'c'].map((name) =>
      store.lock('k', { ttl: 10_000, wait: 5_000 }).then((lock) => {
        order.push(name);
        return lock;
      }),
    );
    await tick();
    expect(order).toEqual([]);
    await first.release();
    const a = await waiters[0];
    expect(order).toEqual(['a']);
    await a?.release();
    const b = await waiters[1];
    await b?.release();
    const c = await waiters[2];
    expect(order).toEqual(['a', 'b', 'c']);
    await c?.release();
    // Free again: taken at once with wait 0.
    await (await store.lock('k', { ttl: 1_000, wait: 0 })).release();
  });

  it('locks keys independently', async () => {
    const store = new MemoryStore();
    const a = await store.lock('a', { ttl: 10_000, wait: 0 });
    const b = await store.lock('b', { ttl: 10_000, wait: 0 });
    await a.release();
    await b.release();
  });

  it('rejects with LockTimeoutError (code LOCK_TIMEOUT) after wait', async () => {
    const store = new MemoryStore();
    const held = await store.lock('k', { ttl: 10_000, wait: 0 });
    await expect(store.lock('k', { ttl: 1_000, wait: 0 })).rejects.toMatchObject({
      code: 'LOCK_TIMEOUT',
      key: 'k',
    });
    const started = Date.now();
    const error = await store.lock('k', { ttl: 1_000, wait: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    // The waiter that gave up is gone from the queue: the next one gets the lock.
    const next = store.lock('k', { ttl: 1_000, wait: 1_000 });
    await held.release();
    await (await next).release();
  });

  it('rejects with AbortedError when the signal aborts, and leaves the queue', async () => {
    const store = new MemoryStore();
    const held = await store.lock('k', { ttl: 10_000, wait: 0 });
    const controller = new AbortController();
    const waiting = store.lock('k', { ttl: 1_000, wait: 10_000, signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await expect(
      store.lock('k', { ttl: 1_000, wait: 10_000, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
    await held.release();
    await (await store.lock('k', { ttl: 1_000, wait: 0 })).release();
  });

  it('expires after ttl: the next waiter takes over, the old holder cannot release it', async () => {
    const store = new MemoryStore();
    const stale = await store.lock('k', { ttl: 30, wait: 0 });
    const next = await store.lock('k', { ttl: 10_000, wait: 2_000 });
    await stale.release(); // a lost lock: no error, and it must not free `next`
    await expect(store.lock('k', { ttl: 1_000, wait: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    await next.release();
    await next.release(); // twice is harmless
    await (await store.lock('k', { ttl: 1_000, wait: 0 })).release();
  });

  it('extend renews the holder’s lock; false once it expired or was released', async () => {
    const store = new MemoryStore();
    const held = await store.lock('k', { ttl: 40, wait: 0 });
    expect(await held.extend?.(10_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await expect(store.lock('k', { ttl: 1_000, wait: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    await held.release();
    expect(await held.extend?.(10_000)).toBe(false);

    const stale = await store.lock('k', { ttl: 30, wait: 0 });
    const next = await store.lock('k', { ttl: 10_000, wait: 2_000 }); // after stale's ttl
    expect(await stale.extend?.(10_000)).toBe(false);
    await next.release();
    await (await store.lock('k', { ttl: 1_000, wait: 0 })).release(); // next's hold ended
    await expect(next.extend?.(-1) ?? Promise.resolve()).rejects.toThrow(/ttl/);
  });

  it('waits without a time limit when wait is Infinity', async () => {
    const store = new MemoryStore();
    const held = await store.lock('k', { ttl: 10_000, wait: 0 });
    let granted = false;
    const waiting = store.lock('k', { ttl: 1_000, wait: Number.POSITIVE_INFINITY }).then((lock) => {
      granted = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(granted).toBe(false);
    await held.release();
    await (await waiting).release();
  });

  it('checks its options', async () => {
    const store = new MemoryStore();
    await expect(store.lock('k', { ttl: 0, wait: 0 })).rejects.toThrow(/options.ttl/);
    await expect(store.lock('k', { ttl: 2 ** 31, wait: 0 })).rejects.toThrow(/options.ttl/);
    await expect(store.lock('k', { ttl: 1_000, wait: -1 })).rejects.toThrow(/options.wait/);
    await expect(
      store.lock('k', undefined as unknown as { ttl: number; wait: number }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('MemoryStore with Sessions', () => {
  it('two Sessions sharing one rotating token through it refresh once', async () => {
    const emulator = createEmulator({ autoApprove: true, rotation: 'always' });
    const fetch = (input: string, init: RequestInit) => emulator.fetch(new Request(input, init));
    const accountsUrl = 'http://127.0.0.1:1';
    const redirectUri = 'http://127.0.0.1:8888/callback';
    const location = (
      await emulator.fetch(
        new Request(
          `${accountsUrl}/authorize?client_id=${DEMO_APP.clientId}&response_type=code&redirect_uri=${encodeURIComponent(redirectUri)}`,
        ),
      )
    ).headers.get('location');
    const code = new URL(location ?? '').searchParams.get('code') ?? '';
    const options = {
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      accountsUrl,
      redirectUri,
      fetch,
    };
    const first = new Session(options);
    await first.requestAccessToken(code);
    const store = new MemoryStore({ tokens: { user: { ...first.toJSON(), expiresAt: 1 } } });

    const sessions = [1, 2].map(() => new Session({ ...options, store, storeKey: 'user' }));
    const tokens = await Promise.all(
      sessions.flatMap((session) =>
        Array.from({ length: 50 }, () => session.getValidAccessToken()),
      ),
    );
    expect(emulator.stats().grants.refresh_token).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    const stored = await store.get('user');
    expect(stored?.accessToken).toBe(tokens[0]);
    expect(stored?.refreshToken).not.toBe(first.getRefreshToken());
  });
});
