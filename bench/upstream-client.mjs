#!/usr/bin/env node
/**
 * The token server's Spotify client on Node (`createNodeUpstream`, undici's dispatcher)
 * against the way a hand-written proxy calls upstream: `node:http`'s `request` over a
 * keep-alive agent. Both POST a refresh grant to bench/_upstream.mjs (another process, on
 * the other core) with 50 requests in flight, and read the JSON answer; the table shows CPU
 * µs per call in this process (`process.cpuUsage()`), taking turns in rounds.
 *
 *   npm run build && node bench/upstream-client.mjs [--calls 20000] [--rounds 3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sendRequest } from '../dist/core/_http.js';
import { createNodeUpstream } from '../dist/server/node/_upstream.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
  },
});
const CALLS = Number(args.calls);
const ROUNDS = Number(args.rounds);
const IN_FLIGHT = 50;

const pinned = spawnSync('taskset', ['--version']).status === 0;
const upstream = spawn(
  pinned ? 'taskset' : process.execPath,
  pinned
    ? ['-c', '1', process.execPath, join(here, '_upstream.mjs')]
    : [join(here, '_upstream.mjs')],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise((resolve) =>
  upstream.stdout.once('data', (line) => resolve(JSON.parse(String(line)).port)),
);
const url = `http://127.0.0.1:${port}/api/token`;
const body = 'grant_type=refresh_token&refresh_token=AQC-bench-refresh-token';
const headers = {
  accept: 'application/json',
  authorization: 'Basic YmVuY2gtY2xpZW50LWlkOmJlbmNoLWNsaWVudC1zZWNyZXQ=',
  'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
};

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL(url);
/** The hand-written way: http.request over a keep-alive agent, read, JSON.parse. */
function viaNodeHttp() {
  return new Promise((resolve, reject) => {
    const request = httpRequest(target, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    request.on('response', (response) => {
      const parts = [];
      response.on('data', (chunk) => parts.push(chunk));
      response.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString())));
    });
    request.on('error', reject);
    request.end(body);
  });
}
const ours = createNodeUpstream();
/** The token server's client, as core's transport uses it: through sendRequest, text read. */
async function viaOurs() {
  const answer = await sendRequest(
    url,
    { method: 'POST', headers, body },
    { fetch: ours.fetch, timeout: 10_000 },
  );
  return JSON.parse(answer.text);
}

async function run(call, calls) {
  let started = 0;
  let finished = 0;
  const before = process.cpuUsage();
  await new Promise((resolve, reject) => {
    const next = () => {
      if (started === calls) {
        if (finished === calls) resolve();
        return;
      }
      started++;
      call().then(() => {
        finished++;
        next();
      }, reject);
    };
    for (let i = 0; i < IN_FLIGHT; i++) next();
  });
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const targets = [
  { name: 'node:http request + keep-alive agent (hand-written)', call: viaNodeHttp, runs: [] },
  { name: 'createNodeUpstream (undici dispatcher)', call: viaOurs, runs: [] },
];
for (const { call } of targets) await run(call, CALLS / 4);
for (let round = 0; round < ROUNDS; round++) {
  for (const t of round % 2 ? [...targets].reverse() : targets)
    t.runs.push(await run(t.call, CALLS));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log('| client | CPU µs per call (median) |');
console.log('| --- | ---: |');
for (const t of targets) console.log(`| ${t.name} | ${median(t.runs).toFixed(1)} |`);
console.log(
  `| **ours / hand-written** | **${(median(targets[1].runs) / median(targets[0].runs)).toFixed(2)}×** |`,
);
console.log(
  `${IN_FLIGHT} calls in flight, ${ROUNDS} rounds of ${CALLS} calls; Node ${process.version}`,
);
ours.close();
agent.destroy();
upstream.kill();
