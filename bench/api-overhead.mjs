#!/usr/bin/env node
/**
 * What SpotifyWebAPI costs per request over a raw `fetch`, and how many token requests a
 * stampede on an expired token makes.
 *
 *   npm run build && node bench/api-overhead.mjs
 *   node bench/api-overhead.mjs --requests 4000 --rounds 3 --concurrency 1,16 --markdown out.md
 *
 * Overhead: a minimal node:http server in a child process (so `process.cpuUsage()` counts the
 * calling side only) answers `GET /v1/me` with a fixed 180-byte JSON body, keep-alive. Three
 * targets call it, taking turns in rounds (each round starting with another one) so none
 * profits from a warmer JIT or a quieter moment:
 * - raw fetch: `fetch(url, { headers: { authorization } })` then `response.json()`;
 * - client, bare token: `api.me()` after `api.setAccessToken(token)`;
 * - client, Session: `api.me()` on a Session whose token is valid (the auto-refresh check
 *   runs on every call, no refresh happens).
 * Every answer is checked. Overhead = client − raw, per request, same run.
 *
 * Stampede: the Accounts emulator and its Web API (dist/emulator) in a process of its own,
 * driven through its control API; 1000 concurrent `api.me()` on a token that is expired
 * (proactive path: the Session sees it) or expired on the server's clock only (reactive path:
 * 1000 × 401), with and without refresh-token rotation. The count is the emulator's
 * refresh-grant counter; the run exits non-zero unless it is exactly 1 and every call succeeds.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { SpotifyWebAPI } from '../dist/api/index.js';
import { Session } from '../dist/core/index.js';
import { DEMO_APP } from '../dist/emulator/index.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    warmup: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,16' },
    stampede: { type: 'string', default: '1000' },
    markdown: { type: 'string' },
  },
});
const REQUESTS = Number(args.requests);
const WARMUP = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = args.concurrency.split(',').map(Number);
const STAMPEDE = Number(args.stampede);
const TOKEN = `BQ${'x'.repeat(150)}`;

const SERVER = `
const { createServer } = require('node:http');
const body = JSON.stringify({
  id: 'demo-user', type: 'user', uri: 'spotify:user:demo-user', display_name: 'Demo User',
  href: 'https://api.spotify.com/v1/users/demo-user', external_urls: {}, images: [],
});
const server = createServer((req, res) => {
  if (req.headers.authorization !== 'Bearer ${TOKEN}') { res.writeHead(401); res.end(); return; }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function load(call, requests, concurrency) {
  const latencies = new Float64Array(requests);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const index = next++;
        if (index >= requests) return;
        const t0 = performance.now();
        const me = await call();
        latencies[index] = performance.now() - t0;
        if (me?.id !== 'demo-user') throw new Error('unexpected answer');
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { latencies: [...latencies], seconds, cpuMicros: used.user + used.system };
}

function summarise(runs) {
  const all = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const cpuMicros = runs.reduce((sum, run) => sum + run.cpuMicros, 0);
  return {
    requests: all.length,
    cpuPerRequest: cpuMicros / all.length,
    rps: all.length / seconds,
    mean: all.reduce((sum, value) => sum + value, 0) / all.length,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
  };
}

async function overhead() {
  // Its own process, so process.cpuUsage() below counts the calling side only.
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim())));
    child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  const apiUrl = `http://127.0.0.1:${port}/v1`;
  const bare = new SpotifyWebAPI({ apiUrl }).setAccessToken(TOKEN);
  const session = new Session({
    clientId: 'bench',
    tokens: { accessToken: TOKEN, refreshToken: 'AQbench', expiresAt: 4_000_000_000 },
  });
  const withSession = new SpotifyWebAPI({ apiUrl }, session);
  const targets = {
    'raw fetch': async () => {
      const response = await fetch(`${apiUrl}/me`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      return response.json();
    },
    'client, bare token': () => bare.me(),
    'client, Session': () => withSession.me(),
  };
  const rows = [];
  for (const concurrency of CONCURRENCY) {
    for (const call of Object.values(targets)) await load(call, WARMUP, concurrency);
    const runs = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
    const entries = Object.entries(targets);
    for (let round = 0; round < ROUNDS; round += 1) {
      // Each round starts with another target, so none always runs first (or after the same one).
      for (let turn = 0; turn < entries.length; turn += 1) {
        const [name, call] = entries[(round + turn) % entries.length];
        runs[name].push(await load(call, Math.ceil(REQUESTS / ROUNDS), concurrency));
      }
    }
    const stats = Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, summarise(r)]));
    for (const [name, s] of Object.entries(stats)) rows.push({ concurrency, name, ...s });
    const raw = stats['raw fetch'];
    for (const name of ['client, bare token', 'client, Session']) {
      const s = stats[name];
      rows.push({
        concurrency,
        name: `**${name} − raw**`,
        overheadCpuUs: s.cpuPerRequest - raw.cpuPerRequest,
        overheadMeanUs: (s.mean - raw.mean) * 1000,
        overheadP50Us: (s.p50 - raw.p50) * 1000,
        rpsRatio: s.rps / raw.rps,
      });
    }
  }
  child.kill();
  return rows;
}

/**
 * The emulator in its own process (its own event loop, as Spotify would be), driven through
 * its control API: the stampede then measures the client, not a shared event loop.
 */
async function startEmulator(options) {
  const code = `
    import { createEmulator } from ${JSON.stringify(new URL('../dist/emulator/index.js', import.meta.url).href)};
    const server = await createEmulator(${JSON.stringify(options)}).listen({ port: 0 });
    process.stdout.write(server.url + '\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(String(chunk).trim()));
    child.once('exit', (exitCode) => reject(new Error(`the emulator exited (${exitCode})`)));
  });
  const control = async (path, body) => {
    const response = await fetch(`${url}/__emulator/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return response.json();
  };
  return { url, control, stop: () => child.kill() };
}

async function loggedIn(url) {
  const session = new Session({
    clientId: DEMO_APP.clientId,
    clientSecret: DEMO_APP.clientSecret,
    redirectUri: 'http://127.0.0.1:8888/callback',
    accountsUrl: url,
    timeout: 120_000,
  });
  const state = Session.generateState();
  const response = await fetch(session.getAuthorizeUrl({ scope: ['user-read-private'], state }), {
    redirect: 'manual',
  });
  await response.body?.cancel();
  await session.requestAccessToken(
    session.getCodeFromCallback(response.headers.get('location'), state),
  );
  return session;
}

async function stampede() {
  const scenarios = [
    { name: 'expired token, seen by the client (proactive)', rotation: 'never', lifetime: 30 },
    {
      name: `token expired on the server only (${STAMPEDE} × 401, reactive)`,
      rotation: 'never',
      advance: true,
    },
    { name: 'same, with refresh-token rotation', rotation: 'always', advance: true },
  ];
  const rows = [];
  for (const scenario of scenarios) {
    const emulator = await startEmulator({
      autoApprove: true,
      rotation: scenario.rotation,
      ...(scenario.lifetime ? { accessTokenLifetime: scenario.lifetime } : {}),
    });
    try {
      const session = await loggedIn(emulator.url);
      // Generous deadline: this counts token requests, it does not time a loaded machine.
      const api = new SpotifyWebAPI({ apiUrl: `${emulator.url}/v1`, timeout: 120_000 }, session);
      if (scenario.advance) await emulator.control('clock', { advance: 3601 });
      const before = (await emulator.control('stats')).grants.refresh_token ?? 0;
      const t0 = performance.now();
      const results = await Promise.allSettled(Array.from({ length: STAMPEDE }, () => api.me()));
      const ms = performance.now() - t0;
      const stats = await emulator.control('stats');
      const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason?.name);
      if (failures.length > 0) console.error(scenario.name, 'failures:', [...new Set(failures)]);
      rows.push({
        name: scenario.name,
        calls: STAMPEDE,
        ok: results.filter((r) => r.status === 'fulfilled' && r.value.id === 'demo-user').length,
        tokenRequests: (stats.grants.refresh_token ?? 0) - before,
        apiRequests: stats.requests['GET /v1/me'] ?? 0,
        ms,
      });
    } finally {
      emulator.stop();
    }
  }
  return rows;
}

const fmt = (value, digits = 1) => (value === undefined ? '' : value.toFixed(digits));
const overheadRows = await overhead();
const stampedeRows = await stampede();

const lines = [
  '| concurrency | target | requests | CPU µs/request | req/s | mean ms | p50 ms | p99 ms |',
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...overheadRows.map((r) =>
    r.overheadMeanUs === undefined
      ? `| ${r.concurrency} | ${r.name} | ${r.requests} | ${fmt(r.cpuPerRequest, 0)} | ${fmt(r.rps, 0)} | ${fmt(r.mean, 3)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} |`
      : `| ${r.concurrency} | ${r.name} | | **${r.overheadCpuUs >= 0 ? '+' : ''}${fmt(r.overheadCpuUs, 0)}** | ${fmt(r.rpsRatio, 2)}× | ${fmt(r.overheadMeanUs / 1000, 3)} | ${fmt(r.overheadP50Us / 1000, 3)} | |`,
  ),
  '',
  '| stampede | calls | succeeded | token requests | `GET /v1/me` requests | ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...stampedeRows.map(
    (r) =>
      `| ${r.name} | ${r.calls} | ${r.ok} | **${r.tokenRequests}** | ${r.apiRequests} | ${fmt(r.ms, 0)} |`,
  ),
  '',
  `Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores; ` +
    `${REQUESTS} requests per target and concurrency in ${ROUNDS} interleaved rounds after ${WARMUP} warm-up requests.`,
];
console.log(lines.join('\n'));
if (args.markdown) writeFileSync(args.markdown, `${lines.join('\n')}\n`);
if (stampedeRows.some((r) => r.ok !== r.calls || r.tokenRequests !== 1)) {
  console.error('stampede: expected every call to succeed with exactly one token request');
  process.exitCode = 1;
}
