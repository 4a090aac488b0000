#!/usr/bin/env node
/**
 * `npm run example:browser`: the browser example beside a local Spotify emulator, in one
 * process. Starts the emulator (refresh tokens rotate on every refresh, as Spotify does for
 * PKCE apps), bundles main.ts with esbuild, and serves the page on another origin, so the
 * page calls the emulator cross-origin exactly as an app calls Spotify.
 *
 *   npm run example:browser              # http://127.0.0.1:5180/
 *   PORT=8080 npm run example:browser
 *
 * The tests import startBrowserExample() and drive the page in Chromium. It runs the built
 * emulator (dist/): npm run example:browser builds first.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { createEmulator, DEMO_APP } from '../../dist/emulator/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_PORT = 5180;

/**
 * @typedef {object} BrowserExample
 * @property {string} url the page, e.g. http://127.0.0.1:5180
 * @property {string} accountsUrl the emulator
 * @property {import('../../src/emulator/index.js').Emulator} emulator
 * @property {() => Promise<void>} close stops the page server and the emulator
 */

/**
 * Starts the emulator and the page server.
 * @param {{ port?: number, emulator?: import('../../src/emulator/index.js').Emulator }} [options]
 *   `emulator`: one you created (tests); by default `createEmulator({ rotation: 'always' })`.
 * @returns {Promise<BrowserExample>}
 */
export async function startBrowserExample(options = {}) {
  const emulator = options.emulator ?? createEmulator({ rotation: 'always' });
  const accounts = await emulator.listen({ port: 0, host: '127.0.0.1' });
  const config = {
    clientId: DEMO_APP.clientId,
    accountsUrl: accounts.url,
    apiUrl: `${accounts.url}/v1`,
  };
  const bundle = await build({
    entryPoints: [join(HERE, 'main.ts')],
    tsconfig: join(HERE, 'tsconfig.json'),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'inline',
    define: { EXAMPLE_CONFIG: JSON.stringify(config) },
    logLevel: 'warning',
  });
  const [script] = bundle.outputFiles;
  if (script === undefined) throw new Error('esbuild produced no output');
  const html = await readFile(join(HERE, 'index.html'));
  const css = await readFile(join(HERE, 'style.css'));
  const headers = {
    // What a real deployment should send too: scripts from this origin only (XSS is what
    // reads tokens in a page), calls to Spotify (here the emulator) only.
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; connect-src ${accounts.url}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
  /** @type {Record<string, [string, Uint8Array | string]>} */
  const files = {
    '/': ['text/html; charset=utf-8', html],
    '/callback': ['text/html; charset=utf-8', html],
    '/main.js': ['text/javascript; charset=utf-8', script.text],
    '/style.css': ['text/css; charset=utf-8', css],
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page.invalid').pathname;
    const file = request.method === 'GET' || request.method === 'HEAD' ? files[path] : undefined;
    if (file === undefined) {
      response.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    response.writeHead(200, { ...headers, 'content-type': file[0] });
    response.end(request.method === 'HEAD' ? undefined : file[1]);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    accountsUrl: accounts.url,
    emulator,
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
      await accounts.close();
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = process.env.PORT === undefined ? DEFAULT_PORT : Number(process.env.PORT);
  const example = await startBrowserExample({ port }).catch((error) => {
    process.stderr.write(
      error?.code === 'EADDRINUSE'
        ? `Port ${port} is taken: run PORT=<another port> npm run example:browser\n`
        : `${error?.stack ?? error}\n`,
    );
    process.exit(1);
  });
  process.stdout.write(
    [
      '',
      `  Browser example:  ${example.url}/`,
      `  Spotify emulator: ${example.accountsUrl} (demo users, refresh tokens rotate)`,
      '',
      '  Open the page, log in (the emulator shows its consent page), open a second tab,',
      '  log out in one of them. Ctrl+C stops both.',
      '',
    ].join('\n'),
  );
  const stop = () => {
    example.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
