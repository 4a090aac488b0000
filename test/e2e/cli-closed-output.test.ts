/**
 * A reader that goes away (`spotify-session serve | head -2`) or stops reading must never
 * hold a command's shutdown or a request: `serve`, `emulator` and `login` with their stdout
 * (and stderr) piped into `head`, which exits, then SIGTERM. `npm test` builds dist/ first.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type EmulatorServer } from '../../src/emulator/index.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
/** The grace period `serve` is given; SIGTERM must end it within this + 1 s. */
const GRACE_MS = 2_000;

if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);

let directory: string;
const pids: number[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'spotify-session-closed-output-'));
});

afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

interface Piped {
  /** The CLI's process id. */
  pid: number;
  /** What `head` let through. */
  shown: string;
  /** The CLI's stderr (a file), when not piped into `head` as well. */
  stderr: () => Promise<string>;
  /** The CLI's exit status as the shell reports it (128 + n for signal n). */
  status: () => Promise<number>;
}

let runs = 0;

/**
 * Runs `spotify-session ...args` as `spotify-session ...args | head -n lines` would, and
 * resolves once `head` has exited and nothing reads the pipe any more (`lines: 0`: the pipe
 * has no reader from the start). With `stderrToo`, stderr goes into the same pipe (`2>&1`).
 */
async function pipedIntoHead(
  args: string[],
  options: { env: Record<string, string>; lines: number; stderrToo?: boolean },
): Promise<Piped> {
  const run = join(directory, `run-${runs++}`);
  const stderrTarget = options.stderrToo === true ? '2>&1' : '2>"$RUN.err"';
  // `head` exits after its lines; the group then closes its own copy of the pipe before
  // saying so, so "closed" means the CLI's stdout has no reader left.
  const head = options.lines === 0 ? '' : `head -n ${options.lines}; `;
  const script =
    `{ "$@" ${stderrTarget} & echo $! > "$RUN.pid"; wait $!; echo $? > "$RUN.status"; }` +
    ` | { ${head}exec 0<&-; echo '--closed--'; }`;
  const shell = spawn('sh', ['-c', script, 'sh', process.execPath, BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', RUN: run, ...options.env },
    // The shell's own stderr only says "Terminated" when the test ends the CLI.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(shell);
  let shown = '';
  await new Promise<void>((resolve, reject) => {
    shell.stdout?.on('data', (chunk: Buffer) => {
      shown += chunk.toString();
      if (shown.includes('--closed--\n')) resolve();
    });
    shell.on('exit', () => reject(new Error(`the pipeline ended early:\n${shown}`)));
  });
  // With no `head`, the reader side can finish before the CLI's side wrote its pid.
  let pidText = '';
  await waitUntil(async () => {
    pidText = await readFile(`${run}.pid`, 'utf8').catch(() => '');
    return pidText.endsWith('\n');
  });
  const pid = Number(pidText);
  pids.push(pid);
  return {
    pid,
    shown: shown.replace('--closed--\n', ''),
    stderr: () => readFile(`${run}.err`, 'utf8'),
    status: async () => {
      await new Promise<void>((resolve) => shell.once('exit', () => resolve()));
      return Number(await readFile(`${run}.status`, 'utf8'));
    },
  };
}

/** Sends SIGTERM and resolves with the exit status and how long the process took. */
async function terminate(piped: Piped): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  process.kill(piped.pid, 'SIGTERM');
  const status = await piped.status();
  return { status, ms: performance.now() - started };
}

describe('serve', () => {
  const env = { PORT: '0', SHUTDOWN_GRACE_MS: String(GRACE_MS) };

  it('exits on SIGTERM when `head` has closed its stdout (serve | head -1)', async () => {
    const piped = await pipedIntoHead(['serve'], { env, lines: 1 });
    expect(piped.shown).toContain('"msg":"listening"');
    const { status, ms } = await terminate(piped);
    expect(status).toBe(0);
    expect(ms).toBeLessThan(GRACE_MS + 1_000);
    expect(await piped.stderr()).not.toMatch(/Unhandled|\n {4}at /);
  });

  it('exits on SIGTERM when stdout and stderr both lost their reader', async () => {
    const piped = await pipedIntoHead(['serve'], { env, lines: 1, stderrToo: true });
    const { status, ms } = await terminate(piped);
    expect(status).toBe(0);
    expect(ms).toBeLessThan(GRACE_MS + 1_000);
  });

  it('answers requests and exits on SIGTERM while nobody reads its stdout', async () => {
    // A FIFO whose reader never reads: after 64 KiB of log lines every write would block.
    const fifo = join(directory, 'stalled');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, 'w');
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), RATE_LIMIT_IP: '0' },
      stdio: ['ignore', writer, 'ignore'],
    });
    children.push(child);
    closeSync(writer);
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitUntil(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok);
      // ~180 bytes of log per request: 600 requests overflow the 64 KiB pipe.
      for (let batch = 0; batch < 12; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => fetch(`${base}/healthz`)),
        );
        for (const answer of answers) expect(answer.status).toBe(200);
      }
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const started = performance.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(performance.now() - started).toBeLessThan(GRACE_MS + 1_000);
    } finally {
      closeSync(reader);
    }
  });
});

describe('emulator', () => {
  it('exits 0 on SIGTERM when `head` has closed its stdout, without a stack trace', async () => {
    const piped = await pipedIntoHead(['emulator', '--port', '0'], { env: {}, lines: 1 });
    expect(piped.shown).toContain('listening on');
    const { status, ms } = await terminate(piped);
    expect(await piped.stderr()).toBe('');
    expect(status).toBe(0);
    expect(ms).toBeLessThan(1_000);
  });

  it('runs with no reader on its stdout from the start, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const piped = await pipedIntoHead(['emulator', '--port', String(port)], {
      env: {},
      lines: 0,
    });
    await waitUntil(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/__emulator/stats`).catch(() => undefined))?.ok,
    );
    const { status, ms } = await terminate(piped);
    expect(await piped.stderr()).toBe('');
    expect(status).toBe(0);
    expect(ms).toBeLessThan(1_000);
  });
});

describe('login', () => {
  let emulator: EmulatorServer;
  beforeAll(async () => {
    emulator = await createEmulator().listen({ port: 0 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('keeps waiting with no reader on its stderr, and SIGTERM ends it at once', async () => {
    const port = await freePort();
    const piped = await pipedIntoHead(['login', '--no-open', '--port', String(port)], {
      env: {
        HOME: directory,
        XDG_CONFIG_HOME: directory,
        SPOTIFY_CLIENT_ID: 'spotify-session-demo',
        SPOTIFY_ACCOUNTS_URL: emulator.url,
      },
      lines: 0,
      stderrToo: true,
    });
    // Waiting for the browser on its callback port, not crashed by writing to the closed pipe.
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.status === 404,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(() => process.kill(piped.pid, 0)).not.toThrow();
    const { status, ms } = await terminate(piped);
    expect(status).toBe(128 + 15);
    expect(ms).toBeLessThan(1_000);
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUntil(check: () => Promise<boolean | undefined>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('timed out');
}
