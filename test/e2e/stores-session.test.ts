/**
 * Sessions in several processes sharing one rotating refresh token through a
 * store, against the emulator on a real port:
 * - 4 processes × 250 concurrent getValidAccessToken() on an expired token →
 *   exactly one refresh, no invalid_grant, every process holds a valid token,
 *   the store holds the newest refresh token (Redis; FileStore with 2 processes).
 * - the lock holder killed with SIGKILL while its refresh waits in the
 *   emulator (latency fault) → the others take over; valid tokens everywhere
 *   and the stored refresh token still works (nothing rotated was lost).
 * - the lock holder paused (SIGSTOP) after Spotify answered its refresh, past
 *   its lock's lifetime, while another process spends the rotated-away token
 *   → the holder's answer is stored when it resumes: 0 logins lost in 5 trials.
 * - an upstream slower than `timeout` → the caller gets TimeoutError, the
 *   answer is stored when it comes, and works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionTokens, TokenStore } from '../../src/core/index.js';
import {
  createEmulator,
  DEMO_APP,
  type Emulator,
  type EmulatorServer,
} from '../../src/emulator/index.js';
import { FileStore } from '../../src/stores/file.js';
import { RedisStore } from '../../src/stores/redis.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis.js';
import { bundleForNode } from '../support/stores/bundle.js';

const REDIRECT = 'http://127.0.0.1:8888/callback';
const BASIC = `Basic ${Buffer.from(`${DEMO_APP.clientId}:${DEMO_APP.clientSecret}`).toString('base64')}`;
const skipRedis = skipWithoutRedis();

let child: string;
let emulator: Emulator;
let accounts: EmulatorServer;

beforeAll(async () => {
  emulator = createEmulator({ autoApprove: true, rotation: 'always' });
  [accounts, child] = await Promise.all([
    emulator.listen({ port: 0 }),
    bundleForNode(
      fileURLToPath(new URL('../support/stores/session-child.ts', import.meta.url)),
      'session-child',
    ),
  ]);
});
afterAll(async () => {
  await accounts?.close();
  await rm(child, { force: true });
});
afterEach(() => {
  emulator.reset();
});

async function tokenRequest(form: Record<string, string>): Promise<Response> {
  return fetch(`${accounts.url}/api/token`, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}

/** A user's tokens from the emulator (code flow, auto-approved), stored already expired. */
async function storeExpiredTokens(store: TokenStore, key: string): Promise<SessionTokens> {
  const authorize = new URL('/authorize', accounts.url);
  authorize.search = new URLSearchParams({
    client_id: DEMO_APP.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'user-read-email',
  }).toString();
  const redirect = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const answer = (await (
    await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT })
  ).json()) as { access_token: string; refresh_token: string };
  const tokens: SessionTokens = {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expiresAt: Math.floor(Date.now() / 1000) - 10, // expired: every process wants to refresh
    scope: ['user-read-email'],
  };
  await store.set(key, tokens);
  return tokens;
}

interface Outcome {
  tokens: string[];
  users: string[];
  errors: string[];
}

interface Worker {
  process: ChildProcess;
  ready: Promise<void>;
  go(): void;
  result: Promise<Outcome>;
}

function startWorker(job: Record<string, unknown>): Worker {
  const proc = spawn(
    process.execPath,
    [
      child,
      JSON.stringify({
        accountsUrl: accounts.url,
        clientId: DEMO_APP.clientId,
        clientSecret: DEMO_APP.clientSecret,
        ...job,
      }),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  proc.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('ready\n')) onReady();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const result = once(proc, 'exit').then(([code, signal]) => {
    if (code !== 0) throw new Error(`worker exited with ${code ?? signal}:\n${err}\n${out}`);
    const line = out.trim().split('\n').at(-1) ?? '';
    return JSON.parse(line) as Outcome;
  });
  result.catch(() => {});
  return {
    process: proc,
    ready: Promise.race([ready, result.then(() => {})]),
    go: () => proc.stdin?.write('go\n'),
    result,
  };
}

/** Refresh grants the emulator answered (or refused) so far. */
function refreshGrants(): number {
  return emulator.stats().grants.refresh_token ?? 0;
}

function tokenRequests(): number {
  return emulator.stats().requests['POST /api/token'] ?? 0;
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every process got valid tokens, the store holds a live refresh token: checks and spends it. */
async function expectAllValid(outcomes: Outcome[], store: TokenStore, key: string): Promise<void> {
  for (const outcome of outcomes) {
    expect(outcome.errors).toEqual([]);
    expect(outcome.tokens.length).toBeGreaterThan(0);
    for (const token of outcome.tokens) {
      const info = emulator.lookupAccessToken(token);
      expect(info?.userId).toBe('demo-user');
      expect(info?.expiresAt).toBeGreaterThan(emulator.now());
    }
  }
  const stored = await store.get(key);
  expect(stored?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 600);
  // The newest rotated refresh token is the stored one: it still works.
  const check = await tokenRequest({
    grant_type: 'refresh_token',
    refresh_token: stored?.refreshToken ?? '',
  });
  expect(check.status).toBe(200);
}

async function concurrentRefresh(
  store: TokenStore,
  job: Record<string, unknown>,
  processes: number,
  calls: number,
): Promise<void> {
  const original = await storeExpiredTokens(store, 'user');
  const before = refreshGrants();
  const workers = Array.from({ length: processes }, () =>
    startWorker({ ...job, key: 'user', calls }),
  );
  await Promise.all(workers.map((worker) => worker.ready));
  for (const worker of workers) worker.go();
  const outcomes = await Promise.all(workers.map((worker) => worker.result));
  expect(refreshGrants() - before).toBe(1); // exactly one refresh for processes × calls
  if (job.apiUrl !== undefined) {
    for (const outcome of outcomes) expect(outcome.users).toEqual(['demo-user']);
  }
  const stored = await store.get('user');
  expect(stored?.refreshToken).not.toBe(original.refreshToken); // rotated and stored
  // Everyone holds the one new access token.
  expect(new Set(outcomes.flatMap((o) => o.tokens))).toEqual(new Set([stored?.accessToken]));
  await expectAllValid(outcomes, store, 'user');
}

/**
 * The holder's refresh request waits `latencyMs` in the emulator and the holder is killed
 * meanwhile. The emulator answers (and rotates) only after the delay, so the takeover must
 * come first: a refresh Spotify completed for a process that died before reading the answer
 * is lost for everyone, whatever the client does.
 */
async function killedHolder(
  store: TokenStore,
  job: Record<string, unknown>,
  latencyMs: number,
  expectTakeoverAfterMs: number,
): Promise<void> {
  const original = await storeExpiredTokens(store, 'user');
  const grantsBefore = refreshGrants();
  emulator.setFault({ endpoint: '/api/token', type: 'latency', latencyMs, count: 1 });
  const requestsBefore = tokenRequests();
  const holder = startWorker({ ...job, key: 'user', calls: 50 });
  const waiters = [1, 2].map(() => startWorker({ ...job, key: 'user', calls: 50 }));
  await Promise.all([holder, ...waiters].map((worker) => worker.ready));
  holder.go();
  await until(() => tokenRequests() > requestsBefore, "the holder's refresh request");
  for (const waiter of waiters) waiter.go();
  await new Promise((resolve) => setTimeout(resolve, 300)); // the waiters queue on the lock
  // Still mid-refresh: nothing was answered or stored yet.
  expect((await store.get('user'))?.refreshToken).toBe(original.refreshToken);
  expect(holder.process.exitCode).toBeNull();
  const killedAt = Date.now();
  holder.process.kill('SIGKILL');
  await once(holder.process, 'exit');
  const outcomes = await Promise.all(waiters.map((waiter) => waiter.result));
  expect(Date.now() - killedAt).toBeGreaterThanOrEqual(expectTakeoverAfterMs);
  const stored = await store.get('user');
  expect(stored?.refreshToken).not.toBe(original.refreshToken);
  expect(new Set(outcomes.flatMap((o) => o.tokens))).toEqual(new Set([stored?.accessToken]));
  await expectAllValid(outcomes, store, 'user');
  // The dead holder's request is still waiting in the emulator: let it land (refused, its
  // refresh token was rotated by the takeover) before the next test counts refreshes.
  await until(() => refreshGrants() - grantsBefore >= 3, "the dead holder's request", 15_000);
}

/** The stored refresh token works at the emulator (spent: the next check needs a new login). */
async function expectWorkingLogin(store: TokenStore, key: string): Promise<void> {
  const stored = await store.get(key);
  expect(stored?.refreshToken, 'a stored login').toBeDefined();
  const check = await tokenRequest({
    grant_type: 'refresh_token',
    refresh_token: stored?.refreshToken ?? '',
  });
  expect(check.status, 'the stored refresh token works').toBe(200);
}

/**
 * Holder A sends its refresh (held 800 ms in the emulator) and is stopped with SIGSTOP once
 * the request has arrived; the emulator answers it — rotating the refresh token — into A's
 * socket. A stays stopped past its lock's lifetime (lockTtl 2 s), and process B, refreshing
 * meanwhile, takes the lock and spends the rotated-away token: invalid_grant. Then A resumes.
 * A's caller may have timed out, but the store must end with a working login.
 */
async function pausedHolder(store: TokenStore, job: Record<string, unknown>): Promise<void> {
  await storeExpiredTokens(store, 'user');
  const requestsBefore = tokenRequests();
  const grantsBefore = refreshGrants();
  emulator.setFault({ endpoint: '/api/token', type: 'latency', latencyMs: 800, count: 1 });
  const options = {
    ...job,
    key: 'user',
    calls: 1,
    timeout: 1_000,
    lockTtl: 2_000,
    lockWait: 20_000,
  };
  const holder = startWorker(options);
  const other = startWorker(options);
  await Promise.all([holder.ready, other.ready]);
  holder.go();
  await until(() => tokenRequests() > requestsBefore, "the holder's refresh request");
  holder.process.kill('SIGSTOP');
  try {
    await until(() => refreshGrants() > grantsBefore, "Spotify's answer to the holder");
    other.go();
    const refused = await other.result;
    expect(refused.errors).toEqual([expect.stringMatching(/^REFRESH_TOKEN_REVOKED/)]);
  } finally {
    holder.process.kill('SIGCONT');
  }
  const resumed = await holder.result;
  // Its caller may have given up (TimeoutError); nothing else went wrong.
  for (const error of resumed.errors) expect(error).toMatch(/^TIMEOUT/);
  await expectWorkingLogin(store, 'user');
}

/** One process; the emulator answers after 2.5 s, the caller waits 2 s. */
async function slowUpstream(store: TokenStore, job: Record<string, unknown>): Promise<void> {
  const original = await storeExpiredTokens(store, 'user');
  emulator.setFault({ endpoint: '/api/token', type: 'latency', latencyMs: 2_500, count: 1 });
  const worker = startWorker({ ...job, key: 'user', calls: 1, timeout: 2_000 });
  await worker.ready;
  worker.go();
  const outcome = await worker.result;
  expect(outcome.errors).toEqual([expect.stringMatching(/^TIMEOUT/)]);
  const stored = await store.get('user');
  expect(stored?.refreshToken).not.toBe(original.refreshToken); // the late answer, stored
  await expectWorkingLogin(store, 'user');
}

const TRIALS = 5;

describe('FileStore: Sessions in several processes', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'stores-session-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('2 processes × 250 calls on an expired rotating token → one refresh, no invalid_grant', async () => {
    await concurrentRefresh(new FileStore({ directory }), { store: 'file', directory }, 2, 250);
  }, 60_000);

  it('the lock holder killed mid-refresh: the others take over at once, nothing is lost', async () => {
    await killedHolder(new FileStore({ directory }), { store: 'file', directory }, 5_000, 0);
  }, 60_000);

  it(`a holder paused past its lock after Spotify answered it: 0 logins lost in ${TRIALS} trials`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      await pausedHolder(new FileStore({ directory }), { store: 'file', directory });
    }
  }, 120_000);

  it('an upstream slower than timeout: TimeoutError, and the late answer is stored', async () => {
    await slowUpstream(new FileStore({ directory }), { store: 'file', directory });
  }, 30_000);
});

describe.skipIf(skipRedis)('RedisStore: Sessions in several processes', () => {
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

  it('4 processes × 250 Web API calls on an expired rotating token → one refresh, no invalid_grant', async () => {
    const job = { store: 'redis', url: redis.url, apiUrl: `${accounts.url}/v1` };
    await concurrentRefresh(new RedisStore({ client }), job, 4, 250);
    expect(emulator.stats().requests['GET /v1/me']).toBe(1_000);
  }, 60_000);

  it('the lock holder killed mid-refresh: its lock expires, one waiter refreshes, nothing is lost', async () => {
    const job = {
      store: 'redis',
      url: redis.url,
      timeout: 5_000,
      lockTtl: 6_000,
      lockWait: 20_000,
    };
    // The dead holder's lock lives up to lockTtl (6 s); the takeover comes after it expires,
    // before the emulator answers the dead holder's request (10 s).
    await killedHolder(new RedisStore({ client }), job, 10_000, 4_000);
  }, 60_000);

  it(`a holder paused past its lock after Spotify answered it: 0 logins lost in ${TRIALS} trials`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      await pausedHolder(new RedisStore({ client }), { store: 'redis', url: redis.url });
    }
  }, 120_000);

  it('an upstream slower than timeout: TimeoutError, and the late answer is stored', async () => {
    await slowUpstream(new RedisStore({ client }), { store: 'redis', url: redis.url });
  }, 30_000);
});
