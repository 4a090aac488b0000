#!/usr/bin/env node
/**
 * What SpotifyWebAPI costs per request over a raw `fetch`, and how many token requests a
 * stampede on an expired token makes.
 *
 *   npm run build && node bench/api-overhead.mjs
 *   node bench/api-overhead.mjs --concurrency 20 --requests 18000 --rounds 9 --no-stampede --check
 *
 * Overhead: a minimal node:http server in a child process (so `process.cpuUsage()` counts the
 * calling side only) answers `GET /v1/me` with a fixed 180-byte JSON body, keep-alive. Five
 * targets call it, taking turns in rounds (each round starting with another one) so none
 * profits from a warmer JIT or a quieter moment:
 * - raw fetch: `fetch(url, { headers: { authorization } })` then `response.json()`;
 * - the official ts-sdk: `sdk.currentUser.profile()` (its `rootUrl` pointed at the server);
 * - client, bare token: `api.me()` after `api.setAccessToken(token)`;
 * - client, Session: `api.me()` on a Session whose token is valid (the auto-refresh check
 *   runs on every call, no refresh happens);
 * - client, Session + MemoryStore: the same on a store that keeps the shared 429 record.
 * Every answer is checked. CPU per call is the median of the rounds; the ratios to raw fetch
 * and to the ts-sdk are medians of per-round ratios. `--check` exits non-zero when a target
 * of issue 17 (item 6: ≤ 1.1× raw fetch, ≤ the ts-sdk) is missed; `--no-stampede` skips the
 * stampede.
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
import { SpotifyApi } from '@spotify/web-api-ts-sdk';
import { SpotifyWebAPI } from '../dist/api/index.js';
import { Session } from '../dist/core/index.js';
import { DEMO_APP } from '../dist/emulator/index.js';
import { MemoryStore } from '../dist/stores/index.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    warmup: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,20' },
    stampede: { type: 'string', default: '1000' },
    'no-stampede': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
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

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Latencies over every round; CPU per request as the median of the rounds' figures. */
function summarise(runs) {
  const all = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  return {
    requests: all.length,
    cpuPerRequest: median(runs.map((run) => run.cpuMicros / run.latencies.length)),
    cpuRounds: runs.map((run) => run.cpuMicros / run.latencies.length),
    rps: all.length / seconds,
    mean: all.reduce((sum, value) => sum + value, 0) / all.length,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
  };
}

/** The targets of issue 17 (item 6): CPU per call ≤ 1.1× raw fetch's and ≤ the official SDK's. */
const TARGET_VS_RAW = 1.1;
const OURS = ['client, bare token', 'client, Session'];

async function overhead() {
  // Its own process, so process.cpuUsage() below counts the calling side only.
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim())));
    child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  const rows = [];
  const verdicts = [];
  try {
    const apiUrl = `http://127.0.0.1:${port}/v1`;
    const bare = new SpotifyWebAPI({ apiUrl }).setAccessToken(TOKEN);
    const tokens = { accessToken: TOKEN, refreshToken: 'AQbench', expiresAt: 4_000_000_000 };
    const session = new Session({ clientId: 'bench', tokens });
    const withSession = new SpotifyWebAPI({ apiUrl }, session);
    // A store that keeps the shared 429 record: the client consults it before sending.
    const storeSession = new Session({
      clientId: 'bench',
      store: new MemoryStore({ tokens: { bench: tokens } }),
      storeKey: 'bench',
    });
    const withStore = new SpotifyWebAPI({ apiUrl }, storeSession);
    // The official SDK has no base URL option; its root is a public static.
    SpotifyApi.rootUrl = `${apiUrl}/`;
    const sdk = SpotifyApi.withAccessToken('bench', {
      access_token: TOKEN,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: 'AQbench',
      expires: 4_000_000_000_000,
    });
    const targets = {
      'raw fetch': async () => {
        const response = await fetch(`${apiUrl}/me`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
        return response.json();
      },
      'official ts-sdk': () => sdk.currentUser.profile(),
      'client, bare token': () => bare.me(),
      'client, Session': () => withSession.me(),
      'client, Session + MemoryStore': () => withStore.me(),
    };
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
      const stats = Object.fromEntries(
        Object.entries(runs).map(([name, r]) => [name, summarise(r)]),
      );
      // Ratios per round (both sides measured minutes apart at most), then their median.
      const ratio = (name, base) =>
        median(runs[name].map((run, index) => cpuOf(run) / cpuOf(runs[base][index])));
      for (const [name, s] of Object.entries(stats)) {
        rows.push({
          concurrency,
          name,
          ...s,
          vsRaw: ratio(name, 'raw fetch'),
          vsSdk: ratio(name, 'official ts-sdk'),
        });
      }
      for (const name of OURS) {
        const vsRaw = ratio(name, 'raw fetch');
        const vsSdk = ratio(name, 'official ts-sdk');
        verdicts.push({
          concurrency,
          name,
          vsRaw,
          vsSdk,
          ok: vsRaw <= TARGET_VS_RAW && vsSdk <= 1,
        });
      }
    }
  } finally {
    child.kill();
  }
  return { rows, verdicts };
}

const cpuOf = (run) => run.cpuMicros / run.latencies.length;

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
const { rows: overheadRows, verdicts } = await overhead();
const stampedeRows = args['no-stampede'] ? [] : await stampede();

const lines = [
  '| in flight | target | CPU µs/call (median of rounds) | × raw fetch | × ts-sdk | CPU µs/call per round | req/s | p50 ms | p99 ms |',
  '| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  ...overheadRows.map(
    (r) =>
      `| ${r.concurrency} | ${OURS.includes(r.name) ? `**${r.name}**` : r.name} | ${fmt(r.cpuPerRequest, 0)} | ${fmt(r.vsRaw, 2)} | ${fmt(r.vsSdk, 2)} | ${r.cpuRounds.map((v) => fmt(v, 0)).join(' ')} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} |`,
  ),
  '',
  ...verdicts.map(
    (v) =>
      `- ${v.concurrency} in flight, ${v.name}: ${fmt(v.vsRaw, 2)}× raw fetch (target ≤ ${TARGET_VS_RAW}), ${fmt(v.vsSdk, 2)}× the ts-sdk (target ≤ 1): ${v.ok ? 'met' : '**missed**'}`,
  ),
  ...(stampedeRows.length === 0
    ? []
    : [
        '',
        '| stampede | calls | succeeded | token requests | `GET /v1/me` requests | ms |',
        '| --- | ---: | ---: | ---: | ---: | ---: |',
        ...stampedeRows.map(
          (r) =>
            `| ${r.name} | ${r.calls} | ${r.ok} | **${r.tokenRequests}** | ${r.apiRequests} | ${fmt(r.ms, 0)} |`,
        ),
      ]),
  '',
  `Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores; ` +
    `${REQUESTS} calls per target and concurrency in ${ROUNDS} interleaved rounds after ${WARMUP} warm-up calls; ` +
    `ratios are medians of per-round ratios.`,
];
console.log(lines.join('\n'));
if (args.markdown) writeFileSync(args.markdown, `${lines.join('\n')}\n`);
if (args.check && verdicts.some((v) => !v.ok)) {
  console.error('overhead: a target of issue 17 (item 6) was missed');
  process.exitCode = 1;
}
if (stampedeRows.some((r) => r.ok !== r.calls || r.tokenRequests !== 1)) {
  console.error('stampede: expected every call to succeed with exactly one token request');
  process.exitCode = 1;
}
