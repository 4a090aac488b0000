#!/usr/bin/env node
/**
 * What a user's `npm install` brings: packages and size on disk, for the library
 * (`spotify-session`), the tools package (`@spotify-session/cli`), Spotify's official
 * TypeScript SDK (`@spotify/web-api-ts-sdk`), each installed from the registry the same way.
 *
 * Each install goes into its own fresh scratch project (scripts/scratch-install.mjs). Our
 * two packages get exactly the dependency versions of package-lock.json (`npm ci` of a
 * lockfile cut from the root one), so the figures belong to the commit; `--latest-deps`
 * installs them with `npm install --prefer-online` instead (the newest versions the ranges
 * allow, what a user gets today). The official SDK is `npm install` of the version in
 * package-lock.json. "Packages" counts every package in node_modules, the installed one
 * included; "on disk" is `du` of node_modules (blocks actually used), "files" the sum of
 * the files' sizes.
 *
 *   node bench/install-footprint.mjs            # a Markdown table (builds if dist/ is stale)
 *   node bench/install-footprint.mjs --json
 *   node bench/install-footprint.mjs --latest-deps
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemblePackages, packPackage } from '../scripts/pack.mjs';
import {
  createScratchProject,
  installPacked,
  npmInstall,
  ROOT_LOCKFILE,
  removeScratchProject,
} from '../scripts/scratch-install.mjs';

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

/** Runs `install(dir)` in a fresh scratch project and measures it; the project is removed. */
async function installFootprint(install) {
  const dir = await createScratchProject();
  try {
    const ms = install(dir);
    return { ...measureFootprint(dir), ms };
  } finally {
    await removeScratchProject(dir);
  }
}

export const formatMB = (bytes) => `${(bytes / 1_000_000).toFixed(2)} MB`;

async function main() {
  const json = process.argv.includes('--json');
  const deps = process.argv.includes('--latest-deps') ? 'latest' : 'locked';
  const tarballs = await mkdtemp(join(tmpdir(), 'spotify-session-tarballs-'));
  try {
    const packages = await assemblePackages({ build: 'if-stale' });
    const packed = (name) => {
      const pkg = packages.find((p) => p.name === name);
      return { tarball: packPackage(pkg.dir, tarballs), manifest: pkg.manifest };
    };
    const library = packed('spotify-session');
    const cli = packed('@spotify-session/cli');
    const official = JSON.parse(readFileSync(ROOT_LOCKFILE, 'utf8')).packages[
      'node_modules/@spotify/web-api-ts-sdk'
    ].version;
    const rows = [
      {
        what: '`spotify-session` (the library)',
        install: (dir) => installPacked(dir, [library], { deps }),
      },
      {
        what: '`@spotify-session/cli` (server, emulator, command)',
        install: (dir) => installPacked(dir, [cli], { deps }),
      },
      {
        what: `\`@spotify/web-api-ts-sdk@${official}\` (official)`,
        install: (dir) => npmInstall(dir, [`@spotify/web-api-ts-sdk@${official}`]),
      },
    ];
    const results = [];
    for (const row of rows)
      results.push({ what: row.what, ...(await installFootprint(row.install)) });
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
      deps === 'locked'
        ? 'Dependencies: the versions of package-lock.json (npm ci)'
        : 'Dependencies: the newest the ranges allow (npm install --prefer-online)',
    );
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
