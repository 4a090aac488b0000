#!/usr/bin/env node
/**
 * What a user's `npm install` brings: packages and size on disk, for the library
 * (`spotify-session`), the tools package (`@spotify-session/cli`), Spotify's official
 * TypeScript SDK (`@spotify/web-api-ts-sdk`), each installed from the registry the same way.
 *
 * Each install goes into its own fresh scratch project with the same command:
 * `npm install --no-audit --no-fund --prefer-offline <spec>`. "Packages" counts every
 * package in node_modules, the installed one included; "on disk" is `du` of node_modules
 * (blocks actually used), "files" the sum of the files' sizes.
 *
 *   node bench/install-footprint.mjs            # a Markdown table (builds if dist/ is stale)
 *   node bench/install-footprint.mjs --json
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemblePackages, packPackage, REPO_ROOT } from '../scripts/pack.mjs';

/** A fresh, empty ESM project in the system's temp directory. */
export async function createScratchProject(prefix = 'spotify-session-install-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'scratch', private: true, type: 'module' }, null, 2)}\n`,
  );
  return dir;
}

export function removeScratchProject(dir) {
  return rm(dir, { recursive: true, force: true });
}

/** `npm install --no-audit --no-fund --prefer-offline …specs` in `dir`; milliseconds taken. */
export function npmInstall(dir, specs) {
  const started = performance.now();
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_loglevel: 'error' },
  });
  return Math.round(performance.now() - started);
}

function apparentBytes(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined || stat.isSymbolicLink()) return 0;
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + apparentBytes(join(path, name)), 0);
}

/**
 * The packages installed in `dir`'s node_modules (from npm's hidden lockfile, the ones
 * present on disk) and their size.
 * @returns {{ packages: string[], count: number, diskBytes: number, fileBytes: number }}
 */
export function measureFootprint(dir) {
  const modules = join(dir, 'node_modules');
  const lock = JSON.parse(readFileSync(join(modules, '.package-lock.json'), 'utf8'));
  const packages = Object.entries(lock.packages ?? {})
    .filter(([path]) => path.startsWith('node_modules/') && existsSync(join(dir, path)))
    .map(
      ([path, entry]) => `${path.slice(path.lastIndexOf('node_modules/') + 13)}@${entry.version}`,
    )
    .sort();
  const du = execFileSync('du', ['-sk', modules], { encoding: 'utf8' });
  return {
    packages,
    count: packages.length,
    diskBytes: Number.parseInt(du, 10) * 1024,
    fileBytes: apparentBytes(modules),
  };
}

/** Installs `specs` into a fresh scratch project and measures it; the project is removed. */
export async function installFootprint(specs) {
  const dir = await createScratchProject();
  try {
    const ms = npmInstall(dir, specs);
    return { ...measureFootprint(dir), ms };
  } finally {
    await removeScratchProject(dir);
  }
}

export const formatMB = (bytes) => `${(bytes / 1_000_000).toFixed(2)} MB`;

async function main() {
  const json = process.argv.includes('--json');
  const tarballs = await mkdtemp(join(tmpdir(), 'spotify-session-tarballs-'));
  try {
    const packages = await assemblePackages({ build: 'if-stale' });
    const tarball = (name) => packPackage(packages.find((p) => p.name === name).dir, tarballs);
    const library = tarball('spotify-session');
    const cli = tarball('@spotify-session/cli');
    const official = JSON.parse(
      readFileSync(join(REPO_ROOT, 'node_modules/@spotify/web-api-ts-sdk/package.json'), 'utf8'),
    ).version;
    const rows = [
      { what: '`spotify-session` (the library)', specs: [library] },
      { what: '`@spotify-session/cli` (server, emulator, command)', specs: [cli] },
      {
        what: `\`@spotify/web-api-ts-sdk@${official}\` (official)`,
        specs: [`@spotify/web-api-ts-sdk@${official}`],
      },
    ];
    const results = [];
    for (const row of rows)
      results.push({ what: row.what, ...(await installFootprint(row.specs)) });
    if (json) {
      console.log(JSON.stringify(results, null, 2));
      return;
    }
    console.log('| install | packages | on disk | files | install time |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      console.log(
        `| ${r.what} | ${r.count} | ${formatMB(r.diskBytes)} | ${formatMB(r.fileBytes)} | ${(r.ms / 1000).toFixed(1)} s |`,
      );
    }
    console.log(`\nspotify-session installs: ${results[0].packages.join(', ')}`);
    console.log(
      `Node ${process.version}, npm ${execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()}`,
    );
  } finally {
    await rm(tarballs, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
