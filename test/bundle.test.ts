/**
 * What the browser bundles of the public entry points reach. `npm run size`
 * (size-limit) checks their bytes; this checks their structure, so a change
 * that pulls a large module into a small entry fails with its name.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

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
