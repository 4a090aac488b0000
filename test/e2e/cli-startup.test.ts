/**
 * The everyday commands' fast start (docs/cli.md, "What a command loads"): `token` with a valid
 * stored login reads the tokens file and nothing else, `api` loads no commander, no emulator
 * and no server, and sends on `node:http`; both answer exactly as through commander; a token
 * about to expire still goes through the Session and its lock. Against the emulator, with the compiled CLI (`npm test`
 * builds dist/ first). What loads is checked here; how long it takes, in bench/cli-startup.mjs.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/emulator/index.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const TRACE = fileURLToPath(new URL('../support/trace-modules.mjs', import.meta.url));
if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);

const APP = {
  clientId: 'startup-app',
  clientSecret: 'startup-secret',
  redirectUris: ['http://127.0.0.1/callback'],
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let emulator: Emulator;
let server: EmulatorServer;
let home: string;
let env: Record<string, string>;

function cli(args: string[], nodeOptions: string[] = [], extra: Record<string, string> = {}) {
  return new Promise<Result>((resolve) => {
    const options = { env: { ...env, ...extra }, timeout: 20_000, killSignal: 'SIGKILL' as const };
    execFile(process.execPath, [...nodeOptions, BIN, ...args], options, (error, stdout, stderr) => {
      const code = error === null ? 0 : ((error as { code?: number }).code ?? -1);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The command's result, the files of this repository it loaded (`dist/…`), Node's own modules,
 * and the files it opened or read through `node:fs/promises`.
 */
async function traced(
  args: string[],
): Promise<Result & { loaded: string[]; builtins: string[]; opened: string[] }> {
  const file = join(home, `trace-${Math.random().toString(36).slice(2)}.txt`);
  await writeFile(file, '');
  const result = await cli(args, ['--import', TRACE], { TRACE_MODULES_FILE: file });
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const lines = (await readFile(file, 'utf8')).split('\n');
  const loaded = lines
    .filter((url) => url.startsWith('file:'))
    .map((url) => fileURLToPath(url).replace(root, ''));
  const builtins = lines.filter((line) => line.startsWith('builtin:')).map((line) => line.slice(8));
  const opened = lines.filter((line) => line.startsWith('opened:')).map((line) => line.slice(7));
  return { ...result, loaded, builtins, opened };
}

const tokensFile = () => join(home, 'spotify-session', 'default.json');
const settingsFile = () => join(home, 'spotify-session', 'default.profile.json');
const stored = async () =>
  JSON.parse(await readFile(tokensFile(), 'utf8')) as {
    accessToken: string;
    refreshToken: string;
    expiresAt: number;
  };
const refreshes = () =>
  (emulator.stats() as unknown as { grants?: Record<string, number> }).grants?.refresh_token ?? 0;

beforeAll(async () => {
  emulator = createEmulator({ apps: [APP], autoApprove: true, rotation: 'always' });
  server = await emulator.listen({ port: 0 });
  home = await mkdtemp(join(tmpdir(), 'spotify-session-startup-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CONFIG_HOME: home,
    SPOTIFY_CLIENT_ID: APP.clientId,
    SPOTIFY_ACCOUNTS_URL: server.url,
    SPOTIFY_API_URL: `${server.url}/v1`,
  };
  // Log in as a user would, the browser's part done with fetch (auto-approve).
  const login = spawn(process.execPath, [BIN, 'login', '--no-open', '--port', '0'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => login.once('exit', resolve));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    login.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(stderr);
      if (match?.[1] !== undefined && stderr.includes('Waiting for the login')) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`login exited (${code}):\n${stderr}`)));
  });
  const authorized = await fetch(url, { redirect: 'manual' });
  await fetch(authorized.headers.get('location') as string);
  expect(await exited).toBe(0);
});

afterAll(async () => {
  await server?.close();
  if (home !== undefined) await rm(home, { recursive: true, force: true });
});

describe('what the everyday commands load', () => {
  it('token with a valid stored login: the reading side of the store and the token checks, no Session, no commander', async () => {
    const result = await traced(['token']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${(await stored()).accessToken}\n`);
    const unwanted = result.loaded.filter((file) =>
      /commander|oauth4webapi|core\/(index|session|grants|_http)\.js|\/api\/|emulator|server\/(?!_env-near-miss|internal\.js)|hono|pino|_stored-session|stores\/file\.js/.test(
        file,
      ),
    );
    expect(unwanted).toEqual([]);
    // The file store's reading side and core's token checks, not the store or every error.
    expect(result.loaded).toContain('dist/stores/file-read.js');
    expect(result.loaded).toContain('dist/core/tokens.js');
    // 18 since the parts meet through their internal.ts (issue 16): node/internal.js brings its
    // three small helpers, server/internal.js the near-miss check, core/_assert.js the object
    // check; each a few hundred bytes (docs/benchmarks.md, "CLI cold start").
    expect(result.loaded.length).toBeLessThanOrEqual(18);
    expect(result.builtins.filter((id) => /undici|crypto|^http/.test(id))).toEqual([]);
    // One read of the stored login, and no other file (not even the profile's settings).
    expect(result.opened).toEqual([tokensFile()]);
  });

  it('api GET /me: the client on node:http, no commander, no emulator or server, one read of the login', async () => {
    const result = await traced(['api', 'GET', '/me']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ type: 'user' });
    const unwanted = result.loaded.filter((file) =>
      /commander|emulator|server\/(?!_env-near-miss|internal\.js)|hono|pino|_file-lock/.test(file),
    );
    expect(unwanted).toEqual([]);
    // The operation table loads on purpose: the client refuses before sending a call the
    // login's scopes cannot make (the CLI says so), and only the table knows the scopes.
    expect(result.loaded).toContain('dist/api/client.js');
    // Node's own http client, not the global fetch (undici, http2, web streams).
    expect(result.builtins).toContain('http');
    expect(result.builtins.filter((id) => /undici|http2/.test(id))).toEqual([]);
    // The Session's first load is the read openStoredSession made: the tokens file once.
    expect(result.opened.filter((file) => file === tokensFile())).toHaveLength(1);
  });

  it('--help still goes through commander', async () => {
    const result = await traced(['token', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: spotify-session token');
    expect(result.loaded.some((file) => file.includes('commander'))).toBe(true);
  });
});

describe('the same answer through either parser', () => {
  // A trailing `--` is valid and changes nothing, but only commander reads it.
  it.each([[['token']], [['token', '--json']], [['api', 'GET', '/me']], [['whoami']]])(
    '%j',
    async (args) => {
      const fast = await cli(args);
      const commander = await cli([...args, '--']);
      expect(fast.code, fast.stderr).toBe(0);
      expect(commander).toEqual(fast);
    },
  );

  it('errors too: one line, the same exit code', async () => {
    for (const args of [
      ['api', 'PATCH', '/me'],
      ['api', 'GET', '/search', '--query', 'nothing'],
      ['api', 'GET', '/nonexistent'],
      ['token', '--profile', 'bad name'],
      ['token', '--profile', 'nobody'],
    ]) {
      const fast = await cli(args);
      const commander = await cli([...args, '--']);
      expect(fast.code, args.join(' ')).not.toBe(0);
      expect(commander, args.join(' ')).toEqual(fast);
    }
  });
});

describe('token', () => {
  it('reads the tokens once and nothing else: a broken profile file does not stop it', async () => {
    const settings = await readFile(settingsFile(), 'utf8');
    try {
      await writeFile(settingsFile(), 'not json', { mode: 0o600 });
      const token = await cli(['token']);
      expect(token.code, token.stderr).toBe(0);
      expect(token.stdout).toBe(`${(await stored()).accessToken}\n`);
      // Commands that need the settings still say what is wrong with them.
      const api = await cli(['api', 'GET', '/me']);
      expect(api.code).toBe(2);
      expect(api.stderr).toContain('default.profile.json cannot be read');
    } finally {
      await writeFile(settingsFile(), settings, { mode: 0o600 });
    }
  });

  it('renews a token that expires within the minute, through the Session, and stores the rotation', async () => {
    const before = await stored();
    const expiresAt = Math.floor(Date.now() / 1000) + 30;
    await writeFile(tokensFile(), JSON.stringify({ ...before, expiresAt }), { mode: 0o600 });
    const count = refreshes();
    const result = await cli(['token']);
    expect(result.code, result.stderr).toBe(0);
    const after = await stored();
    expect(refreshes()).toBe(count + 1);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(result.stdout).toBe(`${after.accessToken}\n`);
    expect(after.accessToken).not.toBe(before.accessToken);
  });

  it('prints a token valid for more than the minute as it is, without a request', async () => {
    const before = await stored();
    const expiresAt = Math.floor(Date.now() / 1000) + 90;
    await writeFile(tokensFile(), JSON.stringify({ ...before, expiresAt }), { mode: 0o600 });
    const count = refreshes();
    const result = await cli(['token', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      accessToken: before.accessToken,
      expiresAt,
      scope: ['user-read-private'],
    });
    expect(refreshes()).toBe(count);
  });
});
