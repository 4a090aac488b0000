/**
 * A child process for the shared rate-limit test (bundled by `bundle.ts`):
 * `node child.mjs <json>`. It builds a Session on the given store and a SpotifyWebAPI on it,
 * prints `ready`, then for each `call` line on stdin makes one `GET /me` and prints one JSON
 * line: `{ ok: true }` or `{ ok: false, code, retryAfter, message }`. `exit` ends it.
 */
import { createInterface } from 'node:readline';
import { SpotifyWebAPI } from '../../../src/api/index.js';
import { Session, type TokenStore } from '../../../src/core/index.js';
import { FileStore } from '../../../src/stores/file.js';
import { RedisStore } from '../../../src/stores/redis.js';

interface Job {
  store: 'file' | 'redis';
  directory?: string;
  url?: string;
  key: string;
  clientId: string;
  apiUrl: string;
  maxRetryAfter: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const store: TokenStore & { close?: () => Promise<void> } =
  job.store === 'file'
    ? new FileStore({ directory: job.directory as string })
    : new RedisStore({ url: job.url as string });
const session = new Session({ clientId: job.clientId, store, storeKey: job.key });
const api = new SpotifyWebAPI(
  { apiUrl: job.apiUrl, retry: { maxRetryAfter: job.maxRetryAfter } },
  session,
);

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'exit') break;
  try {
    await api.me();
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
  } catch (error) {
    const { code, retryAfter, message } = error as {
      code?: string;
      retryAfter?: number;
      message?: string;
    };
    process.stdout.write(`${JSON.stringify({ ok: false, code, retryAfter, message })}\n`);
  }
}
await store.close?.();
process.exit(0);
