/**
 * `spotify-session serve` as a process (the compiled dist; `npm test` builds first):
 * configuration problems exit 2 with one message each, the embedded default prints a
 * walk-through whose commands work, and SIGTERM lets an in-flight request finish.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve as honoServe, type ServerType } from '@hono/node-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP } from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

if (!existsSync(BIN))
  throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);

interface Serve {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once `predicate` holds for the output so far (checked on every chunk). */
  waitFor: (predicate: () => boolean, what: string) => Promise<void>;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

function serve(env: Record<string, string>, args: string[] = []): Serve {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    notify();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    notify();
  });
  const waitFor = (predicate: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (predicate()) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      exited.then((code) =>
        reject(new Error(`serve exited (${code}) before ${what}:\n${err}\n${out}`)),
      );
      check();
    });
  return { child, stdout: () => out, stderr: () => err, waitFor, exited };
}

function listeningUrl(s: Serve): string {
  for (const line of s.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === 'listening' && entry.url !== undefined) return entry.url;
  }
  throw new Error('no "listening" line');
}

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

describe('npm start', () => {
  it('builds, then runs `spotify-session serve`', () => {
    const manifest = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'),
    ) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(manifest.scripts.start).toBe('node dist/cli/bin.js serve');
    expect(manifest.scripts.prestart).toBe('npm run build');
    expect(manifest.bin['spotify-session']).toBe('dist/cli/bin.js');
  });
});

describe('configuration problems', () => {
  it('production without settings: exit 2, one message per missing variable', async () => {
    const s = serve({ NODE_ENV: 'production' });
    expect(await s.exited).toBe(2);
    const problems = s
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('  - '));
    expect(problems.map((line) => line.slice(4).split(' ')[0])).toEqual([
      'SPOTIFY_CLIENT_ID',
      'SPOTIFY_CLIENT_SECRET',
      'SPOTIFY_REDIRECT_URI',
      'TOKEN_ENCRYPTION_KEYS',
    ]);
    expect(s.stdout()).toBe('');
  });

  it('bad values: exit 2, each named once, secrets never echoed', async () => {
    const secret = 'do-not-print-this-secret';
    const s = serve(
      {
        SPOTIFY_CLIENT_ID: 'id',
        SPOTIFY_CLIENT_SECRET: secret,
        SPOTIFY_REDIRECT_URI: 'http://localhost:8888/callback',
        TOKEN_ENCRYPTION_KEYS: `k1:${secret}`,
        REDIS_URL: 'localhost:6379',
      },
      ['--port', '99999'],
    );
    expect(await s.exited).toBe(2);
    const problems = s
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('  - '));
    expect(problems).toHaveLength(4);
    // The flag gave the value, so the message names the flag.
    expect(problems[0]).toContain('--port must be a whole number from 0 to 65535');
    expect(problems[1]).toMatch(/REDIS_URL/);
    expect(problems[2]).toMatch(/SPOTIFY_REDIRECT_URI entry 1: .*localhost/);
    expect(problems[3]).toMatch(/TOKEN_ENCRYPTION_KEYS entry 1/);
    expect(s.stderr()).not.toContain(secret);
  });

  it.each([
    ['BASE_PATH with a .. segment', { BASE_PATH: '/v1/..' }, /^BASE_PATH must be a path/],
    ['an unparsable HOST', { HOST: 'not a host!' }, /^HOST must be an IP address/],
    [
      'an empty SPOTIFY_REDIRECT_URI entry',
      { SPOTIFY_REDIRECT_URI: 'spotify-session-demo://callback,,myapp://x' },
      /^SPOTIFY_REDIRECT_URI entry 2 is empty/,
    ],
  ])('%s: exit 2 with one message', async (_what, override, message) => {
    const s = serve({
      NODE_ENV: 'production',
      SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
      SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
      SPOTIFY_REDIRECT_URI: 'spotify-session-demo://callback',
      TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
      PORT: '0',
      ...override,
    });
    expect(await s.exited).toBe(2);
    const problems = s
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('  - '));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.slice(4)).toMatch(message);
  });

  it.each(['prod', 'PRODUCTION'])(
    'NODE_ENV=%s without credentials: exit 2, never the embedded emulator',
    async (NODE_ENV) => {
      const s = serve({ NODE_ENV, PORT: '0' });
      expect(await s.exited).toBe(2);
      expect(s.stderr()).toContain(`NODE_ENV is "${NODE_ENV}"`);
      expect(s.stderr()).not.toContain('DEMO MODE');
    },
  );

  it('--client-secret is refused: use the environment variable (exit 2)', async () => {
    const s = serve({ NODE_ENV: 'production' }, ['--client-secret', 'shh-secret-value']);
    expect(await s.exited).toBe(2);
    expect(s.stderr()).toMatch(/--client-secret is not accepted.*SPOTIFY_CLIENT_SECRET/s);
    expect(s.stderr()).not.toContain('shh-secret-value');
  });

  it('--redirect-uri repeated and comma-separated: every URI is kept', async () => {
    const s = serve(
      {
        NODE_ENV: 'production',
        SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
        SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
        TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
      },
      ['--redirect-uri', 'myapp://a,myapp://b', '--redirect-uri', 'http://localhost/cb'],
    );
    expect(await s.exited).toBe(2);
    // The third URI (repeated flag) was read and checked, not silently dropped.
    expect(s.stderr()).toMatch(/--redirect-uri entry 3: .*localhost/);
  });

  it('a port in use: exit 1 (a runtime failure, not a usage error)', async () => {
    const blocker = await new Promise<ServerType>((resolve) => {
      const created = honoServe(
        { hostname: '127.0.0.1', port: 0, fetch: () => new Response() },
        () => resolve(created),
      );
    });
    try {
      const port = (blocker.address() as AddressInfo).port;
      const s = serve({
        NODE_ENV: 'production',
        SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
        SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
        SPOTIFY_REDIRECT_URI: 'spotify-session-demo://callback',
        TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
        PORT: String(port),
      });
      expect(await s.exited).toBe(1);
      expect(s.stderr()).toContain('already in use');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('serve --help lists every setting, env-only ones included, and the exit codes', async () => {
    const s = serve({}, ['--help']);
    expect(await s.exited).toBe(0);
    for (const name of [
      'SPOTIFY_CLIENT_SECRET',
      'TOKEN_ENCRYPTION_KEYS',
      'RATE_LIMIT_WINDOW_S',
      'REFRESH_TOKEN_MAX_AGE_S',
      'SHUTDOWN_GRACE_MS',
      'DRAIN_DELAY_MS',
      'MAX_CONNECTIONS',
      '--max-connections',
      'NODE_ENV',
      'Exit codes',
    ]) {
      expect(s.stdout()).toContain(name);
    }
    expect(s.stdout()).toMatch(/^ {2}2 {2}usage or configuration error/m);
  });

  it('an unknown flag is a usage error: exit 2', async () => {
    const s = serve({ NODE_ENV: 'production' }, ['--no-such-flag']);
    expect(await s.exited).toBe(2);
  });
});

/** The walk-through's commands run for real with curl, or replayed as fetches without it. */
const hasCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;

async function runWalkThrough(banner: string): Promise<{ code: string; outputs: string[] }> {
  const commands = banner
    .split('\n')
    .filter((line) => /^ {5}(CODE=|SWAP=|REFRESH_TOKEN=|REFRESHED=|ACCESS_TOKEN=|curl )/.test(line))
    .map((line) => line.trim());
  expect(commands).toHaveLength(6);
  if (hasCurl) {
    // curl prints no newline after the /v1/me answer: the first echo adds it.
    const script = `set -e\n${commands.join('\n')}\necho\necho "$CODE"\n`;
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>(
      (resolve) => {
        const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.on('close', (exitCode) => resolve({ stdout: out, code: exitCode }));
      },
    );
    expect(code).toBe(0);
    const [swapText = '', refreshText = '', meText = '', printedCode = ''] = stdout.split('\n');
    return { code: printedCode, outputs: [swapText, refreshText, meText] };
  }
  const urls = commands.map((command) => /'(http[^']+)'/.exec(command)?.[1]);
  const [authorizeUrl, swapUrl, , refreshUrl, , meUrl] = urls as [
    string,
    string,
    unknown,
    string,
    unknown,
    string,
  ];
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' });
  const code = new URL(authorize.headers.get('location') as string).searchParams.get('code');
  const swap = await fetch(swapUrl, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ code: code as string }).toString(),
  });
  const swapText = await swap.text();
  const refresh = await fetch(refreshUrl, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({
      refresh_token: (JSON.parse(swapText) as { refresh_token: string }).refresh_token,
    }).toString(),
  });
  const refreshText = await refresh.text();
  const me = await fetch(meUrl, {
    headers: {
      Authorization: `Bearer ${(JSON.parse(refreshText) as { access_token: string }).access_token}`,
    },
  });
  return { code: code as string, outputs: [swapText, refreshText, await me.text()] };
}

describe('the embedded default', () => {
  it(`without credentials: a loud banner and a walk-through whose commands work (${hasCurl ? 'curl' : 'fetch'})`, async () => {
    const s = serve({ PORT: '0' });
    await s.waitFor(() => s.stderr().includes('Press Ctrl+C to stop.'), 'the walk-through');
    const banner = s.stderr();
    expect(banner).toContain('DEMO MODE');
    expect(banner).toContain('THROW-AWAY encryption key');

    expect(banner).toMatch(/Press Ctrl\+C to stop\.\n$/);

    const { code, outputs } = await runWalkThrough(banner);
    expect(code).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(outputs).toHaveLength(3);
    const swapped = JSON.parse(outputs[0] as string) as {
      access_token: string;
      refresh_token: string;
    };
    expect(swapped.access_token).toBeTruthy();
    expect(swapped.refresh_token).toMatch(/^v1\./);
    const refreshed = JSON.parse(outputs[1] as string) as { access_token: string };
    expect(refreshed.access_token).toBeTruthy();
    expect(refreshed.access_token).not.toBe(swapped.access_token);
    // The walk-through ends with the Web API answering the refreshed token.
    expect(JSON.parse(outputs[2] as string)).toMatchObject({ id: 'demo-user', type: 'user' });

    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    // The process's own output never carries what it handled.
    const output = s.stdout() + s.stderr();
    expect(output).toContain('"route":"/swap"');
    expect(output).toContain('"route":"/refresh"');
    for (const secret of [
      code,
      swapped.access_token,
      swapped.refresh_token,
      refreshed.access_token,
      DEMO_APP.clientSecret,
    ]) {
      expect(output).not.toContain(secret);
    }
  });
});

describe('SIGTERM', () => {
  const emulator = createEmulator({ autoApprove: true });
  /** Set by the test: holds the next token request until the test lets it through. */
  let hold: { arrived: () => void; released: Promise<void> } | undefined;
  let upstream: ServerType;
  let upstreamUrl: string;
  beforeAll(async () => {
    upstream = await new Promise<ServerType>((resolve) => {
      const created = honoServe(
        {
          hostname: '127.0.0.1',
          port: 0,
          fetch: async (request) => {
            const held = hold;
            if (held !== undefined && new URL(request.url).pathname === '/api/token') {
              hold = undefined;
              held.arrived();
              await held.released;
            }
            return emulator.fetch(request);
          },
        },
        () => resolve(created),
      );
    });
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(
    () => new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve())),
  );

  it('drains: the in-flight swap completes with 200, then the process exits 0', async () => {
    const s = serve({
      NODE_ENV: 'production',
      PORT: '0',
      SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
      SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
      SPOTIFY_REDIRECT_URI: 'spotify-session-demo://callback',
      SPOTIFY_ACCOUNTS_URL: upstreamUrl,
      TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
    });
    await s.waitFor(() => s.stdout().includes('"msg":"listening"'), 'listening');
    const url = listeningUrl(s);
    const authorize = new URL('/authorize', upstreamUrl);
    authorize.search = new URLSearchParams({
      client_id: DEMO_APP.clientId,
      response_type: 'code',
      redirect_uri: 'spotify-session-demo://callback',
    }).toString();
    const redirect = await fetch(authorize, { redirect: 'manual' });
    const code = new URL(redirect.headers.get('location') as string).searchParams.get('code');

    let release = () => {};
    const arrived = new Promise<void>((resolve) => {
      hold = {
        arrived: resolve,
        released: new Promise<void>((done) => {
          release = done;
        }),
      };
    });
    const inFlight = fetch(`${url}/swap`, { method: 'POST', headers: FORM, body: `code=${code}` });
    await arrived; // the swap is waiting on Spotify
    s.child.kill('SIGTERM');
    // The notice is a JSON log line like the others (stdout), not plain text among them.
    await s.waitFor(() => s.stdout().includes('"signal":"SIGTERM"'), 'the SIGTERM handler');
    expect(s.stderr()).not.toContain('SIGTERM');
    // Draining: new connections are refused while the in-flight swap is still open.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(s.child.exitCode).toBe(null);
    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { access_token?: string }).access_token).toBeTruthy();
    expect(await s.exited).toBe(0);
    expect(s.stdout()).toContain('"msg":"stopped"');
  });

  it('with DRAIN_DELAY_MS: /readyz says draining (503) first, then the listener closes', async () => {
    const s = serve({
      NODE_ENV: 'production',
      PORT: '0',
      SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
      SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
      SPOTIFY_REDIRECT_URI: 'spotify-session-demo://callback',
      SPOTIFY_ACCOUNTS_URL: upstreamUrl,
      TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
      DRAIN_DELAY_MS: '1500',
    });
    await s.waitFor(() => s.stdout().includes('"msg":"listening"'), 'listening');
    const url = listeningUrl(s);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    s.child.kill('SIGTERM');
    await s.waitFor(() => s.stdout().includes('"msg":"draining'), 'the draining log');
    const during = await fetch(`${url}/readyz`, { headers: { Connection: 'close' } });
    expect(during.status).toBe(503);
    expect(((await during.json()) as { status: string }).status).toBe('draining');
    expect(await s.exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
