#!/usr/bin/env node
/**
 * Refresh through the token swap server vs. the refresh grant sent straight to the Accounts
 * service, in one run, on loopback, at the same concurrency.
 *
 *   npm run bench                      # builds, then: node bench/swap.mjs
 *   node bench/swap.mjs --concurrency 16 --requests 3000 --rounds 3 --markdown bench-result.md
 *
 * Three targets talk to the same emulator (dist/emulator), each in its own worker thread:
 * - direct: the refresh grant sent straight to the emulator's /api/token;
 * - bare proxy: a few lines that forward the form to the emulator — the extra hop alone;
 * - token server (dist/server via its Node adapter, as `spotify-session serve` runs it,
 *   Prometheus metrics on, logs off): rate-limit checks (raised so none refuses; the
 *   per-token key is read from the envelope), reading the form, unsealing the refresh token
 *   (AES-256-GCM), the hop to the emulator through the Session, and — in the "rotation"
 *   scenario, where the emulator hands out a new refresh token on every refresh — sealing
 *   the new one.
 * Requests of the targets are interleaved in rounds so that none profits from a warmer
 * process or a quieter machine.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { createEmulator, DEMO_APP } from '../dist/emulator/index.js';
import * as server from '../dist/server/index.js';
import * as serverNode from '../dist/server/node.js';

const REDIRECT_URI = 'http://127.0.0.1:8888/callback';

// Settings are read in the main thread only; worker threads get theirs from workerData.
let CONCURRENCY;
let REQUESTS;
let ROUNDS;
let WARMUP;
let MAX_MS;

/** Authorizes the demo user on the emulator (auto-approved) and returns a fresh code. */
async function authorizationCode(accountsUrl) {
  const url = new URL('/authorize', accountsUrl);
  url.search = new URLSearchParams({
    client_id: DEMO_APP.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'user-read-private',
    state: 'bench',
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  await response.arrayBuffer();
  const location = response.headers.get('location');
  const code = location === null ? null : new URL(location).searchParams.get('code');
  if (code === null) throw new Error(`/authorize answered ${response.status} without a code`);
  return code;
}

const basic = `Basic ${btoa(`${DEMO_APP.clientId}:${DEMO_APP.clientSecret}`)}`;

async function postForm(url, form, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

/** A target: how to get a first refresh token, and how to refresh with one. */
function directTarget(accountsUrl) {
  const tokenUrl = new URL('/api/token', accountsUrl);
  return {
    name: 'direct (emulator /api/token)',
    async firstToken() {
      const code = await authorizationCode(accountsUrl);
      const { status, json } = await postForm(
        tokenUrl,
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
        { authorization: basic },
      );
      if (status !== 200) throw new Error(`direct code exchange answered ${status}`);
      return json.refresh_token;
    },
    refresh(refreshToken) {
      return postForm(
        tokenUrl,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        { authorization: basic },
      );
    },
  };
}

function serverTarget(serverUrl, accountsUrl) {
  return {
    name: 'token server (/refresh)',
    async firstToken() {
      const code = await authorizationCode(accountsUrl);
      const { status, json } = await postForm(new URL('/swap', serverUrl), { code });
      if (status !== 200) throw new Error(`/swap answered ${status}: ${JSON.stringify(json)}`);
      return json.refresh_token;
    },
    refresh(refreshToken) {
      return postForm(new URL('/refresh', serverUrl), { refresh_token: refreshToken });
    },
  };
}

/**
 * A bare forwarding proxy (no keyring, limits, metrics or validation): what the extra HTTP
 * hop alone costs. It forwards Spotify's refresh token in the clear, so it only exists here.
 */
function proxyTarget(proxyUrl) {
  return {
    name: 'bare proxy (hop only)',
    firstToken: undefined,
    refresh(refreshToken) {
      return postForm(new URL('/refresh', proxyUrl), { refresh_token: refreshToken });
    },
  };
}

/**
 * Runs `count` refreshes with `CONCURRENCY` workers, each with its own refresh token chain
 * (a rotated token replaces the worker's current one), and records every latency.
 */
async function drive(target, tokens, count, deadline) {
  const latencies = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    tokens.map(async (_, worker) => {
      while (next < count && performance.now() < deadline) {
        next++;
        const t0 = performance.now();
        const { status, json } = await target.refresh(tokens[worker]);
        latencies.push(performance.now() - t0);
        if (status !== 200 || typeof json?.access_token !== 'string') errors++;
        else if (typeof json.refresh_token === 'string') tokens[worker] = json.refresh_token;
      }
    }),
  );
  return { latencies, errors, elapsed: performance.now() - started };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarise(runs) {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const elapsed = runs.reduce((sum, r) => sum + r.elapsed, 0);
  const errors = runs.reduce((sum, r) => sum + r.errors, 0);
  return {
    requests: latencies.length,
    errors,
    throughput: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
  };
}

async function scenario(label, rotation) {
  const upstream = await startThread({ role: 'emulator', rotation });
  const swap = await startThread({ role: 'server', accountsUrl: upstream.url });
  const proxy = await startThread({ role: 'proxy', accountsUrl: upstream.url });
  try {
    const direct = directTarget(upstream.url);
    const targets = [direct, proxyTarget(proxy.url), serverTarget(swap.url, upstream.url)];
    const chains = [];
    for (const target of targets) {
      const first = target.firstToken ?? direct.firstToken;
      const tokens = [];
      for (let i = 0; i < CONCURRENCY; i++) tokens.push(await first());
      chains.push(tokens);
    }
    const deadline = performance.now() + MAX_MS;
    for (const [i, target] of targets.entries()) {
      await drive(target, chains[i], WARMUP, deadline + MAX_MS);
    }
    const runs = targets.map(() => []);
    const perRound = Math.ceil(REQUESTS / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, target] of targets.entries()) {
        runs[i].push(await drive(target, chains[i], perRound, deadline));
      }
    }
    const [directStats, proxyStats, serverStats] = runs.map(summarise);
    return { label, rotation, direct: directStats, proxy: proxyStats, server: serverStats };
  } finally {
    await proxy.close();
    await swap.close();
    await upstream.close();
  }
}

/**
 * Starts the emulator or the token server in a worker thread, so that the load generator,
 * the emulator and the server each have their own event loop, as separate processes would.
 */
function startThread(data) {
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', ({ url }) => {
      resolve({
        url,
        close: () =>
          new Promise((done) => {
            worker.once('message', () => worker.terminate().then(() => done()));
            worker.postMessage('close');
          }),
      });
    });
  });
}

/** Inside a worker thread: serve one role on 127.0.0.1, port 0, until told to close. */
async function serveInThread({ role, rotation, accountsUrl }) {
  let running;
  if (role === 'proxy') {
    running = await listenProxy(accountsUrl);
  } else if (role === 'emulator') {
    running = await createEmulator({ autoApprove: true, rotation }).listen({
      port: 0,
      host: '127.0.0.1',
    });
  } else {
    // createTokenServer (dist/server) behind its Node adapter, serveTokenServer, as
    // `spotify-session serve` runs it: Prometheus metrics on, logs off.
    running = await serverNode.serveTokenServer({
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      redirectUris: [REDIRECT_URI],
      encryptionKeys: server.Keyring.generateKeyString(),
      accountsUrl,
      host: '127.0.0.1',
      port: 0,
      // Raised far above what the bench sends: the checks still run, none refuses.
      rateLimit: { ip: 1_000_000_000, token: 1_000_000_000, window: 60 },
      logger: false,
      shutdownGracePeriod: 1000,
    });
  }
  parentPort.on('message', async () => {
    await running.close();
    parentPort.postMessage('closed');
  });
  parentPort.postMessage({ url: running.url });
}

/** The bare proxy of {@link proxyTarget}: form in, refresh grant to the emulator, JSON out. */
async function listenProxy(accountsUrl) {
  const tokenUrl = new URL('/api/token', accountsUrl);
  const fetchHandler = async (request) => {
    const form = new URLSearchParams(await request.text());
    const upstream = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: form.get('refresh_token') ?? '',
      }).toString(),
    });
    return new Response(await upstream.text(), {
      status: upstream.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  const listener = await new Promise((resolve) => {
    const created = serve({ fetch: fetchHandler, hostname: '127.0.0.1', port: 0 }, () =>
      resolve(created),
    );
  });
  return {
    url: `http://127.0.0.1:${listener.address().port}`,
    close: () =>
      new Promise((resolve) => {
        listener.close(() => resolve());
        listener.closeAllConnections();
      }),
  };
}

/** Cost of the keyring alone (µs per operation), sequential, on the load generator's thread. */
async function keyringCost() {
  const keyring = await server.Keyring.parse(server.Keyring.generateKeyString());
  const token = `AQ${'x'.repeat(129)}`;
  const options = { clientId: DEMO_APP.clientId, maxAge: 15_552_000 };
  const sealed = await keyring.seal(token, options);
  const ops = 5000;
  for (let i = 0; i < 500; i++) await keyring.unseal(await keyring.seal(token, options), options);
  let t0 = performance.now();
  for (let i = 0; i < ops; i++) await keyring.seal(token, options);
  const seal = ((performance.now() - t0) * 1000) / ops;
  t0 = performance.now();
  for (let i = 0; i < ops; i++) await keyring.unseal(sealed, options);
  const unseal = ((performance.now() - t0) * 1000) / ops;
  return { seal, unseal, envelopeLength: sealed.length };
}

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function table(results) {
  const lines = [
    '| scenario | target | requests | errors | req/s | p50 ms | p90 ms | p99 ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const row = (label, name, s) =>
    `| ${label} | ${name} | ${s.requests} | ${s.errors} | ${fmt(s.throughput, 0)} | ` +
    `${fmt(s.p50, 2)} | ${fmt(s.p90, 2)} | ${fmt(s.p99, 2)} |`;
  const ratio = (label, name, a, b) =>
    `| ${label} | **${name}** | | | **${fmt(a.throughput / b.throughput, 2)}×** | ` +
    `**${fmt(a.p50 / b.p50, 2)}×** | **${fmt(a.p90 / b.p90, 2)}×** | **${fmt(a.p99 / b.p99, 2)}×** |`;
  for (const r of results) {
    lines.push(row(r.label, 'direct to the emulator', r.direct));
    lines.push(row(r.label, 'bare proxy (hop only)', r.proxy));
    lines.push(row(r.label, 'token server', r.server));
    lines.push(ratio(r.label, 'proxy / direct', r.proxy, r.direct));
    lines.push(ratio(r.label, 'server / direct', r.server, r.direct));
    lines.push(ratio(r.label, 'server / proxy', r.server, r.proxy));
  }
  return lines.join('\n');
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '16' },
      requests: { type: 'string', default: '3000' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '300' },
      'max-seconds': { type: 'string', default: '60' },
      markdown: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (args.help) {
    console.log(
      'usage: node bench/swap.mjs [--concurrency 16] [--requests 3000] [--rounds 3] [--warmup 300]\n' +
        '                          [--max-seconds 60] [--markdown FILE]\n' +
        '--requests is per target and scenario, split over --rounds; --max-seconds caps each scenario.',
    );
    return 0;
  }
  const positiveInt = (name) => {
    const value = Number.parseInt(args[name], 10);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`--${name} must be a positive integer`);
    return value;
  };
  CONCURRENCY = positiveInt('concurrency');
  REQUESTS = positiveInt('requests');
  ROUNDS = positiveInt('rounds');
  WARMUP = Number.parseInt(args.warmup, 10) || 0;
  MAX_MS = positiveInt('max-seconds') * 1000;

  const machine =
    `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ` +
    `Node ${process.version}, ${process.platform}/${process.arch}`;
  console.error(
    `bench: concurrency ${CONCURRENCY}, ${REQUESTS} requests per target and scenario in ` +
      `${ROUNDS} interleaved rounds, warm-up ${WARMUP}, cap ${MAX_MS / 1000} s per scenario`,
  );
  const results = [];
  results.push(await scenario('no rotation', 'never'));
  results.push(await scenario('rotation', 'always'));
  const cost = await keyringCost();
  const output = table(results);
  const summary = results.map(
    (r) =>
      `- ${r.label}: the server reaches ${fmt((r.server.throughput / r.direct.throughput) * 100, 0)}% ` +
      `of direct throughput; its p50 is ${fmt(r.server.p50 / r.direct.p50, 2)}× and its p99 ` +
      `${fmt(r.server.p99 / r.direct.p99, 2)}× the direct latency ` +
      `(+${fmt(r.server.p50 - r.direct.p50, 2)} ms at p50, of which the bare hop ` +
      `+${fmt(r.proxy.p50 - r.direct.p50, 2)} ms).`,
  );
  summary.push(
    `- keyring alone (same run, sequential): seal ${fmt(cost.seal, 1)} µs, unseal ` +
      `${fmt(cost.unseal, 1)} µs per operation; envelope of a 131-character token: ` +
      `${cost.envelopeLength} characters.`,
  );
  console.log(output);
  console.log(`\n${summary.join('\n')}\n\nmachine: ${machine}`);
  const failed = results.some((r) => r.direct.errors + r.proxy.errors + r.server.errors > 0);
  if (args.markdown !== undefined) {
    const command = `node bench/swap.mjs ${process.argv.slice(2).join(' ')}`.trim();
    writeFileSync(
      args.markdown,
      `${output}\n\n${summary.join('\n')}\n\nCommand: \`${command}\` — concurrency ${CONCURRENCY}, ` +
        `${REQUESTS} requests per target and scenario in ${ROUNDS} interleaved rounds after ` +
        `${WARMUP} warm-up requests. Machine: ${machine}.\n`,
    );
    console.error(`bench: wrote ${args.markdown}`);
  }
  return failed ? 1 : 0;
}

if (isMainThread) {
  process.exitCode = await main();
} else {
  await serveInThread(workerData);
}
