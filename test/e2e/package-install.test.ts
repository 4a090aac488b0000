/**
 * The published packages as a user gets them: assembled from dist/ (built first if stale),
 * `npm pack`ed, and installed from the tarballs into scratch projects with npm (the registry
 * supplies their dependencies). Every entry point is imported from Node and type-checked
 * with tsc (moduleResolution nodenext); the bin runs `--help`, `emulator` and `serve`; the
 * library-only install is measured (docs/benchmarks.md, "Install footprint").
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createScratchProject,
  type Footprint,
  formatMB,
  measureFootprint,
  npmInstall,
  removeScratchProject,
} from '../../bench/install-footprint.mjs';
import {
  type AssembledPackage,
  assemblePackages,
  packPackage,
  REPO_ROOT,
} from '../../scripts/pack.mjs';

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

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
  const libraryTarball = packPackage(library.dir, tarballs);
  const cliTarball = packPackage(cli.dir, tarballs);
  libraryOnly = await createScratchProject();
  npmInstall(libraryOnly, [libraryTarball]);
  footprint = measureFootprint(libraryOnly);
  full = await createScratchProject();
  npmInstall(full, [libraryTarball, cliTarball]);
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

type ImportResult = Record<string, { exports?: string[]; error?: string; name?: string }>;

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
      if (specifier === 'spotify-session/stores/redis') {
        expect(result[specifier]).toMatchObject({ name: 'ConfigurationError' });
        expect(result[specifier]?.error).toContain('npm install ioredis');
      } else {
        expect(result[specifier]?.exports, specifier).toContain(EXPECTED_EXPORT[specifier]);
      }
    }
  });

  it('type-checks every entry point but the Redis store without any other package', async () => {
    const specifiers = specifiersOf(library).filter((s) => !s.endsWith('/redis'));
    await expectTypeCheck(libraryOnly, specifiers);
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

  it('type-checks an import of every entry point (tsc, moduleResolution nodenext, no skipLibCheck)', async () => {
    await expectTypeCheck(full, [...specifiersOf(library), ...specifiersOf(cli)]);
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

async function expectTypeCheck(dir: string, specifiers: string[]): Promise<void> {
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
  await writeFile(join(project, 'index.ts'), `${lines.join('\n')}\n`);
  try {
    await run(process.execPath, [TSC, '-p', project], { cwd: project });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    expect.fail(`tsc found errors in ${specifiers.join(', ')}:\n${stdout}${stderr}`);
  }
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
