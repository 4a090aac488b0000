/**
 * RedisStore's lock across real processes and a real redis-server: no lost
 * update among 4 processes, and a holder killed with SIGKILL blocks the
 * others only until its ttl, after which exactly one waiter at a time holds it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis.js';
import { bundleForNode } from '../support/stores/bundle.js';

const skip = skipWithoutRedis();

function run(
  child: string,
  job: Record<string, unknown>,
): { process: ChildProcess; done: Promise<string> } {
  const proc = spawn(process.execPath, [child, JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const done = once(proc, 'exit').then(([code, signal]) => {
    if (code !== 0) throw new Error(`child exited with ${code ?? signal}:\n${err}`);
    return out;
  });
  done.catch(() => {});
  return { process: proc, done };
}

describe.skipIf(skip)('RedisStore across processes', () => {
  let redis: TestRedis;
  let client: Redis;
  let child: string;

  beforeAll(async () => {
    [redis, child] = await Promise.all([
      startRedis(),
      bundleForNode(
        fileURLToPath(new URL('../support/stores/child.ts', import.meta.url)),
        'store-child',
      ),
    ]);
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
    if (child !== undefined) await rm(child, { force: true });
  });

  it('4 processes × 25 locked read-modify-write increments lose no update', async () => {
    const workers = [1, 2, 3, 4].map(() =>
      run(child, { store: 'redis', url: redis.url, task: 'increment', key: 'counter', count: 25 }),
    );
    await Promise.all(workers.map((worker) => worker.done));
    const store = new RedisStore({ client });
    expect((await store.get('counter'))?.expiresAt).toBe(100);
    expect(await client.exists('spotify-session:locks:counter')).toBe(0);
  });

  it('a holder killed with SIGKILL keeps the lock until its ttl, then the waiters take turns', async () => {
    const holder = run(child, {
      store: 'redis',
      url: redis.url,
      task: 'hold',
      key: 'k',
      ttl: 2_000,
    });
    await new Promise<void>((resolve, reject) => {
      holder.process.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('held')) resolve();
      });
      holder.process.once('exit', () => reject(new Error('holder exited early')));
    });
    holder.process.kill('SIGKILL');
    await once(holder.process, 'exit');
    const pttl = await client.pttl('spotify-session:locks:k');
    const expiresAt = Date.now() + pttl;
    expect(pttl).toBeGreaterThan(500); // the dead holder's lock is still there…

    const waiters = [1, 2, 3].map(() =>
      run(child, { store: 'redis', url: redis.url, task: 'acquire', key: 'k', wait: 20_000 }),
    );
    const outputs = await Promise.all(waiters.map((waiter) => waiter.done));
    for (const output of outputs) {
      // …so no waiter got it before it expired.
      expect(Number(/ at (\d+)/.exec(output)?.[1])).toBeGreaterThanOrEqual(expiresAt - 50);
    }
    expect(await client.exists('spotify-session:locks:k')).toBe(0);
  });
});
