import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEmulator, DEMO_APP } from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';

type Env = Record<string, string>;
interface WorkerModule {
  default: { fetch(request: Request, env: Env, ctx: unknown): Promise<Response> };
}

// The example imports the BUILT package (`spotify-session/server`), which exists only after
// `npm run build`; `npm test` type-checks before it builds, so the module is loaded by a
// path tsc does not follow, and vitest (after the build) transforms it as usual.
const WORKER_PATH = '../../examples/cloudflare-worker/worker.ts';

// The Worker example, driven the way Workers call it: `fetch(request, env, ctx)` with
// bindings and no socket, against the emulator on 127.0.0.1.
describe('examples/cloudflare-worker', () => {
  let accounts: { url: string; close(): Promise<void> };
  let worker: WorkerModule['default'];
  let env: Env;
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {} };
  const redirectUri = 'spotify-session-demo://callback';

  beforeAll(async () => {
    worker = ((await import(/* @vite-ignore */ WORKER_PATH)) as WorkerModule).default;
    accounts = await createEmulator({ autoApprove: true, rotation: 'always' }).listen({
      port: 0,
      host: '127.0.0.1',
    });
    env = {
      SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
      SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
      SPOTIFY_REDIRECT_URI: redirectUri,
      TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
      SPOTIFY_ACCOUNTS_URL: accounts.url,
      LOG_LEVEL: 'silent',
    };
  });

  afterAll(async () => {
    await accounts?.close();
  });

  function post(path: string, form: Record<string, string>): Promise<Response> {
    const request = new Request(`https://swap.example.workers.dev${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'cf-connecting-ip': '203.0.113.7',
      },
      body: new URLSearchParams(form),
    });
    return worker.fetch(request, env, ctx);
  }

  it('answers a missing binding with a JSON server_error, then recovers', async () => {
    const complete = env;
    env = { ...complete, SPOTIFY_CLIENT_SECRET: '' };
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const response = await post('/refresh', { refresh_token: 'v1.x.AAAA' });
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ error: 'server_error' });
      expect(logged).toHaveBeenCalledWith('clientSecret is required');
    } finally {
      logged.mockRestore();
      env = complete;
    }
  });

  it('swaps a code, refreshes with the sealed token, and refuses garbage as JSON', async () => {
    const authorize = new URL('/authorize', accounts.url);
    authorize.search = new URLSearchParams({
      client_id: DEMO_APP.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      state: 's',
    }).toString();
    const approved = await fetch(authorize, { redirect: 'manual' });
    const code = new URL(approved.headers.get('location') ?? '').searchParams.get('code');
    expect(code).toBeTruthy();

    const swap = await post('/swap', { code: code! });
    expect(swap.status).toBe(200);
    const swapped = (await swap.json()) as { access_token: string; refresh_token: string };
    expect(swapped.refresh_token).toMatch(/^v1\.k\d{8}[0-9a-f]{6}\.[A-Za-z0-9_-]+$/);

    const refresh = await post('/refresh', { refresh_token: swapped.refresh_token });
    expect(refresh.status).toBe(200);
    const refreshed = (await refresh.json()) as { access_token: string; refresh_token?: string };
    expect(refreshed.access_token).not.toBe(swapped.access_token);
    // The emulator rotated the token: the Worker hands back a newly sealed one.
    expect(refreshed.refresh_token).toMatch(/^v1\./);
    expect(refreshed.refresh_token).not.toBe(swapped.refresh_token);

    const garbage = await post('/refresh', { refresh_token: 'v1.nope.AAAA' });
    expect(garbage.status).toBe(400);
    expect(garbage.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await garbage.json()).toMatchObject({ error: 'invalid_grant' });
  });
});
