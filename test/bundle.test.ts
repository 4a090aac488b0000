/**
 * What the browser bundles of the public entry points reach, and what they weigh against
 * Spotify's official SDK built the same way in the same run. `npm run size` (size-limit)
 * holds the byte budgets per import; this checks the structure, so a change that pulls a
 * large module into a small entry fails with its name, and the programs of
 * bench/_bundles.mjs against the official SDK.
 */
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Measured, measure, PROGRAMS, ROOT } from '../bench/_bundles.mjs';

/** A program of bench/_bundles.mjs, by name. */
function program(name: string): (typeof PROGRAMS)[string] {
  const found = PROGRAMS[name];
  if (found === undefined) throw new Error(`no program "${name}" in bench/_bundles.mjs`);
  return found;
}

/** The modules that put bytes into the one-file bundle of a program. */
async function reached(name: string): Promise<string[]> {
  return (await measure(program(name))).oneFile.modules.map((module) => module.path);
}

describe('browser bundles', () => {
  it('PKCE login + api.me() on SpotifyWebAPIBase leaves the operation table and the pager out', async () => {
    const base = await reached('PKCE login + api.me() (SpotifyWebAPIBase)');
    expect(base.filter((path) => /_generated\/resources|_paginate/.test(path))).toEqual([]);
    // The check can fail: the full client reaches both.
    const full = await reached('PKCE login + api.me() (SpotifyWebAPI, every operation)');
    expect(full.filter((path) => /_generated\/resources|_paginate/.test(path))).toHaveLength(2);
  });

  it("PKCE login leaves out oauth4webapi's ID-token (JWT) validation", async () => {
    const { outputFiles } = await build({
      stdin: { contents: program('PKCE login (Session)').source, loader: 'ts', resolveDir: ROOT },
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
    login = await measure(program('PKCE login (Session)'));
    browser = await measure(program('browser login + BrowserStore (syncTabs, logout)'));
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
  {
    name: 'PKCE login + api.me() (SpotifyWebAPIBase)',
    target: 'the SDK',
    // + the login lifetime (authorizedAt, onLoginExpiring) and the store-less token fast path: 0.06.
    budget: 2.71,
  },
  {
    name: 'browser login + BrowserStore + api.me() (SpotifyWebAPIBase)',
    target: '7 kB',
    // + the login lifetime (authorizedAt, getRefreshTokenExpiresAt, onLoginExpiring): 0.03.
    budget: 3.53,
  },
  {
    name: 'PKCE login + api.me() (SpotifyWebAPI, every operation)',
    target: '12 kB',
    // + scopes checked before sending (the scope table), withdrawn names, the shared 429 and
    // the login lifetime since 3.15.
    budget: 3.56,
  },
] as const;

describe('against the official SDK, built the same way in the same run', () => {
  it.each(AGAINST_THE_SDK)(
    '$name: within $budget × the SDK (target: $target)',
    async ({ name, budget }) => {
      const [ours, sdk] = await Promise.all([
        measure(program(name)),
        measure(program('official SDK: PKCE login + currentUser.profile()')),
      ]);
      console.log(
        `${name}: ${ours.loaded} B gzip loaded (${(ours.loaded / sdk.loaded).toFixed(2)} × the official SDK's ${sdk.loaded} B)`,
      );
      expect(ours.loaded).toBeLessThanOrEqual(Math.round(budget * sdk.loaded));
    },
  );
});
