/**
 * The everyday CLI as a person uses it: `spotify-session login` against the emulator (no
 * auto-approve), headless Chromium opens the printed URL and clicks Agree; then `api`,
 * `whoami`, `token`, an expiry and a refresh with rotation, two `token` processes racing on
 * one expired rotating token, and `logout`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/emulator/index.js';
import { launchChromium, skipWithoutChromium } from '../support/chromium.js';

const run = promisify(execFile);
const BIN = 'dist/cli/bin.js';
const APP = {
  clientId: 'cli-app',
  clientSecret: 'cli-app-secret',
  redirectUris: ['http://127.0.0.1:8888/callback'],
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(skipWithoutChromium())('spotify-session login / token / api', () => {
  let emulator: Emulator;
  let server: EmulatorServer;
  let browser: Browser;
  let home: string;
  let env: NodeJS.ProcessEnv;

  async function cli(...args: string[]): Promise<Result> {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  const tokensFile = () => join(home, 'spotify-session', 'default.json');
  const storedTokens = async () =>
    JSON.parse(await readFile(tokensFile(), 'utf8')) as {
      accessToken: string;
      refreshToken: string;
      expiresAt: number;
      authorizedAt?: number;
    };

  /** Both clocks pass the access token's expiry: the emulator's and the one stored locally. */
  async function expireEverywhere(): Promise<void> {
    emulator.advanceClock(3700);
    const tokens = await storedTokens();
    await writeFile(tokensFile(), JSON.stringify({ ...tokens, expiresAt: 1 }), { mode: 0o600 });
  }

  beforeAll(async () => {
    emulator = createEmulator({ apps: [APP], rotation: 'always' });
    server = await emulator.listen({ port: 0 });
    browser = await launchChromium();
    home = await mkdtemp(join(tmpdir(), 'spotify-session-cli-'));
    env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: home,
      SPOTIFY_CLIENT_ID: APP.clientId,
      SPOTIFY_ACCOUNTS_URL: server.url,
      SPOTIFY_API_URL: `${server.url}/v1`,
    };
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  test('before login, token exits 3 and says to run login', async () => {
    const result = await cli('token');
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('spotify-session login');
  });

  test('login: the printed URL, Agree in Chromium, tokens stored with mode 0600', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, 'login', '--port', '0', '--no-open', '--scope', 'user-read-private user-read-email'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const authorizeUrl = await new Promise<string>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(stderr);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child.on('exit', () => reject(new Error(`login exited before printing a URL:\n${stderr}`)));
    });
    const page = await browser.newPage();
    await page.goto(authorizeUrl);
    await page.click('#agree');
    await page.waitForURL((url) => url.pathname === '/callback');
    await expect(page.locator('h1').textContent()).resolves.toBe('Logged in');
    await page.close();
    expect(await exited).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('Logged in');

    const tokens = await storedTokens();
    expect(tokens.accessToken).toBeTypeOf('string');
    expect(tokens.refreshToken).toBeTypeOf('string');
    expect((await stat(tokensFile())).mode & 0o777).toBe(0o600);
  });

  test('api GET /me prints the demo user; whoami says who it is', async () => {
    const result = await cli('api', 'GET', '/me');
    expect(result.code, result.stderr).toBe(0);
    const me = JSON.parse(result.stdout) as { id: string; type: string };
    expect(me.type).toBe('user');
    const who = await cli('whoami');
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toContain(`(${me.id})`);
    // Six months (180 days) after the login, however often it is refreshed.
    const { authorizedAt } = await storedTokens();
    expect(authorizedAt).toBeTypeOf('number');
    const end = new Date(((authorizedAt as number) + 15_552_000) * 1000).toISOString();
    expect(who.stdout).toContain(`login valid until ${end}\n`);
  });

  test('whoami on a login stored before authorizedAt was recorded: the end is unknown', async () => {
    const tokens = await storedTokens();
    const { authorizedAt: _, ...older } = tokens;
    await writeFile(tokensFile(), JSON.stringify(older), { mode: 0o600 });
    try {
      const who = await cli('whoami');
      expect(who.code, who.stderr).toBe(0);
      expect(who.stdout).toContain('login valid until unknown');
      expect(who.stdout).toContain('spotify-session login');
    } finally {
      // Whatever the command stored meanwhile, with the login's authorization time back.
      const current = await storedTokens();
      await writeFile(
        tokensFile(),
        JSON.stringify({ ...current, authorizedAt: tokens.authorizedAt }),
        {
          mode: 0o600,
        },
      );
    }
  });

  test('token prints a token the emulator accepts', async () => {
    const result = await cli('token');
    expect(result.code, result.stderr).toBe(0);
    const token = result.stdout.trim();
    expect(emulator.lookupAccessToken(token)).toBeDefined();
    const me = await fetch(`${server.url}/v1/me`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(200);
  });

  test('after expiry, token refreshes and the file holds the rotated refresh token', async () => {
    const before = await storedTokens();
    await expireEverywhere();
    const grantsBefore = refreshCount();
    const result = await cli('token', '--json');
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { accessToken: string; expiresAt: number };
    const after = await storedTokens();
    expect(refreshCount()).toBe(grantsBefore + 1);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.authorizedAt).toBe(before.authorizedAt);
    expect(after.accessToken).toBe(printed.accessToken);
    expect(emulator.lookupAccessToken(printed.accessToken)).toBeDefined();
  });

  test('two token processes at once on an expired rotating token: one refresh, both valid', async () => {
    await expireEverywhere();
    const grantsBefore = refreshCount();
    const [first, second] = await Promise.all([cli('token'), cli('token')]);
    expect(first?.code, first?.stderr).toBe(0);
    expect(second?.code, second?.stderr).toBe(0);
    expect(refreshCount()).toBe(grantsBefore + 1);
    for (const result of [first, second]) {
      expect(emulator.lookupAccessToken(result?.stdout.trim() ?? '')).toBeDefined();
    }
    // The stored refresh token is the newest: it refreshes once more.
    await expireEverywhere();
    const again = await cli('token');
    expect(again.code, again.stderr).toBe(0);
  });

  test('api errors are one line on stderr with exit 1; usage errors exit 2', async () => {
    const missing = await cli('api', 'GET', '/tracks/0000000000000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const badMethod = await cli('api', 'PATCH', '/me');
    expect(badMethod.code).toBe(2);
    const badQuery = await cli('api', 'GET', '/search', '--query', 'nothing');
    expect(badQuery.code).toBe(2);
  });

  test('logout forgets the tokens; token then exits 3', async () => {
    const result = await cli('logout');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('https://www.spotify.com/account/apps/');
    expect((await cli('token')).code).toBe(3);
  });

  function refreshCount(): number {
    const stats = emulator.stats() as unknown as {
      grants?: Record<string, number>;
    };
    return stats.grants?.refresh_token ?? 0;
  }
});
