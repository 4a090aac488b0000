#!/usr/bin/env node
/**
 * Token server `/refresh` throughput and latency against a minimal hand-written Node proxy
 * doing the same work, in one process tree and one run.
 *
 *   npm run bench                          # builds, then: node bench/token-server.mjs
 *   node bench/token-server.mjs --duration 10 --rounds 3 --connections 50 --markdown out.md
 *   node bench/token-server.mjs --scenario rotation --cpu-prof prof/   # + CPU profiles
 *   node bench/token-server.mjs --serve-bin /other/checkout/dist/cli/bin.js  # before/after
 *   node bench/token-server.mjs --cors-origins https://app.example  # ours with CORS on
 *   node bench/token-server.mjs --nice=-10  # on a shared machine (root): run ahead of others
 *
 * Processes (each its own Node process, started here, stopped at the end):
 * - upstream: bench/_upstream.mjs, a fake token endpoint answering in microseconds;
 * - reference: bench/_reference-proxy.mjs, node:http + node:crypto, about 100 lines;
 * - ours: `spotify-session serve` (dist/cli/bin.js) exactly as an operator runs it:
 *   Prometheus metrics (always on), rate limits ON with in-memory counters and limits that
 *   never refuse, logs silent.
 * Load: wrk (POST, bench/refresh.lua) over keep-alive connections. The two proxies are
 * pinned to CPU 0, wrk and the upstream to CPU 1 (taskset), so each proxy has one core.
 * Scenarios: no rotation, and rotation (the upstream returns a new refresh token every
 * time, so the proxies unseal AND seal). Each target is warmed up (the JIT), then the targets
 * take turns in rounds; the table shows the median round. "CPU µs/req" is the proxy
 * process's user + system CPU time (from /proc) per answered request: unlike req/s it
 * hardly depends on what else the machine runs. Exits non-zero when any answer was not 2xx.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Keyring } from '../dist/server/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    markdown: { type: 'string' },
    'cpu-prof': { type: 'string' },
    scenario: { type: 'string' },
    nice: { type: 'string' },
    'serve-bin': { type: 'string' },
    'cors-origins': { type: 'string' },
  },
});
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const CLIENT_ID = 'bench-client-id';
const CLIENT_SECRET = 'bench-client-secret';

const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
if (!hasWrk) {
  console.error('wrk is not installed (apt-get install wrk): the bench needs it');
  process.exit(1);
}
const cores = cpus().length;
/** `nice -n N taskset -c CPU command…`: pinned, and with --nice, ahead of other jobs. */
function pin(cpu, command) {
  let argv = command;
  if (hasTaskset && cores > 1) argv = ['taskset', '-c', String(cpu), ...argv];
  if (args.nice !== undefined) argv = ['nice', '-n', args.nice, ...argv];
  return [argv[0], argv.slice(1)];
}
if (!hasTaskset || cores < 2)
  console.error('note: taskset or a second core is missing; nothing is pinned');

const children = new Set();
function start(cpu, command, env = {}) {
  const [file, argv] = pin(cpu, command);
  const child = spawn(file, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function stopAll() {
  for (const child of children) child.kill('SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

/** Resolves with the first JSON line a child prints (`{"port":N}`). */
function firstLine(child) {
  return new Promise((resolvePort, reject) => {
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline >= 0) resolvePort(JSON.parse(text.slice(0, newline)));
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
}

function freePort() {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function waitUntilUp(url) {
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

async function checkOnce(url, sealed, rotation) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `refresh_token=${sealed}`,
  });
  const body = await response.json();
  const ok =
    response.status === 200 &&
    typeof body.access_token === 'string' &&
    (typeof body.refresh_token === 'string') === rotation;
  if (!ok) throw new Error(`${url} answered ${response.status} ${JSON.stringify(body)}`);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (process.env.BENCH_DEBUG)
      console.error(`pid ${pid} utime ${fields[11]} stime ${fields[12]}`);
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

const UNITS = { us: 0.001, ms: 1, s: 1000 };
function ms(text) {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  return match ? Number(match[1]) * UNITS[match[2]] : Number.NaN;
}

function runWrk(url, sealed, seconds, pid) {
  const cpuBefore = cpuSeconds(pid);
  const [file, argv] = pin(1, [
    'wrk',
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '--latency',
    '-s',
    join(here, 'refresh.lua'),
    url,
  ]);
  const run = spawnSync(file, argv, {
    env: { ...process.env, BENCH_REFRESH_TOKEN: sealed },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`);
  const out = run.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? '');
  const p99 = ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '');
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: (.*)/.exec(out)?.[1];
  const cpuUsPerRequest = ((cpuSeconds(pid) - cpuBefore) * 1e6) / requests;
  return { rps, p50, p99, requests, errors: non2xx, socketErrors, cpuUsPerRequest };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function scenario(rotation, keys, sealed) {
  const upstream = start(1, [
    process.execPath,
    join(here, '_upstream.mjs'),
    ...(rotation ? ['--rotate'] : []),
  ]);
  const { port: upstreamPort } = await firstLine(upstream);
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;

  const profile =
    args['cpu-prof'] === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', resolve(args['cpu-prof'])];
  const reference = start(0, [process.execPath, ...profile, join(here, '_reference-proxy.mjs')], {
    UPSTREAM_URL: upstreamUrl,
    TOKEN_ENCRYPTION_KEYS: keys,
    CLIENT_ID,
    CLIENT_SECRET,
  });
  const { port: referencePort } = await firstLine(reference);

  const oursPort = await freePort();
  const ours = start(
    0,
    [
      process.execPath,
      ...profile,
      resolve(args['serve-bin'] ?? join(here, '..', 'dist', 'cli', 'bin.js')),
      'serve',
    ],
    {
      NODE_ENV: 'production',
      SPOTIFY_CLIENT_ID: CLIENT_ID,
      SPOTIFY_CLIENT_SECRET: CLIENT_SECRET,
      SPOTIFY_REDIRECT_URI: 'myapp://callback',
      SPOTIFY_ACCOUNTS_URL: upstreamUrl,
      TOKEN_ENCRYPTION_KEYS: keys,
      HOST: '127.0.0.1',
      PORT: String(oursPort),
      LOG_LEVEL: 'silent',
      RATE_LIMIT_IP: '1000000',
      RATE_LIMIT_TOKEN: '1000000',
      RATE_LIMIT_WINDOW_S: '1',
      ...(args['cors-origins'] === undefined ? {} : { CORS_ORIGINS: args['cors-origins'] }),
    },
  );
  await waitUntilUp(`http://127.0.0.1:${oursPort}/healthz`);

  const targets = [
    {
      name: 'spotify-session serve',
      url: `http://127.0.0.1:${oursPort}/refresh`,
      pid: ours.pid,
      runs: [],
    },
    {
      name: 'reference node:http proxy',
      url: `http://127.0.0.1:${referencePort}/refresh`,
      pid: reference.pid,
      runs: [],
    },
  ];
  for (const target of targets) {
    await checkOnce(target.url, sealed, rotation);
    runWrk(target.url, sealed, WARMUP, target.pid);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of round % 2 ? [...targets].reverse() : targets) {
      target.runs.push(runWrk(target.url, sealed, DURATION, target.pid));
    }
  }
  ours.kill('SIGTERM');
  reference.kill('SIGTERM');
  upstream.kill('SIGTERM');
  await new Promise((r) => (children.size === 0 ? r() : ours.once('exit', r)));
  return targets.map((target) => ({
    name: target.name,
    requests: target.runs.reduce((sum, run) => sum + run.requests, 0),
    errors: target.runs.reduce((sum, run) => sum + run.errors, 0),
    socketErrors: target.runs.map((run) => run.socketErrors).filter(Boolean),
    rps: median(target.runs.map((run) => run.rps)),
    p50: median(target.runs.map((run) => run.p50)),
    p99: median(target.runs.map((run) => run.p99)),
    cpu: median(target.runs.map((run) => run.cpuUsPerRequest)),
  }));
}

const keys = Keyring.generateKeyString().replace(/^[^:]+/, 'bench');
const keyring = await Keyring.parse(keys);
const sealed = await keyring.seal(`AQB${'r'.repeat(128)}`, { clientId: CLIENT_ID });

const rows = [];
let failed = false;
const scenarios =
  args.scenario === 'rotation' ? [true] : args.scenario === 'no-rotation' ? [false] : [false, true];
for (const rotation of scenarios) {
  const label = rotation ? 'rotation' : 'no rotation';
  const [ours, reference] = await scenario(rotation, keys, sealed);
  for (const result of [ours, reference]) {
    if (result.errors > 0 || result.socketErrors.length > 0) failed = true;
    rows.push(
      `| ${label} | ${result.name} | ${result.requests} | ${result.errors} | ${Math.round(result.rps)} | ${result.p50.toFixed(2)} | ${result.p99.toFixed(2)} | ${Math.round(result.cpu)} |`,
    );
  }
  rows.push(
    `| ${label} | **ours / reference** | | | **${(ours.rps / reference.rps).toFixed(2)}×** | **${(ours.p50 / reference.p50).toFixed(2)}×** | **${(ours.p99 / reference.p99).toFixed(2)}×** | **${(ours.cpu / reference.cpu).toFixed(2)}×** |`,
  );
  for (const result of [ours, reference]) {
    if (result.socketErrors.length > 0)
      console.error(`${result.name}: socket errors ${result.socketErrors.join('; ')}`);
  }
}

const table = [
  '| scenario | target | requests | non-2xx | req/s | p50 ms | p99 ms | CPU µs/req |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
].join('\n');
const footer =
  `\n${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds of ${DURATION} s per target after ${WARMUP} s warm-up ` +
  `(median of rounds); CPU µs/req = the proxy process's user + system CPU time per answered request; Node ${process.version}, ${cores} CPUs (${cpus()[0]?.model.trim()})` +
  (hasTaskset && cores > 1 ? '; proxies on CPU 0, wrk + upstream on CPU 1.' : '; not pinned.') +
  (args['cors-origins'] === undefined ? '' : ` Ours with CORS_ORIGINS=${args['cors-origins']}.`);
console.log(table + footer);
if (args.markdown !== undefined) writeFileSync(args.markdown, `${table}\n${footer}\n`);
if (failed) {
  console.error('some requests failed (non-2xx or socket errors): see above');
  process.exitCode = 1;
}
