#!/usr/bin/env node
/**
 * Cold start of the `spotify-session` bin, against the floor every Node CLI pays: `node -e ''`.
 *
 *   npm run build && node bench/cli-startup.mjs [--runs 30]
 *
 * Targets, each a fresh process, interleaved run by run so that none profits from a quieter
 * moment of the machine:
 * - `node -e ''`: Node's own start-up, the baseline;
 * - `spotify-session --help`: parsing only (every command is registered, none is loaded);
 * - `spotify-session token` with a valid stored token: loads the profile and the file store,
 *   reads the tokens and prints the access token, no network.
 * Prints the median and p90 wall time of each and the ratio of medians to the baseline.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);
const bin = new URL('../dist/cli/bin.js', import.meta.url).pathname;

const home = mkdtempSync(join(tmpdir(), 'spotify-session-bench-'));
const directory = join(home, 'spotify-session');
mkdirSync(directory, { mode: 0o700 });
const expiresAt = Math.floor(Date.now() / 1000) + 3600;
writeFileSync(
  join(directory, 'default.json'),
  JSON.stringify({ accessToken: 'BQ-bench-access', refreshToken: 'AQ-bench', expiresAt }),
  { mode: 0o600 },
);
writeFileSync(join(directory, 'default.profile.json'), JSON.stringify({ clientId: 'bench' }), {
  mode: 0o600,
});
const env = { ...process.env, XDG_CONFIG_HOME: home, HOME: home };

const targets = [
  { name: "node -e ''", args: ['-e', ''] },
  { name: 'spotify-session --help', args: [bin, '--help'] },
  { name: 'spotify-session token (valid stored token)', args: [bin, 'token'] },
];

// A failing target would be measured as fast: check each once first.
for (const target of targets) {
  const result = spawnSync(process.execPath, target.args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${target.name} failed: ${result.stderr}`);
}
const token = execFileSync(process.execPath, [bin, 'token'], { env, encoding: 'utf8' }).trim();
if (token !== 'BQ-bench-access') throw new Error(`token printed ${token}, not the stored token`);

const samples = targets.map(() => []);
for (let run = 0; run < runs + 3; run++) {
  targets.forEach((target, index) => {
    const started = performance.now();
    spawnSync(process.execPath, target.args, { env, stdio: 'ignore' });
    if (run >= 3) samples[index].push(performance.now() - started);
  });
}
rmSync(home, { recursive: true, force: true });

const quantile = (list, q) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const baseline = quantile(samples[0], 0.5);
console.log(`Node ${process.version}, ${runs} runs each, interleaved\n`);
console.log("| command | median ms | p90 ms | median / node -e '' |");
console.log('| --- | ---: | ---: | ---: |');
targets.forEach((target, index) => {
  const median = quantile(samples[index], 0.5);
  const p90 = quantile(samples[index], 0.9);
  console.log(
    `| ${target.name} | ${median.toFixed(0)} | ${p90.toFixed(0)} | ${(median / baseline).toFixed(2)}× |`,
  );
});
