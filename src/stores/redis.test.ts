import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, startRedis, type TestRedis } from '../../test/support/redis.js';
import {
  AbortedError,
  ConfigurationError,
  LockTimeoutError,
  type SessionTokens,
  StoreError,
} from '../core/index.js';
import { DEFAULT_REDIS_TTL_SECONDS, RedisStore } from './redis.js';

const skip = skipWithoutRedis();

const TOKENS: SessionTokens = {
  accessToken: 'BQaccess',
  refreshToken: 'AQrefresh',
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
  scope: ['user-read-email'],
};

describe('RedisStore options', () => {
  it('needs exactly one of client and url, a redis:// url and a sane ttl', () => {
    expect(() => new RedisStore({})).toThrow(ConfigurationError);
    expect(() => new RedisStore({ url: 'http://127.0.0.1:6379' })).toThrow(/redis:\/\//);
    const client = new Redis({ lazyConnect: true });
    expect(() => new RedisStore({ client, url: 'redis://127.0.0.1:1' })).toThrow(/exactly one/);
    expect(() => new RedisStore({ client, ttl: 0 })).toThrow(/ttl/);
    expect(() => new RedisStore({ client, ttl: 1.5 })).toThrow(/ttl/);
    expect(() => new RedisStore({ url: 'redis://127.0.0.1:1', commandTimeout: 0 })).toThrow(
      /commandTimeout/,
    );
    const store = new RedisStore({ client });
    expect(store.prefix).toBe('spotify-session:tokens:');
    expect(store.lockPrefix).toBe('spotify-session:locks:');
    expect(store.rateLimitPrefix).toBe('spotify-session:rate-limit:');
    expect(store.ttl).toBe(15_552_000);
    client.disconnect();
  });
});

describe.skipIf(skip)('RedisStore against redis-server', () => {
  let redis: TestRedis;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('gets, sets and deletes JSON under the prefix, with a 180-day TTL renewed on set', async () => {
    const store = new RedisStore({ client });
    expect(await store.get('alice')).toBeUndefined();
    await store.set('alice', TOKENS);
    expect(await store.get('alice')).toEqual(TOKENS);
    expect(JSON.parse((await client.get('spotify-session:tokens:alice')) ?? '')).toEqual(TOKENS);
    const ttl = await client.ttl('spotify-session:tokens:alice');
    expect(ttl).toBeGreaterThan(DEFAULT_REDIS_TTL_SECONDS - 5);
    expect(ttl).toBeLessThanOrEqual(DEFAULT_REDIS_TTL_SECONDS);
    await client.expire('spotify-session:tokens:alice', 100);
    await store.set('alice', { ...TOKENS, refreshToken: 'AQrotated' });
    expect(await client.ttl('spotify-session:tokens:alice')).toBeGreaterThan(
      DEFAULT_REDIS_TTL_SECONDS - 5,
    );
    await store.delete('alice');
    await store.delete('alice');
    expect(await store.get('alice')).toBeUndefined();
  });

  it('uses a custom prefix and ttl, never shorter than the access token’s life', async () => {
    const store = new RedisStore({ client, prefix: 'app:', ttl: 60 });
    await store.set('bob', TOKENS);
    expect(await client.exists('app:bob')).toBe(1);
    const ttl = await client.ttl('app:bob');
    expect(ttl).toBeGreaterThan(3500); // the access token lives an hour
    await store.set('bob', { refreshToken: 'AQonly' });
    expect(await client.ttl('app:bob')).toBeLessThanOrEqual(60);
  });

  it('records a rate limit under rateLimitPrefix + clientId, living until it ends; a later one is kept', async () => {
    const store = new RedisStore({ client });
    expect(await store.rateLimitedUntil('app')).toBeUndefined();
    const until = Date.now() + 30_000;
    await store.recordRateLimit('app', until);
    await store.recordRateLimit('app', until - 20_000);
    expect(await store.rateLimitedUntil('app')).toBe(until);
    expect(Number(await client.get('spotify-session:rate-limit:app'))).toBe(until);
    const pttl = await client.pttl('spotify-session:rate-limit:app');
    expect(pttl).toBeGreaterThan(28_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    await store.recordRateLimit('app', until + 10_000);
    expect(await store.rateLimitedUntil('app')).toBe(until + 10_000);
    await store.recordRateLimit('past', Date.now() - 1);
    expect(await client.exists('spotify-session:rate-limit:past')).toBe(0);
    const other = new RedisStore({ client, rateLimitPrefix: 'mine:' });
    expect(await other.rateLimitedUntil('app')).toBeUndefined();
  });

  it('explains a key that does not hold tokens', async () => {
    const store = new RedisStore({ client });
    await client.set('spotify-session:tokens:junk', 'not json');
    const error = await store.get('junk').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(
      /spotify-session:tokens:junk.*does not hold spotify-session tokens.*DEL/,
    );
  });

  it('locks with SET NX PX and an owner token; only the owner releases', async () => {
    const store = new RedisStore({ client });
    const held = await store.lock('k', { ttl: 10_000, wait: 0 });
    const owner = await client.get('spotify-session:locks:k');
    expect(owner).toMatch(/^[0-9a-f]{32}$/);
    const pttl = await client.pttl('spotify-session:locks:k');
    expect(pttl).toBeGreaterThan(9_000);
    await expect(store.lock('k', { ttl: 1_000, wait: 50 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    const waiting = store.lock('k', { ttl: 10_000, wait: 5_000 });
    await held.release();
    const next = await waiting;
    expect(await client.get('spotify-session:locks:k')).not.toBe(owner);
    await held.release(); // released once already: does nothing
    expect(await client.exists('spotify-session:locks:k')).toBe(1);
    await next.release();
    expect(await client.exists('spotify-session:locks:k')).toBe(0);
  });

  it('expires after ttl; the old holder’s release leaves the successor’s lock alone', async () => {
    const store = new RedisStore({ client });
    const old = await store.lock('e', { ttl: 50, wait: 0 });
    const successor = await store.lock('e', { ttl: 10_000, wait: 2_000 });
    await old.release();
    expect(await client.exists('spotify-session:locks:e')).toBe(1);
    await successor.release();
    expect(await client.exists('spotify-session:locks:e')).toBe(0);
  });

  it('extend renews the owner’s lock (compare-and-PEXPIRE); false once lost or released', async () => {
    const store = new RedisStore({ client });
    const held = await store.lock('x', { ttl: 200, wait: 0 });
    expect(await held.extend?.(10_000)).toBe(true);
    expect(await client.pttl('spotify-session:locks:x')).toBeGreaterThan(9_000);
    await held.release();
    expect(await held.extend?.(10_000)).toBe(false);

    const stale = await store.lock('x', { ttl: 50, wait: 0 });
    const successor = await store.lock('x', { ttl: 5_000, wait: 2_000 });
    expect(await stale.extend?.(60_000)).toBe(false);
    const pttl = await client.pttl('spotify-session:locks:x');
    expect(pttl).toBeLessThanOrEqual(5_000); // the successor's lock kept its own ttl
    await successor.release();
    await expect(held.extend?.(1.5e10) ?? Promise.resolve()).rejects.toThrow(/ttl/);
  });

  it('gives up when the signal aborts', async () => {
    const store = new RedisStore({ client });
    const held = await store.lock('a', { ttl: 10_000, wait: 0 });
    const waiting = store.lock('a', { ttl: 1_000, wait: 10_000, signal: AbortSignal.timeout(50) });
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await held.release();
  });

  it('creates and closes its own client from a url', async () => {
    const store = new RedisStore({ url: redis.url, prefix: 'own:' });
    await store.set('k', TOKENS);
    expect(await store.get('k')).toEqual(TOKENS);
    await store.close();
    await expect(store.get('k')).rejects.toThrow(/Connection is closed/);
  });

  it('fails a command on a frozen Redis after commandTimeout instead of hanging', async () => {
    const store = new RedisStore({ url: redis.url, commandTimeout: 300 });
    await store.set('k', TOKENS);
    redis.pause();
    try {
      const started = Date.now();
      const error = await store.get('k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toMatch(/timed out/i);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      redis.resume();
    }
    expect(await store.get('k')).toEqual(TOKENS);
    await store.close();
  });

  it('reports an unreachable Redis as a StoreError without the password', async () => {
    const store = new RedisStore({ url: 'redis://:s3cret-pass@127.0.0.1:1' });
    const error = await store.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/RedisStore could not get "k"/);
    expect((error as Error).message).not.toContain('s3cret');
    await expect(store.lock('k', { ttl: 1_000, wait: 5_000 })).rejects.toMatchObject({
      code: 'STORE_FAILED',
      operation: 'lock',
    });
    await store.close();
  });
});
