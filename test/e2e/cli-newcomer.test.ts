/**
 * A new user's first ten minutes with the compiled CLI, without a browser: the emulator's
 * copy-paste login line, `api` errors that say the status, the path and the missing scope,
 * `login` failing in seconds on an unknown client or an unreachable Accounts service and
 * ignoring callbacks of another login, misspelt variables, and one-line usage errors.
 * `npm test` builds dist/ first.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_APP, type EmulatorServer } from '../../src/emulator/index.js';
import { Keyring } from '../../src/server/keyring.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

let home: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'spotify-session-newcomer-'));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** The environment of a user with nothing set but a config directory of their own. */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: home, ...extra };
}

function cli(args: string[], env: Record<string, string>): Promise<Result> {
  const started = performance.now();
  return new Promise((resolve) => {
    // A command that should have ended but runs on (a regression) is killed, not leaked.
    const options = { env, timeout: 20_000, killSignal: 'SIGKILL' as const };
    execFile(process.execPath, [BIN, ...args], options, (error, stdout, stderr) => {
      const code = error === null ? 0 : ((error as { code?: number }).code ?? -1);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

interface RunningLogin {
  child: ChildProcess;
  authorizeUrl: URL;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `login` and resolves once it printed the URL to open. */
function startLogin(args: string[], env: Record<string, string>): Promise<RunningLogin> {
  const child = spawn(process.execPath, [BIN, 'login', '--no-open', '--port', '0', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(stderr);
      if (match?.[1] !== undefined && stderr.includes('Waiting for the login')) {
        resolve({ child, authorizeUrl: new URL(match[1]), stderr: () => stderr, exited });
      }
    });
    void exited.then((code) => reject(new Error(`login exited (${code}) early:\n${stderr}`)));
  });
}

/** What the browser does after Spotify approved: follow the redirect to the callback. */
async function approve(login: RunningLogin): Promise<Response> {
  const authorized = await fetch(login.authorizeUrl, { redirect: 'manual' });
  expect(authorized.status).toBe(302);
  return fetch(authorized.headers.get('location') as string);
}

function callbackUrl(login: RunningLogin, query: Record<string, string>): string {
  const url = new URL(login.authorizeUrl.searchParams.get('redirect_uri') as string);
  url.search = new URLSearchParams(query).toString();
  return url.href;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('emulator → login → api, as the emulator prints it', () => {
  it('the printed line logs the CLI in; api errors name the status, the path and the scope', async () => {
    const emulator = spawn(
      process.execPath,
      [BIN, 'emulator', '--port', '0', '--auto-approve', 'demo-user'],
      { env: baseEnv(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(emulator);
    let printed = '';
    await new Promise<void>((resolve) => {
      emulator.stdout?.on('data', (chunk: Buffer) => {
        printed += chunk.toString();
        if (printed.includes('Press Ctrl+C')) resolve();
      });
    });
    const line =
      /^ {2}(SPOTIFY_ACCOUNTS_URL=\S+ SPOTIFY_API_URL=\S+ spotify-session login .*)$/m.exec(
        printed,
      )?.[1];
    expect(line).toMatch(
      /^SPOTIFY_ACCOUNTS_URL=http:\/\/127\.0\.0\.1:\d+ SPOTIFY_API_URL=http:\/\/127\.0\.0\.1:\d+\/v1 spotify-session login --client-id spotify-session-demo --no-open$/,
    );
    const [accounts = '', api = '', , , ...loginArgs] = (line as string).split(' ');
    const env = baseEnv({
      SPOTIFY_ACCOUNTS_URL: accounts.split('=')[1] as string,
      SPOTIFY_API_URL: api.split('=')[1] as string,
    });

    const login = await startLogin(loginArgs, env);
    expect((await approve(login)).status).toBe(200);
    expect(await login.exited).toBe(0);

    const me = await cli(['api', 'GET', '/me'], env);
    expect(me.code, me.stderr).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ id: 'demo-user' });

    const missing = await cli(['api', 'GET', '/nonexistent'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: HTTP 404 GET /nonexistent: Service not found\n');

    // The login's scopes are known: the call is refused before it is sent.
    const player = await cli(['api', 'GET', '/me/player'], env);
    expect(player.code).toBe(1);
    expect(player.stderr).toBe(
      'error: GET /me/player was not sent: this login lacks a scope it needs. ' +
        "Spotify's reference lists user-read-playback-state for GET /me/player; this login has user-read-private. " +
        'Log in again adding user-read-playback-state: spotify-session login --scope user-read-private user-read-playback-state\n',
    );
    const stats = (await (await fetch(`${accounts.split('=')[1]}/__emulator/stats`)).json()) as {
      requests: Record<string, number>;
    };
    expect(stats.requests['GET /v1/me/player']).toBeUndefined();
    emulator.kill('SIGTERM');
  });
});

describe('login checks the Accounts service before waiting for the browser', () => {
  let server: EmulatorServer;
  beforeAll(async () => {
    server = await createEmulator({
      apps: [
        DEMO_APP,
        { clientId: 'mobile-only', clientSecret: 's', redirectUris: ['myapp://cb'] },
      ],
      autoApprove: true,
    }).listen();
  });
  afterAll(() => server?.close());

  it('an unknown client id: exit 2 in seconds, saying which and what to use', async () => {
    const result = await cli(
      ['login', '--no-open', '--port', '0', '--client-id', 'no-such-app', '--timeout', '60'],
      baseEnv({ SPOTIFY_ACCOUNTS_URL: server.url }),
    );
    expect(result.code).toBe(2);
    expect(result.ms).toBeLessThan(5_000);
    expect(result.stderr).toContain('"INVALID_CLIENT: Invalid client"');
    expect(result.stderr).toContain('this was no-such-app');
    expect(result.stderr).not.toContain('Waiting for the login');
  });

  it('a redirect URI the app did not register: exit 2, naming the URI to register', async () => {
    const result = await cli(
      ['login', '--no-open', '--port', '0', '--client-id', 'mobile-only', '--timeout', '60'],
      baseEnv({ SPOTIFY_ACCOUNTS_URL: server.url }),
    );
    expect(result.code).toBe(2);
    expect(result.ms).toBeLessThan(5_000);
    expect(result.stderr).toMatch(
      /"INVALID_CLIENT: Invalid redirect URI": register http:\/\/127\.0\.0\.1:\d+\/callback/,
    );
  });

  it('an Accounts service nobody answers at: exit 1 in seconds, naming the URL and variable', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli(
      ['login', '--no-open', '--port', '0', '--client-id', 'x', '--timeout', '60'],
      baseEnv({ SPOTIFY_ACCOUNTS_URL: url }),
    );
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(5_000);
    expect(result.stderr).toBe(
      `error: Cannot reach the Accounts service at ${url} (SPOTIFY_ACCOUNTS_URL): ECONNREFUSED. ` +
        'Check SPOTIFY_ACCOUNTS_URL (unset means https://accounts.spotify.com) and the network\n',
    );
  });
});

describe('login answers only its own callback', () => {
  let server: EmulatorServer;
  beforeAll(async () => {
    server = await createEmulator({ autoApprove: true }).listen();
  });
  afterAll(() => server?.close());
  const env = () =>
    baseEnv({ SPOTIFY_ACCOUNTS_URL: server.url, SPOTIFY_CLIENT_ID: DEMO_APP.clientId });

  it('a callback with another state gets an error page; the real one still completes', async () => {
    const login = await startLogin(['--profile', 'state-test'], env());
    for (const query of [
      { code: 'forged', state: 'not-this-login' },
      { error: 'access_denied', state: 'not-this-login' },
      { error: 'access_denied' },
    ]) {
      const foreign = await fetch(callbackUrl(login, query));
      expect(foreign.status).toBe(400);
      expect(foreign.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await foreign.text()).toContain('does not match the login in progress');
    }
    expect(login.child.exitCode).toBeNull();
    expect((await approve(login)).status).toBe(200);
    expect(await login.exited).toBe(0);
  });

  it('access_denied with its state ends the login: exit 1, nothing stored', async () => {
    const login = await startLogin(['--profile', 'denied-test'], env());
    const state = login.authorizeUrl.searchParams.get('state') as string;
    const denied = await fetch(callbackUrl(login, { error: 'access_denied', state }));
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('Login cancelled');
    expect(await login.exited).toBe(1);
    expect(login.stderr()).toContain('Login cancelled in the browser');
    const token = await cli(['token', '--profile', 'denied-test'], env());
    expect(token.code).toBe(3);
  });
});

describe('misspelt variables', () => {
  it('serve, outside production: the near miss comes before the demo mode starts', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: baseEnv({ PORT: '0', SPOTIFY_CLIENTID: 'my-app' }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Press Ctrl+C')) resolve();
      });
    });
    const [first] = stderr.split('\n');
    expect(first).toBe(
      'spotify-session serve: SPOTIFY_CLIENTID is set but not read: did you mean SPOTIFY_CLIENT_ID?',
    );
    expect(stderr.indexOf('DEMO MODE')).toBeGreaterThan(0);
    child.kill('SIGTERM');
  });

  it('serve in production: a problem (exit 2), the value never shown', async () => {
    const result = await cli(
      ['serve'],
      baseEnv({
        NODE_ENV: 'production',
        SPOTIFY_CLIENT_ID: DEMO_APP.clientId,
        SPOTIFY_CLIENT_SECRET: DEMO_APP.clientSecret,
        SPOTIFY_REDIRECT_URI: 'spotify-session-demo://callback',
        TOKEN_ENCRYPTION_KEYS: Keyring.generateKeyString(),
        TOKEN_ENCRYPTION_KEY: 'k1:never-printed',
        PORT: '0',
      }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '  - TOKEN_ENCRYPTION_KEY is set but not read: did you mean TOKEN_ENCRYPTION_KEYS?',
    );
    expect(result.stderr).not.toContain('never-printed');
  });

  it('token: the near miss, then what failed', async () => {
    const result = await cli(['token', '--profile', 'nobody'], baseEnv({ spotify_client_id: 'x' }));
    expect(result.code).toBe(3);
    expect(result.stderr.split('\n')[0]).toBe(
      'spotify-session: spotify_client_id is set but not read: did you mean SPOTIFY_CLIENT_ID?',
    );
  });
});

describe('usage errors', () => {
  it.each([
    [['serve', '--client-secret', 'abc'], /^error: --client-secret is not accepted/, 'serve'],
    [['serve', '--no-such-flag'], /^error: unknown option '--no-such-flag'/, 'serve'],
    [['api', 'GET'], /^error: missing required argument 'path'/, 'api'],
    [['swap-tokens'], /^error: unknown command 'swap-tokens'/, ''],
  ])('%j: one line and where the help is (exit 2)', async (args, message, command) => {
    const result = await cli(args, baseEnv());
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toBe(`Run 'spotify-session ${command ? `${command} ` : ''}--help' for usage.`);
    expect(result.stderr).not.toContain('abc');
  });
});
