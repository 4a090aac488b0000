/**
 * FileStore across real processes: concurrent writers never leave a torn or
 * unreadable file, the lock keeps read-modify-write updates from being lost,
 * and a holder killed with SIGKILL does not block the others until its ttl.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/stores/file.js';
import { bundleForNode } from '../support/stores/bundle.js';

let child: string;
let root: string;

beforeAll(async () => {
  child = await bundleForNode(
    fileURLToPath(new URL('../support/stores/child.ts', import.meta.url)),
    'store-child',
  );
  root = await mkdtemp(join(tmpdir(), 'file-store-e2e-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(child, { force: true });
});

function run(job: Record<string, unknown>): { process: ChildProcess; done: Promise<string> } {
  const proc = spawn(process.execPath, [child, JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const done = once(proc, 'exit').then(([code, signal]) => {
    if (code !== 0) throw new Error(`child exited with ${code ?? signal}:\n${err}`);
    return out;
  });
  done.catch(() => {});
  return { process: proc, done };
}

async function waitForOutput(proc: ChildProcess, text: string): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(text)) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code} before "${text}"`)));
  });
}

describe('FileStore across processes', () => {
  it('4 writers × 150 writes while a reader reads: every read is whole, the file stays 0600', async () => {
    const directory = join(root, 'writers');
    const store = new FileStore({ directory });
    await store.set('shared', { accessToken: 'BQstart' });
    const writers = [1, 2, 3, 4].map(() =>
      run({ store: 'file', directory, task: 'write', key: 'shared', count: 150 }),
    );
    let reads = 0;
    let running = true;
    const finished = Promise.all(writers.map((writer) => writer.done)).finally(() => {
      running = false;
    });
    while (running) {
      const tokens = await store.get('shared'); // throws on a torn or corrupt file
      expect(tokens?.accessToken).toMatch(/^BQ/);
      reads++;
    }
    await finished;
    expect(reads).toBeGreaterThan(10);
    const last = await store.get('shared');
    expect(last?.expiresAt).toBe(149);
    expect((await stat(join(directory, 'shared.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(directory)).toEqual(['shared.json']); // no temporary files left
  });

  it('4 processes × 25 locked read-modify-write increments lose no update', async () => {
    const directory = join(root, 'counter');
    const store = new FileStore({ directory });
    const workers = [1, 2, 3, 4].map(() =>
      run({ store: 'file', directory, task: 'increment', key: 'counter', count: 25 }),
    );
    await Promise.all(workers.map((worker) => worker.done));
    expect((await store.get('counter'))?.expiresAt).toBe(100);
    expect(await readdir(directory)).toEqual(['counter.json']); // lock released, no guard left
  });

  it('6 processes racing to take over one expired lock hold it one at a time', async () => {
    const directory = join(root, 'expired');
    await mkdir(directory, { recursive: true });
    // Expired, held by a live process (this one's parent): only the expiry makes it stale.
    await writeFile(
      join(directory, 'k.lock'),
      JSON.stringify({
        pid: process.ppid,
        host: hostname(),
        owner: 'old',
        expiresAt: Date.now() - 1,
      }),
    );
    const workers = [1, 2, 3, 4, 5, 6].map(() =>
      run({ store: 'file', directory, task: 'span', key: 'k', wait: 30_000 }),
    );
    const spans = (await Promise.all(workers.map((worker) => worker.done)))
      .map(
        (output) =>
          (/span (\d+) (\d+)/.exec(output) ?? []).slice(1).map(Number) as [number, number],
      )
      .sort((a, b) => a[0] - b[0]);
    expect(spans).toHaveLength(6);
    for (let i = 1; i < spans.length; i++) {
      // Each holder starts after the previous one let go: never two at once.
      expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? Number.NaN);
    }
    expect(await readdir(directory)).toEqual([]);
  });

  it('a holder killed with SIGKILL is taken over at once (dead pid), long before its ttl', async () => {
    const directory = join(root, 'killed');
    const holder = run({ store: 'file', directory, task: 'hold', key: 'k', ttl: 120_000 });
    await waitForOutput(holder.process, 'held');
    const lockFile = join(directory, 'k.lock');
    expect(JSON.parse(await readFile(lockFile, 'utf8')).pid).toBe(holder.process.pid);

    const waiters = [1, 2, 3].map(() =>
      run({ store: 'file', directory, task: 'acquire', key: 'k', wait: 30_000 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    holder.process.kill('SIGKILL');
    const outputs = await Promise.all(waiters.map((waiter) => waiter.done));
    for (const output of outputs) {
      const waited = Number(/acquired (\d+)/.exec(output)?.[1]);
      expect(waited).toBeLessThan(10_000); // the ttl was 120 s
    }
    expect(await readdir(directory)).toEqual([]);
  });
});
