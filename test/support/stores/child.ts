/**
 * A child process for the FileStore and RedisStore tests (bundled by
 * `bundle.ts`). `node child.mjs <json>`, where json is
 * `{ store: 'file', directory } | { store: 'redis', url }` plus `{ task, key, … }`:
 *
 * - `increment`: `count` times, lock → get → expiresAt + 1 → set → release.
 * - `write`: `count` times, set tokens unique to this process (no lock).
 * - `hold`: take the lock, print `held`, and wait to be killed.
 * - `acquire`: take the lock (waiting up to `wait`), print `acquired <ms waited> at <epoch ms>`, release.
 * - `span`: take the lock, keep it 100 ms, print `span <from> <to>` (epoch ms), release.
 */
import type { TokenStore } from '../../../src/core/index.js';
import { FileStore } from '../../../src/stores/file.js';
import { RedisStore } from '../../../src/stores/redis.js';

interface Job {
  store: 'file' | 'redis';
  directory?: string;
  url?: string;
  task: 'increment' | 'write' | 'hold' | 'acquire' | 'span';
  key: string;
  count?: number;
  ttl?: number;
  wait?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const store: TokenStore & { close?: () => Promise<void> } =
  job.store === 'file'
    ? new FileStore({ directory: job.directory as string })
    : new RedisStore({ url: job.url as string });
const ttl = job.ttl ?? 10_000;
const wait = job.wait ?? 60_000;
const lock = store.lock?.bind(store);
if (lock === undefined) throw new Error('store without lock');

switch (job.task) {
  case 'increment': {
    for (let i = 0; i < (job.count ?? 1); i++) {
      const held = await lock(job.key, { ttl, wait });
      const tokens = await store.get(job.key);
      const next = (tokens?.expiresAt ?? 0) + 1;
      await store.set(job.key, {
        accessToken: `BQ${process.pid}x${i}`,
        refreshToken: `AQ${process.pid}x${i}`,
        expiresAt: next,
        scope: ['user-read-email'],
      });
      await held.release();
    }
    break;
  }
  case 'write': {
    const padding = 'x'.repeat(2_000); // a larger file makes a torn write likelier to show
    for (let i = 0; i < (job.count ?? 1); i++) {
      await store.set(job.key, {
        accessToken: `BQ${process.pid}${padding}`,
        refreshToken: `AQ${process.pid}x${i}`,
        expiresAt: i,
      });
    }
    break;
  }
  case 'hold': {
    await lock(job.key, { ttl, wait });
    process.stdout.write('held\n');
    setInterval(() => {}, 1_000);
    await new Promise(() => {});
    break;
  }
  case 'acquire': {
    const started = Date.now();
    const held = await lock(job.key, { ttl, wait });
    process.stdout.write(`acquired ${Date.now() - started} at ${Date.now()}\n`);
    await held.release();
    break;
  }
  case 'span': {
    const held = await lock(job.key, { ttl, wait });
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const to = Date.now();
    await held.release();
    process.stdout.write(`span ${from} ${to}\n`);
    break;
  }
}
await store.close?.();
