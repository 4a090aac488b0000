/**
 * Two `spotify-session serve` processes sharing one real redis-server enforce one rate
 * limit; Redis going away does not stop the swap (fail-open, `/readyz` degraded), and a
 * Redis back on the same port is picked up again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP, type EmulatorServer } from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const REDIRECT = 'spotify-session-demo://callback';
const skip = skipWithoutRedis();

interface Instance {
  child: ChildProcess;
  url: string;
  logs: () => string;
  /** Resolves once `text` has been logged `times` times (checked on every chunk of output). */
  logged: (text: string, times?: number) => Promise<void>;
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  child.stderr?.resume();
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`))),
  );
  exited.catch(() => {});
  const logged = (text: string, times = 1) =>
    Promise.race([
      exited,
      new Promise<void>((resolve) => {
        const check = () => {
          if (occurrences(out, text) < times) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    ]);
  await logged('"msg":"listening"');
  const url = /"url":"(http:\/\/[^"]+)","msg":"listening"/.exec(out)?.[1] as string;
  return { child, url, logs: () => out, logged };
}

async function readiness(instance: Instance) {
  const response = await fetch(`${instance.url}/readyz`);
  return {
    status: response.status,
    body: (await response.json()) as {
      status: string;
      checks: { rateLimitStore: { kind: string; status: string } };
    },
  };
}

describe.skipIf(skip)('two instances sharing Redis', () => {
  const emulator = createEmulator({ autoApprove: true });
  let upstream: EmulatorServer;
  let redis: TestRedis;
  const instances: Instance[] = [];

  beforeAll(async () => {
    upstream = await emulator.listen({ port: 0 });
    redis = await startRedis();
    const env = {
      NODE_ENV: 'production',
      PORT: '0',
      SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
      SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
      SPOTIFY_REDIRECT_URI: REDIRECT,
      SPOTIFY_ACCOUNTS_URL: upstream.url,
      TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
      REDIS_URL: redis.url,
      RATE_LIMIT_IP: '5',
      RATE_LIMIT_TOKEN: '0',
    };
    instances.push(...(await Promise.all([startInstance(env), startInstance(env)])));
  });

  afterAll(async () => {
    await Promise.all(
      instances.map(async (instance) => {
        if (instance.child.exitCode !== null) return;
        const exited = once(instance.child, 'exit');
        instance.child.kill('SIGTERM');
        await exited;
      }),
    );
    await redis?.stop();
    await upstream?.close();
  });

  async function getCode(): Promise<string> {
    const url = new URL('/authorize', upstream.url);
    url.search = new URLSearchParams({
      client_id: DEMO_APP.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT,
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    return new URL(response.headers.get('location') as string).searchParams.get('code') as string;
  }

  const post = (instance: Instance, body = '') =>
    fetch(`${instance.url}/swap`, { method: 'POST', headers: FORM, body });

  async function expectSharedLimit([a, b]: [Instance, Instance]) {
    const statuses: number[] = [];
    for (const instance of [a, a, a, b, b, b]) statuses.push((await post(instance)).status);
    // 400 = "code is missing": allowed through the limit; the 6th request is refused.
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
  }

  it('enforce one limit together: 3 requests to A + 3 to B → the 6th is 429', async () => {
    const [a, b] = instances as [Instance, Instance];
    for (const instance of [a, b]) {
      await instance.logged('Redis connected');
      expect((await readiness(instance)).body.status).toBe('ready');
      expect((await readiness(instance)).body.checks.rateLimitStore).toEqual({
        kind: 'redis',
        status: 'ok',
      });
    }
    await expectSharedLimit([a, b]);
    const limited = await post(b);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('content-type')).toBe('application/json');
  });

  it('keep serving when Redis stops (fail-open), with /readyz degraded', async () => {
    const [a, b] = instances as [Instance, Instance];
    await redis.stop();
    for (const instance of [a, b]) {
      await instance.logged('Redis unreachable');
      const state = await readiness(instance);
      expect(state.body.status).toBe('degraded');
      expect(state.status).toBe(200);
      expect(state.body.checks.rateLimitStore).toEqual({ kind: 'redis', status: 'down' });
    }
    const started = Date.now();
    const code = await getCode();
    const swap = await post(a, `code=${code}`);
    expect(swap.status).toBe(200);
    const swapped = (await swap.json()) as { access_token: string; refresh_token: string };
    expect(swapped.access_token).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(a.logs()).toContain('Redis unreachable');
    for (const secret of [code, swapped.access_token, swapped.refresh_token, redis.url]) {
      expect(a.logs()).not.toContain(secret);
    }
  });

  it('pick Redis up again when it is back on the same port, sharing the limit again', async () => {
    const [a, b] = instances as [Instance, Instance];
    await redis.start();
    for (const instance of [a, b]) {
      await instance.logged('Redis connected', 2);
      expect((await readiness(instance)).body.status).toBe('ready');
    }
    await expectSharedLimit([a, b]);
  });
});
