/**
 * knip (`npm run knip`, part of `npm test`): fails on files nothing imports, exports nothing
 * uses and dependencies nothing needs. The library's entry points are read from package.json
 * (`exports` and `bin`, `dist/X.js` built from `src/X.ts`), so a new entry point is one line
 * there, not two. Entries marked `!` are the production code: `npx knip --production` lists
 * what only tests use.
 */
import { readFileSync } from 'node:fs';
import type { KnipConfig } from 'knip';

interface PackageJson {
  exports: Record<string, string | { default: string }>;
  bin: Record<string, string>;
}

const pkg = JSON.parse(
  readFileSync(new URL('./package.json', import.meta.url), 'utf8'),
) as PackageJson;
const built = [
  ...Object.values(pkg.exports).map((target) =>
    typeof target === 'string' ? target : target.default,
  ),
  ...Object.values(pkg.bin),
].filter((file) => file.endsWith('.js'));
const sources = built.map(
  (file) => `${file.replace(/^(\.\/)?dist\//, 'src/').replace(/\.js$/, '.ts')}!`,
);

const config: KnipConfig = {
  entry: [
    ...sources,
    'bench/*.mjs',
    'scripts/*.mjs',
    'examples/*/*.{ts,mjs}',
    'test/**/*.{ts,mjs}',
  ],
  project: [
    'src/**/*.ts!',
    'bench/**/*.mjs',
    'scripts/**/*.{mjs,mts}',
    'examples/**/*.{ts,mjs}',
    'test/**/*.{ts,mjs}',
  ],
  // The benchmark's load generator and CPU pinning, used when installed (bench/token-server.mjs).
  ignoreBinaries: ['taskset', 'wrk'],
  // Declarations of the scripts' .mjs modules, read by the type checker only.
  ignore: ['scripts/*.d.mts'],
  // The runtime matrix runs their binaries from node_modules (test/runtimes/harness.ts). The
  // Worker example imports the tools package by its published name, which a clean clone has
  // not installed (its test bundles it from src/: test/e2e/cloudflare-worker-example.test.ts).
  ignoreDependencies: ['bun', 'deno', '@spotify-session/cli'],
};

export default config;
