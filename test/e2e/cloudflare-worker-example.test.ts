/**
 * examples/cloudflare-worker under workerd, Cloudflare's Workers runtime, through Miniflare:
 * `worker.ts` is bundled with esbuild the way Wrangler bundles it (the `workerd`, `worker`
 * and `browser` export conditions, `spotify-session/server` resolved to the BUILT package),
 * started as a module Worker with the compatibility date and flags of its wrangler.toml and
 * the bindings a deployment has, and called over HTTP: /swap, then /refresh with the sealed
 * token, against the emulator on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { build } from 'esbuild';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP } from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';
import { createScratchProject, REPO_ROOT } from '../runtimes/harness.js';

const EXAMPLE = join(REPO_ROOT, 'examples/cloudflare-worker');

/** `compatibility_date` and `compatibility_flags` from the example's wrangler.toml. */
function wranglerCompatibility(): { compatibilityDate: string; compatibilityFlags: string[] } {
  const toml = readFileSync(join(EXAMPLE, 'wrangler.toml'), 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? '';
  if (date === undefined) throw new Error('wrangler.toml has no compatibility_date');
  return {
    compatibilityDate: date,
    compatibilityFlags: [...flags.matchAll(/"([^"]+)"/g)].map((match) => match[1] ?? ''),
  };
}

async function bundleWorker(nodeModules: string): Promise<string> {
  const result = await build({
    entryPoints: [join(EXAMPLE, 'worker.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    // `spotify-session` resolves through the scratch project's node_modules (a link to this
    // repository), i.e. through package.json exports to dist/, as in a user's project.
    nodePaths: [nodeModules],
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no output');
  return output.text;
}

describe('examples/cloudflare-worker on workerd', () => {
  const redirectUri = 'spotify-session-demo://callback';
  let accounts: { url: string; close(): Promise<void> };
  let scratch: Awaited<ReturnType<typeof createScratchProject>>;
  let script: string;
  let bindings: Record<string, string>;
  const started: Miniflare[] = [];

  /** Starts the Worker on workerd with these bindings; `stderr` collects its console.error. */
  async function startWorker(env: Record<string, string>) {
    const { Miniflare, Log, LogLevel } = await import('miniflare');
    let stderr = '';
    const mf = new Miniflare({
      modules: true,
      script,
      scriptPath: join(EXAMPLE, 'worker.js'),
      ...wranglerCompatibility(),
      bindings: env,
      log: new Log(LogLevel.NONE),
      handleRuntimeStdio(stdout: Readable, errors: Readable) {
        stdout.resume();
        errors.on('data', (chunk: Buffer) => {
          stderr += chunk;
        });
      },
    });
    started.push(mf);
    try {
      await mf.ready;
    } catch (error) {
      throw new Error(`workerd did not start the Worker:\n${stderr}`, { cause: error });
    }
    return { mf, stderr: () => stderr };
  }

  function post(mf: Miniflare, path: string, form: Record<string, string>) {
    return mf.dispatchFetch(`https://swap.example.workers.dev${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'cf-connecting-ip': '203.0.113.7',
      },
      body: new URLSearchParams(form).toString(),
    });
  }

  beforeAll(async () => {
    scratch = await createScratchProject();
    script = await bundleWorker(join(scratch.dir, 'node_modules'));
    accounts = await createEmulator({ autoApprove: true, rotation: 'always' }).listen({
      port: 0,
      host: '127.0.0.1',
    });
    bindings = {
      SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
      SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
      SPOTIFY_REDIRECT_URI: redirectUri,
      TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
      SPOTIFY_ACCOUNTS_URL: accounts.url,
      LOG_LEVEL: 'silent',
    };
  });

  afterAll(async () => {
    await Promise.all(started.map((mf) => mf.dispose()));
    await accounts?.close();
    await scratch?.remove();
  });

  it('is bundled from the built package, with no Node built-in left to import', () => {
    expect(script).toContain('createTokenServer');
    expect(script).not.toMatch(/from\s*["']node:/);
  });

  it('swaps a code, refreshes with the sealed token, and refuses garbage as JSON', async () => {
    const { mf } = await startWorker(bindings);
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

    const swap = await post(mf, '/swap', { code: code! });
    expect(swap.status).toBe(200);
    expect(swap.headers.get('cache-control')).toBe('no-store');
    const swapped = (await swap.json()) as { access_token: string; refresh_token: string };
    expect(swapped.refresh_token).toMatch(/^v1\.k\d{8}[0-9a-f]{6}\.[A-Za-z0-9_-]+$/);

    const refresh = await post(mf, '/refresh', { refresh_token: swapped.refresh_token });
    expect(refresh.status).toBe(200);
    const refreshed = (await refresh.json()) as { access_token: string; refresh_token?: string };
    expect(refreshed.access_token).not.toBe(swapped.access_token);
    // The emulator rotated the token: the Worker hands back a newly sealed one.
    expect(refreshed.refresh_token).toMatch(/^v1\./);
    expect(refreshed.refresh_token).not.toBe(swapped.refresh_token);

    const garbage = await post(mf, '/refresh', { refresh_token: 'v1.nope.AAAA' });
    expect(garbage.status).toBe(400);
    expect(garbage.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await garbage.json()).toMatchObject({ error: 'invalid_grant' });

    const health = await mf.dispatchFetch('https://swap.example.workers.dev/healthz');
    expect(health.status).toBe(200);
  });

  it('answers a missing secret with a JSON server_error and logs which setting is missing', async () => {
    const { mf, stderr } = await startWorker({ ...bindings, SPOTIFY_CLIENT_SECRET: '' });
    const response = await post(mf, '/refresh', { refresh_token: 'v1.x.AAAA' });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: 'server_error' });
    // workerd forwards console.error to its stderr, which Miniflare hands over asynchronously.
    // The binding's own name, as loadTokenServerOptions reports it (as `serve` would).
    await expect.poll(stderr, { timeout: 5_000 }).toMatch(/SPOTIFY_CLIENT_SECRET is required/);
    expect(stderr()).not.toContain(DEMO_APP.clientSecret);
  });
});
