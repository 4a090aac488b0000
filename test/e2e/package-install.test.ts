/**
 * The published packages as a user gets them: assembled from dist/ (built first if stale),
 * `npm pack`ed, and installed from the tarballs into scratch projects. Their dependencies
 * are exactly package-lock.json's versions (`npm ci` of a lockfile cut from the root one,
 * checked package by package), so a release someone publishes cannot change this test's
 * result; `npm run test:latest-deps` runs it with the newest versions the ranges allow
 * (SPOTIFY_SESSION_TEST_DEPS=latest) to find such a release on purpose.
 *
 * Every entry point is imported from Node, required from CommonJS (Node ≥ 20.19 and 22.12 load
 * ES modules with `require`; checked on the Node on PATH, 22 and 24), and type-checked with tsc (moduleResolution
 * nodenext, no skipLibCheck): an error in our declarations fails, one inside a third-party
 * package's own declarations is reported by package, file and code (docs/stores.md says
 * what users do about it). The bin runs `--help`, `emulator` and `serve`; the library-only
 * install is measured (docs/benchmarks.md, "Install footprint").
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Footprint, formatMB, measureFootprint } from '../../bench/install-footprint.mjs';
import {
  type AssembledPackage,
  assemblePackages,
  packPackage,
  REPO_ROOT,
} from '../../scripts/pack.mjs';
import {
  createScratchProject,
  DEPENDENCY_MODES,
  type DependencyMode,
  installPacked,
  lockfileDrift,
  type PackedPackage,
  removeScratchProject,
} from '../../scripts/scratch-install.mjs';
import { binary } from '../runtimes/harness.js';

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

/** `locked` (npm test): package-lock.json's versions; `latest`: npm run test:latest-deps. */
const DEPS = (process.env.SPOTIFY_SESSION_TEST_DEPS || 'locked') as DependencyMode;
if (!DEPENDENCY_MODES.includes(DEPS)) {
  throw new Error(
    `SPOTIFY_SESSION_TEST_DEPS must be one of ${DEPENDENCY_MODES.join(', ')}, not ${DEPS}`,
  );
}

/** A name each entry point must export: proof that the right module answered. */
const EXPECTED_EXPORT: Record<string, string> = {
  'spotify-session': 'Session',
  'spotify-session/api': 'SpotifyWebAPI',
  'spotify-session/stores': 'MemoryStore',
  'spotify-session/stores/file': 'FileStore',
  'spotify-session/stores/redis': 'RedisStore',
  'spotify-session/stores/browser': 'BrowserStore',
  'spotify-session/browser': 'loginWithRedirect',
  '@spotify-session/cli/server': 'createTokenServer',
  '@spotify-session/cli/server/node': 'serveTokenServer',
  '@spotify-session/cli/emulator': 'createEmulator',
};

/** Public specifiers of a package, from its `exports` (package.json aside). */
function specifiersOf(pkg: AssembledPackage): string[] {
  return Object.keys(pkg.manifest.exports)
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));
}

let library: AssembledPackage;
let cli: AssembledPackage;
let tarballs: string;
/** Both packages installed. */
let full: string;
/** The library alone, as most users install it. */
let libraryOnly: string;
let footprint: Footprint;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const packages = await assemblePackages({ build: 'if-stale' });
  library = packages.find((pkg) => pkg.name === 'spotify-session') as AssembledPackage;
  cli = packages.find((pkg) => pkg.name === '@spotify-session/cli') as AssembledPackage;
  tarballs = await mkdtemp(join(tmpdir(), 'spotify-session-tarballs-'));
  const packed = (pkg: AssembledPackage): PackedPackage => ({
    tarball: packPackage(pkg.dir, tarballs),
    manifest: pkg.manifest,
  });
  const libraryPacked = packed(library);
  const cliPacked = packed(cli);
  libraryOnly = await createScratchProject();
  installPacked(libraryOnly, [libraryPacked], { deps: DEPS });
  footprint = measureFootprint(libraryOnly);
  full = await createScratchProject();
  installPacked(full, [libraryPacked, cliPacked], { deps: DEPS });
}, 300_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(
    [full, libraryOnly].filter(Boolean).map((dir) => removeScratchProject(dir as string)),
  );
  if (tarballs !== undefined) await rm(tarballs, { recursive: true, force: true });
});

/** Runs an ES module in `dir` with this Node; its stdout. */
async function runModule(dir: string, name: string, source: string): Promise<string> {
  await writeFile(join(dir, name), source);
  const { stdout } = await run(process.execPath, [join(dir, name)], { cwd: dir });
  return stdout;
}

const importEach = (specifiers: string[]) => `
const result = {};
for (const specifier of ${JSON.stringify(specifiers)}) {
  try {
    result[specifier] = { exports: Object.keys(await import(specifier)) };
  } catch (error) {
    result[specifier] = { error: error.message, name: error.name, code: error.code };
  }
}
console.log(JSON.stringify(result));
`;

/** The same from CommonJS: `require()` of an ES module, which must have no top-level await. */
const requireEach = (specifiers: string[]) => `
const result = {};
for (const specifier of ${JSON.stringify(specifiers)}) {
  try {
    result[specifier] = { exports: Object.keys(require(specifier)) };
  } catch (error) {
    result[specifier] = { error: error.message, name: error.name, code: error.code };
  }
}
console.log(JSON.stringify(result));
`;

type ImportResult = Record<string, { exports?: string[]; error?: string; name?: string }>;

/** A user's program: the installed ioredis's clients fit the Redis store's client type. */
const IOREDIS_CLIENTS = `
import { Cluster, Redis } from 'ioredis';
import type { RedisStoreClient, RedisStoreOptions } from 'spotify-session/stores/redis';
export const withRedis: RedisStoreOptions = { client: new Redis({ lazyConnect: true }) };
export const cluster: RedisStoreClient = new Cluster([], { lazyConnect: true });
`;

describe(`the dependencies (${DEPS})`, () => {
  it(
    DEPS === 'locked'
      ? 'are exactly package-lock.json’s version of every package, in both projects'
      : 'are the newest the ranges allow: what differs from package-lock.json is listed',
    () => {
      const ours = [library.name, cli.name];
      const drift = new Set(
        [...lockfileDrift(libraryOnly, ours), ...lockfileDrift(full, ours)].map(
          (d) =>
            `${d.path}: ${d.name}@${d.installed} installed, package-lock.json has ${d.locked ?? 'no package there'}`,
        ),
      );
      if (DEPS === 'latest') {
        console.log(
          `Newer than package-lock.json (${drift.size}):\n  ${[...drift].join('\n  ') || 'nothing'}`,
        );
        return;
      }
      expect([...drift], 'installed versions that are not package-lock.json’s').toEqual([]);
    },
  );

  it('sorts tsc’s errors: third-party packages’ own files apart from ours', () => {
    const cwd = '/tmp/scratch/typecheck-x';
    const output = [
      "../node_modules/ioredis/built/errors/WatchError.d.ts(1,28): error TS7016: Could not find a declaration file for module 'redis-errors'.",
      "  Try `npm i --save-dev @types/redis-errors` if it exists or add a new declaration (.d.ts) file containing `declare module 'redis-errors';`",
      '../node_modules/@scope/lib/index.d.ts(2,1): error TS2304: Cannot find name x.',
      '../node_modules/@spotify-session/cli/dist/server/node.d.ts(3,4): error TS2307: Cannot find module y.',
      '../node_modules/spotify-session/dist/stores/redis.d.ts(5,6): error TS2307: Cannot find module z.',
      'index.ts(1,1): error TS2305: no export',
      "error TS2688: Cannot find type definition file for 'node'.",
    ].join('\n');
    const errors = classifyTscErrors(output, cwd, ['spotify-session', '@spotify-session/cli']);
    expect(errors.map((e) => [e.code, e.thirdParty?.name, e.thirdParty?.file])).toEqual([
      ['TS7016', 'ioredis', 'built/errors/WatchError.d.ts'],
      ['TS2304', '@scope/lib', 'index.d.ts'],
      ['TS2307', undefined, undefined],
      ['TS2307', undefined, undefined],
      ['TS2305', undefined, undefined],
      ['TS2688', undefined, undefined],
    ]);
    expect(errors[0]?.text).toContain('@types/redis-errors');
  });
});

describe('the library alone (npm install spotify-session)', () => {
  it('brings at most 3 packages: itself and its dependencies (oauth4webapi)', () => {
    console.log(
      `spotify-session install footprint: ${footprint.count} packages (${footprint.packages.join(', ')}), ` +
        `${formatMB(footprint.diskBytes)} on disk (du), ${formatMB(footprint.fileBytes)} of files`,
    );
    expect(Object.keys(library.manifest.dependencies ?? {})).toEqual(['oauth4webapi']);
    expect(footprint.packages.map((p) => p.slice(0, p.lastIndexOf('@'))).sort()).toEqual([
      'oauth4webapi',
      'spotify-session',
    ]);
    expect(footprint.count).toBeLessThanOrEqual(3);
  });

  it('imports every entry point; the Redis store says to install ioredis', async () => {
    const specifiers = specifiersOf(library);
    expect(specifiers.sort()).toEqual(
      Object.keys(EXPECTED_EXPORT)
        .filter((s) => !s.startsWith('@'))
        .sort(),
    );
    const result = JSON.parse(
      await runModule(libraryOnly, 'imports.mjs', importEach(specifiers)),
    ) as ImportResult;
    for (const specifier of specifiers) {
      expect(result[specifier]?.exports, specifier).toContain(EXPECTED_EXPORT[specifier]);
    }
    // ioredis is loaded when a store is created from a url, and only then.
    const redis = await runModule(
      libraryOnly,
      'redis.mjs',
      `
import { RedisStore } from 'spotify-session/stores/redis';
const own = new RedisStore({ client: { get() {}, set() {}, del() {}, eval() {} } });
let error;
try { new RedisStore({ url: 'redis://127.0.0.1:1' }); } catch (caught) { error = caught; }
console.log(JSON.stringify({ own: own.prefix, name: error?.name, message: error?.message }));
`,
    );
    expect(JSON.parse(redis)).toMatchObject({
      own: 'spotify-session:tokens:',
      name: 'ConfigurationError',
      message: expect.stringContaining('npm install ioredis'),
    });
  });

  it('type-checks every entry point, the Redis store too, without any other package (no ioredis)', async () => {
    // stores/redis.d.ts declares the client it needs (RedisStoreClient) instead of naming
    // ioredis's classes, so its types stand without ioredis and cannot break with it.
    const theirs = await expectTypeCheck(libraryOnly, specifiersOf(library));
    expect(theirs).toEqual([]);
  }, 120_000);
});

describe('both packages installed', () => {
  it('imports every entry point from Node (ESM)', async () => {
    const specifiers = [...specifiersOf(library), ...specifiersOf(cli)];
    expect(specifiers.sort()).toEqual(Object.keys(EXPECTED_EXPORT).sort());
    const result = JSON.parse(
      await runModule(full, 'imports.mjs', importEach(specifiers)),
    ) as ImportResult;
    for (const specifier of specifiers) {
      expect(result[specifier], specifier).not.toHaveProperty('error');
      expect(result[specifier]?.exports, specifier).toContain(EXPECTED_EXPORT[specifier]);
    }
  });

  it.each([
    ['the Node on PATH', process.execPath],
    ['Node 22', binary('node22/bin/node')],
    ['Node 24', binary('node24/bin/node')],
  ])(
    'requires every entry point from CommonJS on %s (no top-level await anywhere)',
    async (_, node) => {
      const specifiers = [...specifiersOf(library), ...specifiersOf(cli)];
      await writeFile(join(full, 'requires.cjs'), requireEach(specifiers));
      const { stdout, stderr } = await run(node, [join(full, 'requires.cjs')], { cwd: full });
      const result = JSON.parse(stdout) as ImportResult;
      for (const specifier of specifiers) {
        expect(result[specifier], specifier).not.toHaveProperty('error');
        expect(result[specifier]?.exports, specifier).toContain(EXPECTED_EXPORT[specifier]);
      }
      expect(stderr).not.toMatch(/ExperimentalWarning/);
    },
  );

  it('type-checks an import of every entry point, and ioredis clients as the Redis store’s client (tsc, moduleResolution nodenext, no skipLibCheck)', async () => {
    await expectTypeCheck(full, [...specifiersOf(library), ...specifiersOf(cli)], IOREDIS_CLIENTS);
  }, 120_000);

  it('isSpotifyError recognises an error of the other package’s copy of the code', async () => {
    const stdout = await runModule(
      full,
      'errors.mjs',
      `
import { isSpotifyError, SpotifyError } from 'spotify-session';
import { Keyring } from '@spotify-session/cli/server';
let caught;
try { await Keyring.parse('not a key'); } catch (error) { caught = error; }
console.log(JSON.stringify({
  code: caught?.code,
  isSpotifyError: isSpotifyError(caught),
  byCode: isSpotifyError(caught, caught?.code),
  instanceOf: caught instanceof SpotifyError,
}));
`,
    );
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result.code).toBe('INVALID_CONFIGURATION');
    expect(result).toMatchObject({ isSpotifyError: true, byCode: true });
    // Two copies, two classes: documented in docs/architecture.md (Packaging).
    expect(result.instanceOf).toBe(false);
  });

  it('runs the bin: --help', async () => {
    const bin = join(full, 'node_modules/.bin/spotify-session');
    // The bin itself (shebang and mode), with this Node first on PATH.
    const { stdout } = await run(bin, ['--help'], {
      cwd: full,
      env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` },
    });
    for (const command of ['serve', 'emulator', 'login', 'keys']) {
      expect(stdout).toContain(command);
    }
  });

  it('runs the bin: emulator answers /__emulator/stats and /authorize', async () => {
    const child = startBin(['emulator', '--port', '0']);
    const url = await child.waitForOutput(/listening on (http:\/\/\S+)/);
    const stats = await fetch(`${url}/__emulator/stats`);
    expect(stats.status).toBe(200);
    expect(stats.headers.get('content-type')).toContain('application/json');
    const authorize = await fetch(`${url}/authorize?client_id=nobody&response_type=code`);
    expect(authorize.status).toBe(400); // an unknown client: an error page, not a redirect
    await child.stop();
  });

  it('runs the bin: serve in demo mode answers /healthz', async () => {
    const child = startBin(['serve', '--port', '0']);
    const line = await child.waitForOutput(/^(\{.*"msg":"listening".*)$/m);
    const { url } = JSON.parse(line) as { url: string };
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(child.output()).toContain('DEMO MODE');
    await child.stop();
  });
});

/** One error tsc reported; `thirdParty` when it lies inside another package's own files. */
interface TscError {
  /** tsc's text: `file(line,col): error TSnnnn: message`, continuation lines included. */
  text: string;
  code: string;
  thirdParty?: { name: string; version: string; file: string };
}

/**
 * Sorts tsc's errors (`--pretty false`, paths relative to `cwd`): one in a file under
 * `node_modules/<name>/` of a package that is not `ours` is that package's; every other one
 * (our packages' declarations, the program that imports them, no file at all) is ours.
 */
function classifyTscErrors(output: string, cwd: string, ours: string[]): TscError[] {
  const errors: TscError[] = [];
  for (const line of output.split(/\r?\n/)) {
    const match = /^(?:(.+?)\(\d+,\d+\): )?error (TS\d+):/.exec(line);
    if (match === null) {
      const last = errors.at(-1);
      if (last !== undefined && line.trim() !== '') last.text += `\n${line}`;
      continue;
    }
    const [, file, code = ''] = match;
    const error: TscError = { text: line, code };
    const path = file === undefined ? '' : resolve(cwd, file).replaceAll('\\', '/');
    const at = path.lastIndexOf('/node_modules/');
    if (at !== -1) {
      const parts = path.slice(at + '/node_modules/'.length).split('/');
      const nameParts = parts[0]?.startsWith('@') ? 2 : 1;
      const name = parts.slice(0, nameParts).join('/');
      if (!ours.includes(name)) {
        const manifest = join(path.slice(0, at), 'node_modules', name, 'package.json');
        const version = existsSync(manifest)
          ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
          : 'unknown version';
        error.thirdParty = { name, version, file: parts.slice(nameParts).join('/') };
      }
    }
    errors.push(error);
  }
  return errors;
}

/** Third-party errors as a warning: by package, then file and code, with what users can do. */
function warnThirdParty(errors: TscError[]): void {
  const byPackage = new Map<string, TscError[]>();
  for (const error of errors) {
    const { name, version } = error.thirdParty as NonNullable<TscError['thirdParty']>;
    const key = `${name}@${version}`;
    byPackage.set(key, [...(byPackage.get(key) ?? []), error]);
  }
  const lines = [...byPackage].flatMap(([pkg, found]) => [
    `  ${pkg}:`,
    ...found.map((e) => {
      const [first = '', ...more] = e.text.split('\n');
      const message = [first.replace(/^.*?error TS\d+: /, ''), ...more.map((l) => l.trim())];
      return `    ${e.thirdParty?.file} ${e.code}: ${message.join('\n      ')}`;
    }),
  ]);
  console.warn(
    [
      `THIRD-PARTY TYPE ERRORS (${DEPS} dependencies): not in our declarations, which type-check; a user compiling with skipLibCheck: false sees them until these packages fix their own types:`,
      ...lines,
      'Ours are clean. What users do about theirs: docs/stores.md, "Strict type checking".',
    ].join('\n'),
  );
}

/**
 * Type-checks a program that imports each specifier (and `extra` source) as a strict user
 * would. Fails on any error of ours; warns about errors inside third-party packages.
 * @returns the third-party errors
 */
async function expectTypeCheck(dir: string, specifiers: string[], extra = ''): Promise<TscError[]> {
  const project = await mkdtemp(join(dir, 'typecheck-'));
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM', 'DOM.Iterable'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
        typeRoots: [join(REPO_ROOT, 'node_modules/@types')],
      },
      files: ['index.ts'],
    }),
  );
  const lines = specifiers.map((specifier, index) => {
    const name = EXPECTED_EXPORT[specifier];
    return `import * as entry${index} from '${specifier}';\nexport const use${index}: unknown = entry${index}.${name};`;
  });
  await writeFile(join(project, 'index.ts'), `${lines.join('\n')}\n${extra}`);
  let output = '';
  let failed = false;
  try {
    await run(process.execPath, [TSC, '-p', project, '--pretty', 'false'], { cwd: project });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    output = `${stdout}${stderr}`;
    failed = true;
  }
  const errors = classifyTscErrors(output, project, [library.name, cli.name]);
  if (failed && errors.length === 0) expect.fail(`tsc failed without an error line:\n${output}`);
  const ours = errors.filter((error) => error.thirdParty === undefined);
  expect(
    ours.map((error) => error.text),
    `tsc found errors in our declarations or their use (${specifiers.join(', ')})`,
  ).toEqual([]);
  const theirs = errors.filter((error) => error.thirdParty !== undefined);
  if (theirs.length > 0) warnThirdParty(theirs);
  return theirs;
}

function startBin(args: string[]) {
  const child = spawn(
    process.execPath,
    [join(full, 'node_modules/@spotify-session/cli/dist/cli/bin.js'), ...args],
    {
      cwd: full,
      env: { PATH: process.env.PATH ?? '', HOME: full },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let output = '';
  const exited = once(child, 'exit');
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    output: () => output,
    async waitForOutput(pattern: RegExp): Promise<string> {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const match = pattern.exec(output);
        if (match?.[1] !== undefined) return match[1];
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`spotify-session ${args.join(' ')} printed no ${pattern}:\n${output}`);
    },
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
