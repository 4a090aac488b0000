#!/usr/bin/env node
/**
 * Assembles the two published packages from the one build (`npm run build` → dist/):
 *
 * - `spotify-session` (packages/spotify-session): dist/core, dist/api, dist/stores,
 *   dist/browser — the library, whose only dependency is oauth4webapi (ioredis an optional
 *   peer).
 * - `@spotify-session/cli` (packages/cli): the `spotify-session` bin, the token server and
 *   the emulator, with its own copy of the core/api/stores code it runs on.
 *
 * Each lands in dist-packages/<folder>/ with the same `dist/<part>/…` layout as the
 * repository, so the templates' `exports` hold for both. `version` and every dependency
 * range come from the root package.json, so they cannot drift. Before writing anything the
 * script proves each package self-contained: every relative import resolves to a file it
 * ships, every bare import is a Node built-in or a declared (peer) dependency.
 *
 *   node scripts/pack.mjs            # assemble (building first if dist/ is stale)
 *   node scripts/pack.mjs --pack     # …and `npm pack` each into dist-packages/
 *   node scripts/pack.mjs --json     # print the result as JSON (directories, tarballs)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT_DIR = join(REPO_ROOT, 'dist-packages');

/** Template folder under packages/ → the dist/ parts the package ships. */
export const PACKAGES = [
  { folder: 'spotify-session', parts: ['core', 'api', 'stores', 'browser'] },
  { folder: 'cli', parts: ['core', 'api', 'stores', 'node', 'server', 'emulator', 'cli'] },
];

const isTestFile = (name) => /\.test\.|(^|\/)_test-/.test(name);

/** Every file under `dir`, relative to it, with `/` separators. */
function walk(dir, prefix = '') {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? walk(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

/** The TypeScript source a file of dist/ was compiled from (`core/x.js` → `src/core/x.ts`). */
function sourceOf(distFile) {
  const stem = distFile.replace(/(\.d\.ts|\.js\.map|\.js)$/, '');
  return stem === distFile ? undefined : join(REPO_ROOT, 'src', `${stem}.ts`);
}

/**
 * Files of dist/ that belong to the build of today's sources: a file whose source was
 * deleted (an orphan of an earlier build) or that is a test is left out.
 */
function shippedFiles(parts) {
  return parts.flatMap((part) =>
    walk(join(REPO_ROOT, 'dist', part))
      .map((file) => `${part}/${file}`)
      .filter((file) => {
        if (isTestFile(file)) return false;
        const source = sourceOf(file);
        return source !== undefined && existsSync(source);
      }),
  );
}

/** `true` when a source under src/ is newer than its build output (or has none). */
export function distIsStale() {
  for (const file of walk(join(REPO_ROOT, 'src'))) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts') || isTestFile(file)) continue;
    const built = join(REPO_ROOT, 'dist', file.replace(/\.ts$/, '.js'));
    if (!existsSync(built)) return true;
    if (statSync(join(REPO_ROOT, 'src', file)).mtimeMs > statSync(built).mtimeMs) return true;
  }
  return false;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Template + the root's version and dependency ranges → the published package.json. */
function manifestFor(template, root) {
  const ranges = { ...root.devDependencies, ...root.dependencies };
  const fill = (deps, field) => {
    if (deps === undefined) return undefined;
    const filled = {};
    for (const name of Object.keys(deps).sort()) {
      const range = ranges[name];
      if (range === undefined) {
        throw new Error(
          `packages/${template.name}: ${field} names ${name}, which the root package.json does not depend on. Add it there first (npm install ${name}).`,
        );
      }
      filled[name] = range;
    }
    return filled;
  };
  const manifest = {};
  for (const [key, value] of Object.entries(template)) {
    if (key === '//') continue;
    if (key === 'version') manifest.version = root.version;
    else if (key === 'dependencies' || key === 'peerDependencies') {
      manifest[key] = fill(value, key);
    } else manifest[key] = value;
  }
  return manifest;
}

const IMPORT_PATTERNS = [
  /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]/g,
  /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Module specifiers a built file imports (static, side-effect and literal dynamic ones). */
function importsOf(source) {
  // Examples in doc comments import the package by name: scan the code only.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = new Set();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) found.add(match[1]);
  }
  return [...found];
}

const packageNameOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Throws unless every import of the shipped JS and .d.ts files is satisfied by the package. */
function checkSelfContained(name, files, manifest) {
  const shipped = new Set(files);
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const builtins = new Set(builtinModules);
  const problems = [];
  for (const file of files) {
    if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
    const code = readFileSync(join(REPO_ROOT, 'dist', file), 'utf8');
    for (const specifier of importsOf(code)) {
      if (specifier.startsWith('.')) {
        const target = join(dirname(file), specifier).replaceAll('\\', '/');
        const candidates = file.endsWith('.d.ts')
          ? [target, target.replace(/\.js$/, '.d.ts')]
          : [target];
        if (!candidates.some((candidate) => shipped.has(candidate))) {
          problems.push(`${file} imports ${specifier}, which ${name} does not ship`);
        }
      } else if (specifier.startsWith('node:') || builtins.has(specifier)) {
        // a Node built-in
      } else if (!declared.has(packageNameOf(specifier))) {
        problems.push(`${file} imports ${specifier}, which is not a dependency of ${name}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(`${name} is not self-contained:\n  ${problems.join('\n  ')}`);
  }
}

/** Source maps are shipped only when they embed their sources (src/ is not published). */
function mapsAreSelfContained(files) {
  return files
    .filter((file) => file.endsWith('.js.map'))
    .every((file) => {
      const map = readJson(join(REPO_ROOT, 'dist', file));
      return Array.isArray(map.sourcesContent) && map.sourcesContent.every((s) => s !== null);
    });
}

/**
 * Assembles every package into dist-packages/. With `build: 'if-stale'` (the default) it runs
 * `npm run build` first when a source is newer than dist/.
 * @returns {Promise<Array<{ name: string, folder: string, dir: string, manifest: object, files: number }>>}
 */
export async function assemblePackages({ build = 'if-stale', log = () => {} } = {}) {
  if (build === 'always' || (build === 'if-stale' && distIsStale())) {
    log('dist/ is older than src/: npm run build');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
  }
  const root = readJson(join(REPO_ROOT, 'package.json'));
  const assembled = [];
  for (const { folder, parts } of PACKAGES) {
    const templateDir = join(REPO_ROOT, 'packages', folder);
    const template = readJson(join(templateDir, 'package.json'));
    const manifest = manifestFor(template, root);
    let files = shippedFiles(parts);
    if (!files.some((file) => file.endsWith('.js'))) {
      throw new Error(`dist/ has no build of ${parts.join(', ')}: run npm run build first.`);
    }
    checkSelfContained(manifest.name, files, manifest);
    const keepMaps = mapsAreSelfContained(files);
    if (!keepMaps) files = files.filter((file) => !file.endsWith('.js.map'));

    const dir = join(OUT_DIR, folder);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const file of files) {
      const to = join(dir, 'dist', file);
      await mkdir(dirname(to), { recursive: true });
      if (!keepMaps && file.endsWith('.js')) {
        const code = await readFile(join(REPO_ROOT, 'dist', file), 'utf8');
        await writeFile(to, code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
      } else {
        await cp(join(REPO_ROOT, 'dist', file), to, { preserveTimestamps: true });
      }
    }
    for (const bin of Object.values(manifest.bin ?? {})) await chmod(join(dir, bin), 0o755);
    await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await cp(join(templateDir, 'README.md'), join(dir, 'README.md'));
    assembled.push({ name: manifest.name, folder, dir, manifest, files: files.length });
    log(
      `${manifest.name}@${manifest.version}: ${files.length} files → ${relative(REPO_ROOT, dir)}`,
    );
  }
  return assembled;
}

/** `npm pack` of an assembled package into `destination`; the tarball's absolute path. */
export function packPackage(dir, destination = OUT_DIR) {
  const output = execFileSync(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', destination],
    { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [result] = JSON.parse(output);
  return join(destination, result.filename);
}

async function main() {
  const args = new Set(process.argv.slice(2));
  const json = args.has('--json');
  const log = json ? () => {} : (line) => console.log(line);
  const packages = await assemblePackages({
    build: args.has('--no-build') ? 'never' : 'if-stale',
    log,
  });
  if (args.has('--pack')) {
    for (const old of readdirSync(OUT_DIR).filter((file) => file.endsWith('.tgz'))) {
      await unlink(join(OUT_DIR, old));
    }
  }
  const result = [];
  for (const pkg of packages) {
    const entry = { name: pkg.name, dir: pkg.dir };
    if (args.has('--pack')) {
      entry.tarball = packPackage(pkg.dir);
      log(`  packed ${relative(REPO_ROOT, entry.tarball)}`);
    }
    result.push(entry);
  }
  if (json) console.log(JSON.stringify(result, null, 2));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
