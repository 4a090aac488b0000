/**
 * The CLI's one exit-code table (docs/cli.md) and one `--redirect-uri` syntax, on the
 * `emulator` command (`serve` is covered in server-cli.test.ts): a port in use is a
 * runtime failure (1, no usage text), and redirect URIs may be repeated and comma-separated.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

describe('spotify-session emulator', () => {
  it('a port in use: exit 1, one line, no usage text', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as { port: number };
      const r = run(['emulator', '--port', String(port)]);
      expect(await r.exited).toBe(1);
      expect(r.stderr()).toMatch(/cannot listen on 127\.0\.0\.1:\d+/);
      expect(r.stderr()).not.toContain('Usage:');
    } finally {
      blocker.close();
    }
  });

  it('--redirect-uri repeated and comma-separated: every URI is registered', async () => {
    const r = run([
      'emulator',
      '--port',
      '0',
      '--redirect-uri',
      'myapp://a,myapp://b',
      '--redirect-uri',
      'https://app.example.com/cb',
    ]);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (r.stdout().includes('Press Ctrl+C')) resolve();
      };
      r.child.stdout?.on('data', check);
      r.exited.then((code) => reject(new Error(`exited ${code}: ${r.stderr()}`)));
    });
    expect(r.stdout()).toContain(
      'redirect URIs:  myapp://a, myapp://b, https://app.example.com/cb',
    );
  });

  it('an empty --redirect-uri entry is a usage error (exit 2)', async () => {
    const r = run(['emulator', '--port', '0', '--redirect-uri', 'myapp://a,,myapp://b']);
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toMatch(/empty/);
  });
});
