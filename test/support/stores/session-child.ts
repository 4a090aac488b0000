/**
 * A child process for the Session + store end-to-end tests (bundled by
 * `bundle.ts`): `node child.mjs <json>`. It builds a Session on the
 * given store, prints `ready`, waits for `go` on stdin, then makes `calls`
 * concurrent `getValidAccessToken()` calls — or, with `apiUrl`, Web API calls
 * (`GET /me` through `SpotifyWebAPI`) — waits for refreshes whose callers
 * gave up (`session.settled()`, as a program should before it exits) — and
 * prints one JSON line:
 * `{ tokens: string[] (distinct), users: string[], errors: string[] }`.
 */
import { createInterface } from 'node:readline';
import { SpotifyWebAPI } from '../../../src/api/index.js';
import type { TokenStore } from '../../../src/core/index.js';
import { Session } from '../../../src/core/index.js';
import { FileStore } from '../../../src/stores/file.js';
import { RedisStore } from '../../../src/stores/redis.js';

interface Job {
  store: 'file' | 'redis';
  directory?: string;
  url?: string;
  key: string;
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  calls: number;
  apiUrl?: string;
  timeout?: number;
  lockTtl?: number;
  lockWait?: number;
  refreshHardLimit?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const store: TokenStore & { close?: () => Promise<void> } =
  job.store === 'file'
    ? new FileStore({ directory: job.directory as string })
    : new RedisStore({ url: job.url as string });
const session = new Session({
  clientId: job.clientId,
  clientSecret: job.clientSecret,
  accountsUrl: job.accountsUrl,
  store,
  storeKey: job.key,
  ...(job.timeout === undefined ? {} : { timeout: job.timeout }),
  ...(job.lockTtl === undefined ? {} : { lockTtl: job.lockTtl }),
  ...(job.lockWait === undefined ? {} : { lockWait: job.lockWait }),
  ...(job.refreshHardLimit === undefined ? {} : { refreshHardLimit: job.refreshHardLimit }),
});

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();

const api =
  job.apiUrl === undefined
    ? undefined
    : // 1000 calls from 4 processes queue up in one emulator process: a long timeout.
      new SpotifyWebAPI({ autoRefresh: true, apiUrl: job.apiUrl, timeout: 120_000 }, session);
const users = new Set<string>();
const results = await Promise.allSettled(
  Array.from({ length: job.calls }, async () => {
    if (api === undefined) return session.getValidAccessToken();
    const me = await api.me();
    users.add(me.id ?? '(no id)');
    return session.getAccessToken() as string;
  }),
);
// Optional call: the same child runs against older builds when a test is checked to fail there.
await session.settled?.();
const tokens = new Set<string>();
const errors: string[] = [];
for (const result of results) {
  if (result.status === 'fulfilled') tokens.add(result.value);
  else {
    const error = result.reason as { code?: string; message?: string };
    errors.push(`${error.code ?? 'ERROR'}: ${error.message ?? String(error)}`);
  }
}
process.stdout.write(`${JSON.stringify({ tokens: [...tokens], users: [...users], errors })}\n`);
await store.close?.();
process.exit(0);
