/**
 * Installs the packed packages (scripts/pack.mjs) into a scratch project the way a user's
 * `npm install` does, for the package-install test and the install-footprint benchmark.
 *
 * Two ways to get their dependencies:
 *
 * - `'locked'` (what `npm test` uses): exactly the versions of the root `package-lock.json`.
 *   The scratch project gets a `package-lock.json` of its own — the tarballs, plus the root
 *   lockfile's entries that they need, at the same `node_modules/…` paths, with the same
 *   versions and integrity hashes — and `npm ci` installs it. A subset of a valid tree at
 *   unchanged paths resolves every import as the full tree did, and `npm ci` refuses a
 *   lockfile that does not satisfy the packages' ranges, so nothing floats: the same commit
 *   installs the same packages tomorrow, whatever the registry has published since.
 * - `'latest'` (`npm run test:latest-deps`): `npm install --prefer-online`, the newest
 *   versions the ranges allow, to find a breaking release on purpose.
 *
 * `lockfileDrift` compares what is on disk with the root lockfile, so a pinned install that
 * silently brought something else fails loudly, by package.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './pack.mjs';

export const ROOT_LOCKFILE = join(REPO_ROOT, 'package-lock.json');

/** The ways `installPacked` can get the dependencies. */
export const DEPENDENCY_MODES = ['locked', 'latest'];

const NPM_ENV = { npm_config_update_notifier: 'false', npm_config_loglevel: 'error' };

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

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

/** Runs npm in `dir`; on failure the error carries npm's own output. */
function npm(dir, args) {
  try {
    execFileSync('npm', [...args, '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...NPM_ENV },
      encoding: 'utf8',
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error;
    throw new Error(`npm ${args.join(' ')} failed in ${dir}:\n${stdout}${stderr}`, {
      cause: error,
    });
  }
}

/** `npm install --prefer-offline …specs` in `dir` (registry specs float); milliseconds taken. */
export function npmInstall(dir, specs) {
  const started = performance.now();
  npm(dir, ['install', '--prefer-offline', ...specs]);
  return Math.round(performance.now() - started);
}

/** The lockfile path where `name` is found from the package at `fromPath` (Node's lookup). */
function resolveInLock(entries, fromPath, name) {
  let base = fromPath;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (entries[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent === -1 ? '' : base.slice(0, parent);
  }
}

/**
 * Names a package has npm install: its dependencies, its optional ones (where the platform
 * allows) and its required peers. An optional peer is installed only when something else
 * needs it, so it is left to that package's edge.
 */
function neededBy(entry) {
  const optionalPeers = entry.peerDependenciesMeta ?? {};
  return [
    ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ...Object.keys(entry.peerDependencies ?? {})
      .filter((name) => optionalPeers[name]?.optional !== true)
      .map((name) => ({ name, optional: false })),
  ];
}

/**
 * The root lockfile's entries that packages installed at `node_modules/<name>` need, keyed by
 * their (unchanged) path. Dev-only flags are dropped: in the scratch project nothing is dev.
 * @param {Record<string, object>} entries the root lockfile's `packages`
 * @param {Array<{ name: string, entry: object }>} roots
 */
export function lockedClosure(entries, roots) {
  const picked = {};
  const queue = roots.map(({ name, entry }) => ({ path: `node_modules/${name}`, entry }));
  while (queue.length > 0) {
    const { path, entry } = queue.shift();
    for (const { name, optional } of neededBy(entry)) {
      const found = resolveInLock(entries, path, name);
      if (found === undefined) {
        if (optional) continue; // an optional dependency the root's platform did not need

        throw new Error(
          `${path} needs ${name}, which package-lock.json does not have: run npm install in ${REPO_ROOT} to update it`,
        );
      }
      if (picked[found] !== undefined || found === path) continue;
      const { dev, devOptional, ...rest } = entries[found];
      // `devOptional` in the root: dev or optional. Reached here from the packages' production
      // dependencies, so through an optional edge (a required one would have made it neither).
      picked[found] = devOptional ? { ...rest, optional: true } : rest;
      queue.push({ path: found, entry: entries[found] });
    }
  }
  return picked;
}

/** The lockfile entry npm writes for a local tarball. */
function tarballEntry(dir, { tarball, manifest }) {
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const entry = {
    version: manifest.version,
    resolved: `file:${relative(dir, tarball)}`,
    integrity,
  };
  for (const field of [
    'license',
    'dependencies',
    'optionalDependencies',
    'bin',
    'engines',
    'peerDependencies',
    'peerDependenciesMeta',
  ]) {
    if (manifest[field] !== undefined) entry[field] = manifest[field];
  }
  return entry;
}

/**
 * Installs the tarballs of assembled packages into the scratch project `dir`.
 * @param {string} dir
 * @param {Array<{ tarball: string, manifest: { name: string, version: string } }>} packed
 * @param {{ deps?: 'locked' | 'latest' }} [options]
 * @returns {number} milliseconds the install took
 */
export function installPacked(dir, packed, { deps = 'locked' } = {}) {
  if (!DEPENDENCY_MODES.includes(deps)) {
    throw new Error(`deps must be one of ${DEPENDENCY_MODES.join(', ')}, not ${deps}`);
  }
  const started = performance.now();
  if (deps === 'latest') {
    npm(dir, ['install', '--prefer-online', ...packed.map(({ tarball }) => tarball)]);
  } else {
    const rootLock = readJson(ROOT_LOCKFILE);
    const manifestPath = join(dir, 'package.json');
    const manifest = readJson(manifestPath);
    manifest.dependencies = {};
    const packages = {};
    const roots = [];
    for (const pkg of packed) {
      const entry = tarballEntry(dir, pkg);
      manifest.dependencies[pkg.manifest.name] = entry.resolved;
      packages[`node_modules/${pkg.manifest.name}`] = entry;
      roots.push({ name: pkg.manifest.name, entry });
    }
    const lock = {
      name: manifest.name,
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: manifest.name, dependencies: manifest.dependencies },
        ...packages,
        ...lockedClosure(rootLock.packages, roots),
      },
    };
    writeJson(manifestPath, manifest);
    writeJson(join(dir, 'package-lock.json'), lock);
    npm(dir, ['ci', '--prefer-offline']);
  }
  return Math.round(performance.now() - started);
}

/**
 * Every package on disk in `dir`'s node_modules, nested ones included: its lockfile-style
 * path (`node_modules/a/node_modules/b`), and the name and version its package.json says.
 * @returns {Array<{ path: string, name: string, version: string }>}
 */
export function installedPackages(dir) {
  const found = [];
  const visit = (modules) => {
    const folder = join(dir, modules);
    if (!existsSync(folder)) return;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
      if (entry.name.startsWith('@')) {
        for (const scoped of readdirSync(join(folder, entry.name), { withFileTypes: true })) {
          if (scoped.isDirectory()) add(`${modules}/${entry.name}/${scoped.name}`);
        }
      } else add(`${modules}/${entry.name}`);
    }
  };
  const add = (path) => {
    const manifest = join(dir, path, 'package.json');
    if (!existsSync(manifest)) return;
    const { name, version } = readJson(manifest);
    found.push({ path, name, version });
    visit(`${path}/node_modules`);
  };
  visit('node_modules');
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Packages in `dir` whose version is not the one the root lockfile has at the same path
 * (`locked` undefined: the root lockfile has no package there). `ours` names the packages
 * installed from tarballs, which the root lockfile does not list.
 * @returns {Array<{ path: string, name: string, installed: string, locked: string | undefined }>}
 */
export function lockfileDrift(dir, ours) {
  const entries = readJson(ROOT_LOCKFILE).packages;
  return installedPackages(dir)
    .filter(({ name }) => !ours.includes(name))
    .map(({ path, name, version }) => ({
      path,
      name,
      installed: version,
      locked: entries[path]?.version,
    }))
    .filter(({ installed, locked }) => installed !== locked);
}
