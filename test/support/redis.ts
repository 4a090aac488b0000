/**
 * Starts a throw-away redis-server from the binary on PATH (no persistence) on a free
 * port, and stops it. When redis-server is missing, tests that need it are skipped with a
 * loud message on a developer's machine and fail under `CI=true`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import { skipLoudly } from './skip-or-fail.js';

function findRedisServer(): string | undefined {
  const candidates = [process.env.REDIS_SERVER_PATH, 'redis-server'];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '') continue;
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  return undefined;
}

/** Path (or name) of redis-server, or `undefined` when none is installed. */
export const redisServerPath: string | undefined = findRedisServer();

/**
 * `true` when Redis tests must be skipped (no redis-server, not under CI).
 * Under `CI=true` a missing redis-server throws instead, failing the suite.
 */
export function skipWithoutRedis(): boolean {
  if (redisServerPath !== undefined) return false;
  const message =
    'redis-server not found on PATH (or $REDIS_SERVER_PATH): install it with `apt-get install -y redis-server`.';
  return skipLoudly('Redis', message);
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** A running redis-server. */
export interface TestRedis {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, waits for exit). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop()`), empty. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Lets a paused process run again (SIGCONT). */
  resume(): void;
}

/** Starts redis-server on a free port with `--save '' --appendonly no`. */
export async function startRedis(): Promise<TestRedis> {
  if (redisServerPath === undefined) throw new Error('redis-server is not installed');
  const binary = redisServerPath;
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child !== undefined) return;
    const started = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          started.stdout?.off('data', onData);
          resolve();
        }
      };
      started.stdout?.on('data', onData);
      started.once('exit', (code) =>
        reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)),
      );
    });
    await ready;
    // Keep draining its output so the pipe never fills.
    started.stdout?.resume();
    started.stderr?.resume();
    if (!(await canConnect(port)))
      throw new Error('redis-server says ready but refuses connections');
  }

  async function stop(): Promise<void> {
    const running = child;
    if (running === undefined) return;
    child = undefined;
    if (running.exitCode === null && running.signalCode === null) {
      const exited = once(running, 'exit');
      // A paused process must run again to act on SIGTERM.
      running.kill('SIGCONT');
      running.kill('SIGTERM');
      await exited;
    }
  }

  function signal(name: NodeJS.Signals): void {
    if (child === undefined) throw new Error('redis-server is not running');
    child.kill(name);
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
  };
}
