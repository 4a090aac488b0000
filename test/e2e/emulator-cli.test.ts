/**
 * `spotify-session emulator` as a user runs it: the compiled CLI in a child
 * process. `npm test` builds dist/ first; run alone, this file builds it when
 * the compiled CLI is missing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}dist/cli/bin.js`;
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(bin) || !existsSync(`${root}dist/emulator/index.js`))
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
}, 120_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function startCli(
  args: string[],
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'emulator', ...args], { cwd: root });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined && output.includes('Press Ctrl+C'))
        resolve({ child, url: match[1], output: () => output });
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${output}`)));
  });
}

test('serves the configured app on the printed URL and stops cleanly on SIGTERM', async () => {
  const { child, url, output } = await startCli([
    '--port',
    '0',
    '--client-id',
    'cli-app',
    '--client-secret',
    'cli-secret',
    '--redirect-uri',
    'http://127.0.0.1:9000/cb',
    '--redirect-uri',
    'cli-app://cb',
    '--auto-approve',
    'demo-user-2',
    '--rotate',
    'always',
  ]);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(output()).toContain('cli-app');
  expect(output()).toContain('cli-secret');

  const authorized = await fetch(
    `${url}/authorize?client_id=cli-app&response_type=code&redirect_uri=${encodeURIComponent('cli-app://cb')}&state=s1`,
    { redirect: 'manual' },
  );
  expect(authorized.status).toBe(302);
  const location = new URL(authorized.headers.get('Location') ?? '');
  expect(location.protocol).toBe('cli-app:');
  expect(location.searchParams.get('state')).toBe('s1');

  const authorization = `Basic ${Buffer.from('cli-app:cli-secret').toString('base64')}`;
  const headers = {
    Authorization: authorization,
    'Content-Type': 'application/x-www-form-urlencoded',
  };
  const exchanged = await fetch(`${url}/api/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: location.searchParams.get('code') ?? '',
      redirect_uri: 'cli-app://cb',
    }),
  });
  expect(exchanged.status).toBe(200);
  const { refresh_token } = (await exchanged.json()) as { refresh_token: string };
  const refreshed = await fetch(`${url}/api/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token }),
  });
  expect(((await refreshed.json()) as { refresh_token?: string }).refresh_token).toMatch(/^AQ/);

  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  await expect(fetch(`${url}/__emulator/stats`)).rejects.toBeInstanceOf(TypeError);
});

test('invalid flags exit with code 2 and a clear message', async () => {
  const cases: [string[], RegExp][] = [
    [['--port', 'eighty'], /--port/],
    [['--rotate', 'sometimes'], /never, always, pkce/],
    [['--auto-approve', 'nobody', '--port', '0'], /nobody/],
    [['--redirect-uri', 'http://localhost:3000/cb', '--port', '0'], /refused/],
  ];
  const results = await Promise.all(
    cases.map(
      ([args]) =>
        new Promise<{ status: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [bin, 'emulator', ...args], { cwd: root });
          children.push(child);
          let stderr = '';
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
            stderr += chunk;
          });
          child.once('close', (status) => resolve({ status, stderr }));
        }),
    ),
  );
  results.forEach((result, index) => {
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(cases[index]?.[1] ?? /never/);
  });
});
