/**
 * What the browser bundles of the public entry points reach, and what they weigh against
 * Spotify's official SDK built the same way in the same run. `npm run size` (size-limit)
 * holds the byte budgets per import; this checks the structure, so a change that pulls a
 * large module into a small entry fails with its name, and the programs of
 * bench/_bundles.mjs against the official SDK.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Measured, measure, PROGRAMS } from '../bench/_bundles.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The modules of `src/` that put bytes into a minified browser bundle of `source`. */
async function reached(source: string): Promise<string[]> {
  const { metafile } = await build({
    stdin: { contents: source, loader: 'ts', resolveDir: ROOT },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  // metafile.inputs lists every module parsed; the output's inputs say which ones stayed.
  return Object.entries(Object.values(metafile.outputs)[0]?.inputs ?? {})
    .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
    .map(([path]) => path);
}

const LOGIN = `const s = new Session({ clientId: 'x', redirectUri: 'https://e.com/cb' });
const v = Session.generateCodeVerifier();
export const u = s.getAuthorizeUrl({ state: 's', codeChallenge: await Session.generateCodeChallenge(v) });
export const t = await s.requestAccessToken('c', v);`;

describe('browser bundles', () => {
  it('PKCE login + api.me() on SpotifyWebAPIBase leaves the operation table and the pager out', async () => {
    const base = await reached(`import { Session } from './src/core/index.ts';
import { SpotifyWebAPIBase } from './src/api/index.ts';
${LOGIN}
export const me = await new SpotifyWebAPIBase({}, s).me();`);
    expect(base.filter((path) => /_generated\/resources|_paginate/.test(path))).toEqual([]);
    // The check can fail: the full client reaches both.
    const full = await reached(`import { SpotifyWebAPI } from './src/api/index.ts';
export const api = new SpotifyWebAPI();`);
    expect(full.filter((path) => /_generated\/resources|_paginate/.test(path))).toHaveLength(2);
  });

  it("PKCE login leaves out oauth4webapi's ID-token (JWT) validation", async () => {
    const { outputFiles } = await build({
      stdin: {
        contents: `import { Session } from './src/core/index.ts';\n${LOGIN}`,
        loader: 'ts',
        resolveDir: ROOT,
      },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const code = outputFiles[0]?.text ?? '';
    expect(code).toContain('function genericTokenEndpointRequest');
    expect(code).not.toMatch(
      /function (validateJwt|validateIdTokenClaims|processGenericAccessTokenResponse)\b/,
    );
  });
});

const STORE_PART = /src\/core\/(_session-store|_store-lease)\.ts$/;

describe('the store part of a Session', () => {
  let login: Measured;
  let browser: Measured;
  beforeAll(async () => {
    login = await measure(PROGRAMS['PKCE login (Session)'] as (typeof PROGRAMS)[string]);
    browser = await measure(
      PROGRAMS['browser login + BrowserStore (syncTabs, logout)'] as (typeof PROGRAMS)[string],
    );
  });

  it('stays out of what a Session without a store loads: a chunk of its own, sharing no chunk', () => {
    const modules = (files: Measured['start']['files']) =>
      files.flatMap((file) => file.modules.map((module) => module.path));
    expect(modules(login.start.files).filter((path) => STORE_PART.test(path))).toEqual([]);
    // One file at start: the store part imports nothing that a third, shared chunk would hold.
    expect(login.start.files).toHaveLength(1);
    expect(modules(login.lazy.files).sort()).toEqual([
      'src/core/_session-store.ts',
      'src/core/_store-lease.ts',
    ]);
    expect(login.loaded).toBe(login.start.gzip);
  });

  it('is loaded by a program that gives the Session a store, and inlined without code splitting', () => {
    expect(browser.loaded).toBe(browser.start.gzip + browser.lazy.gzip);
    expect(browser.lazy.gzip).toBeGreaterThan(0);
    const inlined = login.oneFile.modules.map((module) => module.path);
    expect(inlined.filter((path) => STORE_PART.test(path))).toHaveLength(2);
  });
});

/**
 * Issue 15, item 4: the targets against the official SDK's PKCE login + profile (esbuild, the
 * same settings, this run), and the budget each program holds today, as a ratio to the
 * SDK so that a new esbuild moves both sides. The targets are not met: docs/benchmarks.md
 * (Bundle size) says where the bytes are and what would have to go.
 */
const AGAINST_THE_SDK = [
  { program: 'PKCE login + api.me() (SpotifyWebAPIBase)', target: 'the SDK', budget: 2.65 },
  {
    program: 'browser login + BrowserStore + api.me() (SpotifyWebAPIBase)',
    target: '7 kB',
    budget: 3.5,
  },
  {
    program: 'PKCE login + api.me() (SpotifyWebAPI, every operation)',
    target: '12 kB',
    budget: 3.15,
  },
] as const;

describe('against the official SDK, built the same way in the same run', () => {
  it.each(AGAINST_THE_SDK)(
    '$program: within $budget × the SDK (target: $target)',
    async ({ program, budget }) => {
      const [ours, sdk] = await Promise.all([
        measure(PROGRAMS[program] as (typeof PROGRAMS)[string]),
        measure(
          PROGRAMS['official SDK: PKCE login + currentUser.profile()'] as (typeof PROGRAMS)[string],
        ),
      ]);
      console.log(
        `${program}: ${ours.loaded} B gzip loaded (${(ours.loaded / sdk.loaded).toFixed(2)} × the official SDK's ${sdk.loaded} B)`,
      );
      expect(ours.loaded).toBeLessThanOrEqual(Math.round(budget * sdk.loaded));
    },
  );
});
