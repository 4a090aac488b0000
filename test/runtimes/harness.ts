/**
 * The runtime matrix: which runtimes run the built package, how each is started, and the
 * scratch project through which they import it as a user would.
 *
 * Adding a runtime is one entry in `RUNTIMES`. A `process` runtime runs the generated
 * `entry.mjs` and prints one JSON line; `workerd` runs an esbuild bundle of the same entry
 * as a module Worker through Miniflare; `chromium` loads a browser bundle of it in a page
 * served from 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { launchChromium } from '../support/chromium.js';
import { publishedPackages, REPO_ROOT } from './packages.js';

export { publicSpecifiers, REPO_ROOT } from './packages.js';

const NODE_MODULES = join(REPO_ROOT, 'node_modules');

/** Every flow `flows.mjs` knows. */
export type FlowName =
  | 'authorization-code'
  | 'pkce'
  | 'refresh'
  | 'client-credentials'
  | 'api-me'
  | 'memory-store'
  | 'token-server';

/** What the flows need to reach the emulator; serialised into the generated entry. */
export interface FlowConfig {
  accountsUrl: string;
  apiUrl?: string | undefined;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  appRedirectUri: string;
  encryptionKeys: string;
  flows: FlowName[];
  authorizeVia?: 'fetch' | 'iframe';
}

/** One line of `flows.mjs` output: the runtime's own version and each flow's facts. */
export interface RuntimeResult {
  runtime: string;
  flows: Record<string, { ok: boolean; error?: string; [fact: string]: unknown }>;
}

export interface RuntimeCase {
  /** Shown in the test name and in docs/runtimes.md. */
  name: string;
  kind: 'process' | 'workerd' | 'chromium';
  /** For `process`: the command, arguments before the entry file. */
  command?: () => string[];
  /** Flows this runtime runs (the Web API flow is added when `spotify-session/api` exists). */
  flows: FlowName[];
  /** Whether `spotify-session/server` is imported (it is not bundled into the browser page). */
  server: boolean;
}

/**
 * A native binary from a dev dependency. The platform package is read first so that the
 * binary is found even when npm skipped the wrapper package's postinstall (which is what
 * copies or links the native binary into `deno/`, `bun/bin/`), then the wrapper's path.
 */
export function binary(...candidates: string[]): string {
  for (const candidate of candidates) {
    const path = join(NODE_MODULES, candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `none of ${candidates.map((c) => `node_modules/${c}`).join(', ')} exists: run \`npm ci\` (they are dev dependencies)`,
  );
}

const CORE_FLOWS: FlowName[] = [
  'authorization-code',
  'pkce',
  'refresh',
  'client-credentials',
  'memory-store',
];
const SERVER_FLOWS: FlowName[] = [...CORE_FLOWS, 'token-server'];

export const RUNTIMES: RuntimeCase[] = [
  {
    name: 'node (current)',
    kind: 'process',
    command: () => [process.execPath],
    flows: SERVER_FLOWS,
    server: true,
  },
  {
    name: 'node 22',
    kind: 'process',
    command: () => [binary('node22/bin/node')],
    flows: SERVER_FLOWS,
    server: true,
  },
  {
    name: 'node 24',
    kind: 'process',
    command: () => [binary('node24/bin/node')],
    flows: SERVER_FLOWS,
    server: true,
  },
  {
    name: 'deno',
    kind: 'process',
    // pino (the server's logger) reads os.hostname() when it loads: --allow-sys=hostname.
    command: () => [
      binary('@deno/linux-x64-glibc/deno', 'deno/deno'),
      'run',
      '--quiet',
      '--no-prompt',
      '--allow-net=127.0.0.1',
      '--allow-read',
      '--allow-env',
      '--allow-sys=hostname',
    ],
    flows: SERVER_FLOWS,
    server: true,
  },
  {
    name: 'bun',
    kind: 'process',
    command: () => [binary('@oven/bun-linux-x64/bin/bun', 'bun/bin/bun.exe')],
    flows: SERVER_FLOWS,
    server: true,
  },
  { name: 'workerd', kind: 'workerd', flows: SERVER_FLOWS, server: true },
  // A page holds no client secret: PKCE (with its refresh) is the browser's flow; the Web
  // API flow, when it runs, logs in with PKCE too.
  { name: 'chromium', kind: 'chromium', flows: ['pkce'], server: false },
];

/**
 * A scratch project whose `node_modules/spotify-session` is a symlink to this repository
 * (to each workspace package, by its name, if the repository becomes a workspace root):
 * every runtime resolves `spotify-session/...` through package.json `exports` to `dist/`,
 * as it would in a user's project, without packing and installing on every run.
 */
export async function createScratchProject(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'spotify-session-runtimes-'));
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ type: 'module', private: true, dependencies: { 'spotify-session': '*' } }),
  );
  for (const pkg of publishedPackages()) {
    const link = join(dir, 'node_modules', pkg.name);
    await mkdir(dirname(link), { recursive: true });
    await symlink(pkg.dir, link, 'dir');
  }
  await copyFile(join(import.meta.dirname, 'flows.mjs'), join(dir, 'flows.mjs'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The source of a runtime's entry module: imports by package name, runs, reports. */
export function entrySource(
  runtime: RuntimeCase,
  config: FlowConfig,
  withApi: boolean,
  report: 'stdout' | 'return',
): string {
  const imports = [
    `import * as core from 'spotify-session';`,
    runtime.server
      ? `import * as server from 'spotify-session/server';`
      : 'const server = undefined;',
    withApi ? `import * as api from 'spotify-session/api';` : 'const api = undefined;',
    `import * as stores from 'spotify-session/stores';`,
    `import { runFlows } from './flows.mjs';`,
  ];
  const run = `runFlows({ core, server, api, stores }, ${JSON.stringify(config)})`;
  const body =
    report === 'stdout'
      ? `const result = await ${run};\nconsole.log(JSON.stringify(result));\n`
      : `export const run = () => ${run};\n`;
  return `${imports.join('\n')}\n${body}`;
}

/** Bundles `entry` for a web-standard runtime (workerd, a browser), resolving from `dir`. */
async function bundle(dir: string, entry: string, conditions: string[]): Promise<string> {
  const result = await build({
    absWorkingDir: dir,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions,
    target: 'es2022',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no output');
  return output.text;
}

function lastJsonLine(stdout: string): RuntimeResult {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as RuntimeResult;
}

/** Runs a `process` runtime on the generated entry and parses the JSON it prints. */
export async function runProcess(
  runtime: RuntimeCase,
  dir: string,
  config: FlowConfig,
  withApi: boolean,
): Promise<RuntimeResult> {
  const file = `entry-${runtime.name.replace(/\W+/g, '-')}.mjs`;
  await writeFile(join(dir, file), entrySource(runtime, config, withApi, 'stdout'));
  const [command, ...args] = runtime.command?.() ?? [];
  if (command === undefined) throw new Error(`${runtime.name} has no command`);
  return new Promise((done, fail) => {
    const child = spawn(command, [...args, file], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`exited ${code ?? signal}`);
        done(lastJsonLine(stdout));
      } catch (error) {
        fail(new Error(`${runtime.name}: ${(error as Error).message}\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** Workerd settings shared by the matrix and the Worker example test. */
export const WORKERD_COMPATIBILITY = { compatibilityDate: '2026-04-26' };

/** Runs the flows inside a module Worker on workerd (Miniflare starts it on 127.0.0.1). */
export async function runWorkerd(
  runtime: RuntimeCase,
  dir: string,
  config: FlowConfig,
  withApi: boolean,
): Promise<RuntimeResult> {
  await writeFile(
    join(dir, 'entry-workerd-flows.mjs'),
    entrySource(runtime, config, withApi, 'return'),
  );
  await writeFile(
    join(dir, 'entry-workerd.mjs'),
    `import { run } from './entry-workerd-flows.mjs';\nexport default { async fetch() { return Response.json(await run()); } };\n`,
  );
  const script = await bundle(dir, 'entry-workerd.mjs', ['workerd', 'worker', 'browser']);
  const { Miniflare } = await import('miniflare');
  const mf = new Miniflare({ modules: true, script, ...WORKERD_COMPATIBILITY });
  try {
    const response = await mf.dispatchFetch('http://worker.invalid/');
    const text = await response.text();
    if (response.status !== 200) throw new Error(`workerd answered ${response.status}: ${text}`);
    const result = JSON.parse(text) as RuntimeResult;
    // A Worker cannot see workerd's version: name the binary Miniflare ran.
    const workerd = JSON.parse(
      readFileSync(join(NODE_MODULES, 'workerd/package.json'), 'utf8'),
    ) as { version: string };
    return { ...result, runtime: `workerd ${workerd.version}` };
  } finally {
    await mf.dispose();
  }
}

/**
 * Runs the flows in headless Chromium: a page on 127.0.0.1 (so its /callback is a registered
 * redirect URI of the demo app) loads a browser bundle of the entry and exposes the result.
 */
export async function runChromium(
  runtime: RuntimeCase,
  dir: string,
  config: FlowConfig,
  withApi: boolean,
): Promise<RuntimeResult> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pageConfig: FlowConfig = {
    ...config,
    redirectUri: `${origin}/callback`,
    clientSecret: '', // a page holds no client secret: PKCE only
    authorizeVia: 'iframe',
  };
  await writeFile(
    join(dir, 'entry-chromium-flows.mjs'),
    entrySource(runtime, pageConfig, withApi, 'return'),
  );
  await writeFile(
    join(dir, 'entry-chromium.mjs'),
    `import { run } from './entry-chromium-flows.mjs';\nrun().then((r) => { window.__result = r; }, (e) => { window.__result = { runtime: 'chromium', error: String(e), flows: {} }; });\n`,
  );
  const script = await bundle(dir, 'entry-chromium.mjs', ['browser']);
  server.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    if (path === '/bundle.js') {
      res.setHeader('content-type', 'text/javascript; charset=utf-8');
      res.end(script);
    } else if (path === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        '<!doctype html><meta charset="utf-8"><title>matrix</title><script type="module" src="/bundle.js"></script>',
      );
    } else if (path === '/callback') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!doctype html><title>callback</title>');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    const handle = await page.waitForFunction(
      () => (window as { __result?: unknown }).__result,
      null,
      {
        timeout: 50_000,
      },
    );
    return (await handle.jsonValue()) as RuntimeResult;
  } finally {
    await browser.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

/** Runs one runtime case. */
export function runRuntime(
  runtime: RuntimeCase,
  dir: string,
  config: FlowConfig,
  withApi: boolean,
): Promise<RuntimeResult> {
  const runner = { process: runProcess, workerd: runWorkerd, chromium: runChromium }[runtime.kind];
  return runner(runtime, dir, config, withApi);
}
