import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutRedis, startRedis, type TestRedis } from '../../../test/support/redis.js';
import { createRedisRateLimitStore, type RedisRateLimitClient } from './redis.js';

const skip = skipWithoutRedis();

describe('createRedisRateLimitStore: url or client', () => {
  it('needs exactly one of url and client', () => {
    const client = new Redis({ lazyConnect: true });
    expect(() => createRedisRateLimitStore({})).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', option: 'url' }),
    );
    expect(() => createRedisRateLimitStore({ url: 'redis://127.0.0.1:9', client })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', option: 'client' }),
    );
    client.disconnect();
  });

  it('takes an ioredis client as a RedisRateLimitClient (no ioredis type in its declarations)', () => {
    const client: RedisRateLimitClient = new Redis({ lazyConnect: true });
    client.disconnect();
  });
});

describe.skipIf(skip)('createRedisRateLimitStore with your own client', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('counts in Redis through it, shared with a store on its own connection, and leaves it open', async () => {
    const client = new Redis(redis.url);
    await new Promise((resolve) => client.once('ready', resolve));
    const yours = createRedisRateLimitStore({ client });
    const own = createRedisRateLimitStore({ url: redis.url });
    const limit = { name: 'shared', points: 2, duration: 60 };
    await expect(yours.health()).resolves.toBe('ok');
    expect(await yours.limiter(limit).consume('1.2.3.4')).toEqual({ allowed: true });
    // Let the second store connect, so it counts in Redis rather than in memory.
    for (let i = 0; i < 200 && (await own.health()) !== 'ok'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await own.limiter(limit).consume('1.2.3.4')).toEqual({ allowed: true });
    expect(await yours.limiter(limit).consume('1.2.3.4')).toMatchObject({ allowed: false });
    await yours.close();
    await own.close();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    expect(client.listenerCount('error')).toBe(0);
    client.disconnect();
  });
});
