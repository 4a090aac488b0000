// The browser programs whose bundles this repository tracks, and how a bundle is measured —
// one place for both: `bench/bundle-size.mjs` prints them, `test/bundle.test.ts` checks them
// (against Spotify's official SDK, built the same way in the same run) on every `npm test`.
//
// A bundle is what esbuild makes of a program: bundled, minified, ESM, platform browser; each
// output file is gzipped (-9) on its own. Two builds of every program:
//
// - `split` (code splitting, what Vite, Rollup and webpack do with a dynamic `import()`): the
//   chunks a page loads at start (the entry and what it imports statically), and the lazy
//   chunks (what it imports with `import()`: a Session's store part). `loaded` counts the lazy
//   chunks only for a program that loads them (one that gives the Session a store).
// - `oneFile` (no code splitting, esbuild's default): everything reachable in one file, the
//   lazy modules inlined, loaded or not.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const from = (path) => JSON.stringify(join(ROOT, path));
const CORE = from('src/core/index.ts');
const API = from('src/api/index.ts');
const BROWSER = from('src/browser/index.ts');
const BROWSER_STORE = from('src/stores/browser.ts');

/** A PKCE login on a Session: authorize URL, then the code exchange. */
const LOGIN = `
const s = new Session({ clientId: 'x', redirectUri: 'https://e.com/cb' });
const v = Session.generateCodeVerifier();
export const u = s.getAuthorizeUrl({ state: 's', codeChallenge: await Session.generateCodeChallenge(v) });
export const t = await s.requestAccessToken('c', v);
`;

/** The same login through `spotify-session/browser`, on a BrowserStore shared by the tabs. */
const BROWSER_LOGIN = `
const store = new BrowserStore();
const s = new Session({ clientId: 'x', redirectUri: 'https://e.com/cb', store, storeKey: 'me' });
syncTabs(s, store);
if (location.pathname === '/cb') await handleRedirectCallback(s);
else await loginWithRedirect(s);
export const out = () => logout(s);
`;

/**
 * name → `source` (the program) and `store` (whether it gives the Session a store, so that it
 * loads the lazy chunks). `official: true` marks Spotify's SDK.
 */
export const PROGRAMS = {
  'PKCE login (Session)': { source: `import { Session } from ${CORE};${LOGIN}`, store: false },
  'PKCE login + api.me() (SpotifyWebAPIBase)': {
    source: `import { Session } from ${CORE};
import { SpotifyWebAPIBase } from ${API};${LOGIN}
export const me = await new SpotifyWebAPIBase({}, s).me();`,
    store: false,
  },
  'PKCE login + api.me() (SpotifyWebAPI, every operation)': {
    source: `import { Session } from ${CORE};
import { SpotifyWebAPI } from ${API};${LOGIN}
export const me = await new SpotifyWebAPI({}, s).me();`,
    store: false,
  },
  'browser login + BrowserStore (syncTabs, logout)': {
    source: `import { Session } from ${CORE};
import { handleRedirectCallback, loginWithRedirect, logout, syncTabs } from ${BROWSER};
import { BrowserStore } from ${BROWSER_STORE};${BROWSER_LOGIN}`,
    store: true,
  },
  'browser login + BrowserStore + api.me() (SpotifyWebAPIBase)': {
    source: `import { Session } from ${CORE};
import { handleRedirectCallback, loginWithRedirect, logout, syncTabs } from ${BROWSER};
import { BrowserStore } from ${BROWSER_STORE};
import { SpotifyWebAPIBase } from ${API};${BROWSER_LOGIN}
export const me = await new SpotifyWebAPIBase({}, s).me();`,
    store: true,
  },
  'client credentials (clientCredentialsGrant)': {
    source: `import { resolveClientConfig, clientCredentialsGrant } from ${CORE};
export const t = await clientCredentialsGrant(resolveClientConfig({ clientId: 'x', clientSecret: 'y' }));`,
    store: false,
  },
  'official SDK: PKCE login + currentUser.profile()': {
    source: `import { SpotifyApi } from '@spotify/web-api-ts-sdk';
const sdk = SpotifyApi.withUserAuthorization('x', 'https://e.com/cb', ['user-read-private']);
export const me = await sdk.currentUser.profile();`,
    store: false,
    official: true,
  },
};

const OPTIONS = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  write: false,
  metafile: true,
  logLevel: 'error',
  absWorkingDir: ROOT,
  // The programs are written to a temporary directory: packages resolve from this repository.
  nodePaths: [join(ROOT, 'node_modules')],
};

/** A module's path as printed: from `src/`, or the package's. */
function shortPath(path) {
  return path
    .replace(/^.*node_modules\//, '')
    .replace(/^.*?src\//, 'src/')
    .replace(/^.*entry\.ts$/, '(the program)');
}

/** Minified bytes of each module in `inputs` (a metafile output's), largest first. */
function modulesOf(inputs) {
  return Object.entries(inputs)
    .map(([path, { bytesInOutput }]) => ({ path: shortPath(path), bytes: bytesInOutput }))
    .filter(({ bytes }) => bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

/** Files of a build, with their minified and gzip bytes, modules and imports. */
function filesOf(result) {
  const baseName = (path) => path.slice(path.lastIndexOf('/') + 1);
  return result.outputFiles.map((file) => {
    const name = baseName(file.path);
    const meta = Object.entries(result.metafile.outputs).find(
      ([path]) => baseName(path) === name,
    )?.[1];
    if (meta === undefined) throw new Error(`no metafile entry for ${file.path}`);
    return {
      name,
      entry: meta.entryPoint?.endsWith('entry.ts') === true,
      minified: file.contents.byteLength,
      gzip: gzipSync(file.contents, { level: 9 }).byteLength,
      modules: modulesOf(meta.inputs),
      imports: meta.imports.map(({ path, kind }) => ({
        name: baseName(path),
        dynamic: kind === 'dynamic-import',
      })),
    };
  });
}

/** The files reached from `names` by imports of the kind `dynamic` says, transitively. */
function reach(files, names, dynamic) {
  const seen = new Set(names);
  for (const name of seen) {
    const file = files.find((candidate) => candidate.name === name);
    for (const edge of file?.imports ?? []) if (edge.dynamic === dynamic) seen.add(edge.name);
  }
  return files.filter((file) => seen.has(file.name));
}

const sum = (files, field) => files.reduce((total, file) => total + file[field], 0);

/**
 * Builds `program` both ways. `start`: the files a page loads at start (entry and static
 * imports); `lazy`: the files it may load later (dynamic imports, and theirs); `loaded`: the
 * gzip bytes of what the program loads; `oneFile`: the build without code splitting.
 */
export async function measure(program) {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-size-'));
  try {
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, program.source);
    const split = filesOf(
      await build({ ...OPTIONS, entryPoints: [entry], splitting: true, outdir: join(dir, 'out') }),
    );
    const start = reach(
      split,
      split.filter((file) => file.entry).map((file) => file.name),
      false,
    );
    const lazyNames = reach(
      split,
      start.map((file) => file.name),
      true,
    )
      .filter((file) => !start.includes(file))
      .map((file) => file.name);
    const lazy = reach(split, lazyNames, false).filter((file) => !start.includes(file));
    const [one] = filesOf(await build({ ...OPTIONS, entryPoints: [entry], outdir: dir }));
    return {
      start: { files: start, gzip: sum(start, 'gzip'), minified: sum(start, 'minified') },
      lazy: { files: lazy, gzip: sum(lazy, 'gzip'), minified: sum(lazy, 'minified') },
      loaded: sum(start, 'gzip') + (program.store ? sum(lazy, 'gzip') : 0),
      oneFile: one,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
