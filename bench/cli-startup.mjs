#!/usr/bin/env node
/**
 * Cold start of the `spotify-session` bin, against the floor every Node CLI pays: `node -e ''`.
 *
 *   npm run build && node bench/cli-startup.mjs [--runs 30] [--bin other/dist/cli/bin.js]
 *
 * Targets, each a fresh process, interleaved run by run so that none profits from a quieter
 * moment of the machine:
 * - `node -e ''`: Node's own start-up, the baseline;
 * - a one-file ES module that reads the token file and prints the token: the floor of any
 *   Node CLI that does `token`'s job (no checks, no module of ours);
 * - `spotify-session --help`: commander and every command's description, no command loaded;
 * - `spotify-session token` with a valid stored token: reads the tokens, prints the access
 *   token, no network;
 * - `spotify-session api GET /me` with a valid stored token, against a Web API fake in this
 *   process that answers at once (so the time is the command's, not Spotify's).
 * With `--bin`, the same commands of another build (e.g. a checkout before a change) run in
 * the same rounds, for a before/after from one run.
 *
 * Prints the median and p90 wall time of each and the ratio of medians to the baseline, and
 * whether the targets hold: `token` ≤ 1.3×, `api GET /me` ≤ 2× `node -e ''`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '30' }, bin: { type: 'string' } },
});
const runs = Number(values.runs);
const bin = new URL('../dist/cli/bin.js', import.meta.url).pathname;
const TARGETS = { token: 1.3, api: 2 };

const ACCESS_TOKEN = 'BQ-bench-access';
const ME = { id: 'bench-user', display_name: 'Bench', type: 'user' };
const fake = createServer((request, response) => {
  const authorized = request.headers.authorization === `Bearer ${ACCESS_TOKEN}`;
  const found = request.method === 'GET' && request.url === '/v1/me';
  response.writeHead(authorized && found ? 200 : authorized ? 404 : 401, {
    'content-type': 'application/json',
  });
  response.end(JSON.stringify(authorized && found ? ME : { error: { status: 404 } }));
});
await new Promise((done) => fake.listen(0, '127.0.0.1', done));
const apiUrl = `http://127.0.0.1:${fake.address().port}/v1`;

const home = mkdtempSync(join(tmpdir(), 'spotify-session-bench-'));
const directory = join(home, 'spotify-session');
mkdirSync(directory, { mode: 0o700 });
const expiresAt = Math.floor(Date.now() / 1000) + 3600;
writeFileSync(
  join(directory, 'default.json'),
  JSON.stringify({ accessToken: ACCESS_TOKEN, refreshToken: 'AQ-bench', expiresAt }),
  { mode: 0o600 },
);
writeFileSync(join(directory, 'default.profile.json'), JSON.stringify({ clientId: 'bench' }), {
  mode: 0o600,
});
const env = { ...process.env, XDG_CONFIG_HOME: home, HOME: home, SPOTIFY_API_URL: apiUrl };
for (const name of Object.keys(env)) {
  // A profile or client id from the caller's shell would change what the commands do.
  if (name.startsWith('SPOTIFY_') && name !== 'SPOTIFY_API_URL') delete env[name];
}

const commands = (path, label) => [
  { name: `${label} --help`, args: [path, '--help'], check: /Usage: spotify-session/ },
  { name: `${label} token`, key: 'token', args: [path, 'token'], check: `${ACCESS_TOKEN}\n` },
  {
    name: `${label} api GET /me`,
    key: 'api',
    args: [path, 'api', 'GET', '/me'],
    check: `${JSON.stringify(ME)}\n`,
  },
];
// The floor: an ES module (as the bin is) that reads the file and prints the token, nothing else.
const floor = join(home, 'floor.mjs');
writeFileSync(
  floor,
  `import { readFile } from 'node:fs/promises';
const { accessToken } = JSON.parse(await readFile(${JSON.stringify(join(directory, 'default.json'))}, 'utf8'));
process.stdout.write(accessToken + '\\n');
`,
);

const targets = [
  { name: "node -e ''", args: ['-e', ''], check: '' },
  {
    name: 'floor: one ES module reads and prints the token',
    args: [floor],
    check: `${ACCESS_TOKEN}\n`,
  },
  ...commands(bin, 'spotify-session'),
  ...(values.bin === undefined ? [] : commands(resolve(values.bin), '(--bin)')),
];

/** Runs one fresh process; resolves with its wall time in ms, stdout and exit code. */
function time(args) {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ ms: performance.now() - started, stdout, stderr, code }));
  });
}

// A failing target would be measured as fast: each must succeed and print what it should.
for (const target of targets) {
  const { stdout, stderr, code } = await time(target.args);
  const printed =
    typeof target.check === 'string' ? stdout === target.check : target.check.test(stdout);
  if (code !== 0 || !printed) {
    throw new Error(`${target.name} failed (exit ${code}):\n${stdout}${stderr}`);
  }
}

const samples = targets.map(() => []);
for (let run = 0; run < runs + 3; run++) {
  for (const [index, target] of targets.entries()) {
    const { ms } = await time(target.args);
    if (run >= 3) samples[index].push(ms);
  }
}
fake.close();
rmSync(home, { recursive: true, force: true });

const quantile = (list, q) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const baseline = quantile(samples[0], 0.5);
console.log(`Node ${process.version}, ${runs} runs each, interleaved\n`);
console.log("| command | median ms | p90 ms | median / `node -e ''` |");
console.log('| --- | ---: | ---: | ---: |');
const verdicts = [];
for (const [index, target] of targets.entries()) {
  const median = quantile(samples[index], 0.5);
  const p90 = quantile(samples[index], 0.9);
  const ratio = median / baseline;
  console.log(
    `| \`${target.name}\` | ${median.toFixed(0)} | ${p90.toFixed(0)} | ${ratio.toFixed(2)}× |`,
  );
  if (target.key !== undefined && target.args[0] === bin) {
    const limit = TARGETS[target.key];
    verdicts.push(
      `${target.name}: ${ratio.toFixed(2)}× (target ≤ ${limit}×: ${ratio <= limit ? 'met' : 'MISSED'})`,
    );
  }
}
console.log(`\n${verdicts.join('\n')}`);
