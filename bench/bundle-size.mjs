// Browser bundle sizes of the typical entry points, as an app's bundler would build them:
// esbuild, bundled, minified, ESM, platform browser, then gzip -9. Reads src/ (no build
// needed). `--json` prints the raw figures; `--modules` adds each module's minified bytes.
//
//   node bench/bundle-size.mjs [--json] [--modules]
//
// `npm run size` (size-limit, in `npm test`) enforces the budgets in .size-limit.json; its
// figures run ~0.1 kB lower (another gzip setting).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const core = JSON.stringify(join(ROOT, 'src/core/index.ts'));
const api = JSON.stringify(join(ROOT, 'src/api/index.ts'));

const PKCE_LOGIN = `
const s = new Session({ clientId: 'x', redirectUri: 'https://e.com/cb' });
const v = Session.generateCodeVerifier();
export const u = s.getAuthorizeUrl({ state: 's', codeChallenge: await Session.generateCodeChallenge(v) });
export const t = await s.requestAccessToken('c', v);
`;

const ENTRIES = {
  'PKCE login (Session)': `import { Session } from ${core};${PKCE_LOGIN}`,
  'PKCE login + api.me() (SpotifyWebAPIBase)': `import { Session } from ${core};
import { SpotifyWebAPIBase } from ${api};${PKCE_LOGIN}
export const me = await new SpotifyWebAPIBase({}, s).me();`,
  'PKCE login + api.me() (SpotifyWebAPI, every operation)': `import { Session } from ${core};
import { SpotifyWebAPI } from ${api};${PKCE_LOGIN}
export const me = await new SpotifyWebAPI({}, s).me();`,
  'client credentials (clientCredentialsGrant)': `import { resolveClientConfig, clientCredentialsGrant } from ${core};
export const t = await clientCredentialsGrant(resolveClientConfig({ clientId: 'x', clientSecret: 'y' }));`,
};

const json = process.argv.includes('--json');
const modules = process.argv.includes('--modules');
const dir = mkdtempSync(join(tmpdir(), 'bundle-size-'));
const results = [];
try {
  for (const [name, source] of Object.entries(ENTRIES)) {
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, source);
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'error',
    });
    const code = out.outputFiles[0].contents;
    const inputs = Object.values(out.metafile.outputs)[0].inputs;
    results.push({
      name,
      minified: code.byteLength,
      gzip: gzipSync(code, { level: 9 }).byteLength,
      modules: Object.entries(inputs)
        .map(([path, { bytesInOutput }]) => ({
          path: path
            .replace(/^.*node_modules\//, '')
            .replace(/^.*?src\//, 'src/')
            .replace(/^.*entry\.ts$/, '(the entry)'),
          bytes: bytesInOutput,
        }))
        .filter(({ bytes }) => bytes > 0)
        .sort((a, b) => b.bytes - a.bytes),
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  for (const { name, minified, gzip, modules: list } of results) {
    console.log(`${name}: ${minified} B minified, ${gzip} B gzip`);
    if (modules)
      for (const { path, bytes } of list) console.log(`  ${String(bytes).padStart(6)}  ${path}`);
  }
}
