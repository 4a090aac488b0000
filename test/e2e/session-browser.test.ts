/**
 * The PKCE flow inside headless Chromium, with the real built module
 * (`dist/core/*.js` plus oauth4webapi's browser build, through an import map).
 *
 * The page is served from a tiny static server on 127.0.0.1:0 that also
 * forwards `/authorize` and `/api/token` to the emulator, so the page and the
 * Accounts endpoints share one origin. Real Spotify answers CORS on
 * `/api/token` for PKCE single-page apps; the emulator does not (yet), and a
 * same-origin proxy keeps this test about the Session rather than about CORS.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEmulator,
  DEMO_APP,
  type Emulator,
  type EmulatorServer,
} from '../../src/emulator/index.js';
import { launchChromium, skipWithoutChromium } from '../support/chromium.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST_CORE = join(ROOT, 'dist/core');
const OAUTH4WEBAPI = join(ROOT, 'node_modules/oauth4webapi/build/index.js');

const PAGE = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>spotify-session browser test</title>
<script type="importmap">{ "imports": { "oauth4webapi": "/vendor/oauth4webapi.js" } }</script>
<script type="module">
  import * as lib from '/dist/core/index.js';
  window.spotifySession = lib;
  document.body.dataset.ready = 'true';
</script>
</head>
<body>spotify-session</body>
</html>`;

const FORWARDED_REQUEST_HEADERS = ['content-type', 'authorization', 'accept'];
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'location', 'retry-after', 'cache-control'];

/** Serves the page and the built modules, and forwards the Accounts paths to `upstream`. */
async function startPageServer(upstream: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://page.invalid');
      if (url.pathname === '/authorize' || url.pathname === '/api/token') {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const headers = new Headers();
        for (const name of FORWARDED_REQUEST_HEADERS) {
          const value = req.headers[name];
          if (typeof value === 'string') headers.set(name, value);
        }
        const answer = await fetch(`${upstream}${url.pathname}${url.search}`, {
          method: req.method ?? 'GET',
          headers,
          redirect: 'manual',
          ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
        });
        res.statusCode = answer.status;
        for (const name of FORWARDED_RESPONSE_HEADERS) {
          const value = answer.headers.get(name);
          if (value !== null) res.setHeader(name, value);
        }
        res.end(Buffer.from(await answer.arrayBuffer()));
        return;
      }
      if (url.pathname === '/' || url.pathname === '/callback') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(PAGE);
        return;
      }
      let file: string | undefined;
      if (url.pathname === '/vendor/oauth4webapi.js') file = OAUTH4WEBAPI;
      else if (url.pathname.startsWith('/dist/core/')) {
        const candidate = normalize(join(DIST_CORE, url.pathname.slice('/dist/core/'.length)));
        if (candidate.startsWith(`${DIST_CORE}/`)) file = candidate;
      }
      if (file === undefined || !existsSync(file)) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      res.setHeader(
        'content-type',
        extname(file) === '.js' ? 'text/javascript; charset=utf-8' : 'application/json',
      );
      res.end(await readFile(file));
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

interface PageResult {
  verifierLength: number;
  challenge: string;
  exchanged: { accessToken: string; refreshToken?: string; scope: string[]; tokenType: string };
  refreshed: { accessToken: string; refreshToken?: string };
  stored: { accessToken?: string; refreshToken?: string; expiresAt?: number; scope?: string[] };
  requests: Array<{ authorization: string | null; body: string }>;
}

describe.skipIf(skipWithoutChromium())('Session in Chromium (PKCE against the emulator)', () => {
  let emulator: Emulator;
  let accounts: EmulatorServer;
  let page: { url: string; server: Server };
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(join(DIST_CORE, 'index.js'))) {
      throw new Error(
        'dist/core/index.js is missing: run `npm run build` first (`npm test` does it before vitest)',
      );
    }
    emulator = createEmulator({ autoApprove: true, rotation: 'pkce' });
    accounts = await emulator.listen({ port: 0, host: '127.0.0.1' });
    page = await startPageServer(accounts.url);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((done) => {
      if (page === undefined) return done();
      page.server.close(() => done());
      page.server.closeAllConnections();
    });
    await accounts?.close();
  });

  it('runs authorize → callback → code exchange → refresh in the page', async () => {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${page.url}/`);
      await tab.waitForSelector('body[data-ready="true"]');

      // Step 1, in the page: verifier, challenge, state, authorize URL; then leave for Spotify.
      const authorizeUrl = await tab.evaluate(async (clientId) => {
        const { Session } = (
          window as unknown as { spotifySession: typeof import('../../src/core/index.js') }
        ).spotifySession;
        const session = new Session({
          clientId,
          redirectUri: `${location.origin}/callback`,
          accountsUrl: location.origin,
        });
        const verifier = Session.generateCodeVerifier();
        const state = Session.generateState();
        sessionStorage.setItem('verifier', verifier);
        sessionStorage.setItem('state', state);
        const codeChallenge = await Session.generateCodeChallenge(verifier);
        sessionStorage.setItem('challenge', codeChallenge);
        return session.getAuthorizeUrl({
          scope: ['user-read-private', 'user-read-email'],
          state,
          codeChallenge,
        });
      }, DEMO_APP.clientId);
      expect(new URL(authorizeUrl).searchParams.get('code_challenge_method')).toBe('S256');

      // The emulator approves at once and redirects back to the page.
      await Promise.all([
        tab.waitForURL((url) => url.pathname === '/callback'),
        tab.goto(authorizeUrl),
      ]);
      await tab.waitForSelector('body[data-ready="true"]');
      expect(new URL(tab.url()).searchParams.get('code')).toEqual(expect.any(String));

      // Step 2, in the page: read the callback, exchange the code, refresh.
      const result: PageResult = await tab.evaluate(async (clientId) => {
        const { Session } = (
          window as unknown as { spotifySession: typeof import('../../src/core/index.js') }
        ).spotifySession;
        const requests: Array<{ authorization: string | null; body: string }> = [];
        const session = new Session({
          clientId,
          redirectUri: `${location.origin}/callback`,
          accountsUrl: location.origin,
          fetch: (input, init) => {
            requests.push({
              authorization: new Headers(init.headers).get('authorization'),
              body: String(init.body),
            });
            return fetch(input, init);
          },
        });
        const code = session.getCodeFromCallback(
          location.href,
          sessionStorage.getItem('state') ?? undefined,
        );
        const verifier = sessionStorage.getItem('verifier') ?? '';
        const exchanged = await session.requestAccessToken(code, verifier);
        const refreshed = await session.refreshAccessToken();
        history.replaceState(null, '', '/');
        return {
          verifierLength: verifier.length,
          challenge: sessionStorage.getItem('challenge') ?? '',
          exchanged,
          refreshed,
          stored: session.toJSON(),
          requests,
        };
      }, DEMO_APP.clientId);

      expect(result.verifierLength).toBe(64);
      expect(result.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(result.exchanged.tokenType).toBe('Bearer');
      expect(result.exchanged.scope.sort()).toEqual(['user-read-email', 'user-read-private']);
      expect(result.exchanged.refreshToken).toEqual(expect.any(String));
      // rotation: 'pkce' — the refresh answer carries a new refresh token, which the Session keeps.
      expect(result.refreshed.refreshToken).toEqual(expect.any(String));
      expect(result.refreshed.refreshToken).not.toBe(result.exchanged.refreshToken);
      expect(result.stored.refreshToken).toBe(result.refreshed.refreshToken);
      expect(result.stored.accessToken).toBe(result.refreshed.accessToken);
      expect(emulator.lookupAccessToken(result.refreshed.accessToken)).toBeDefined();
      // A public client: no Basic, client_id in the body on both requests.
      expect(result.requests).toHaveLength(2);
      for (const request of result.requests) {
        expect(request.authorization).toBeNull();
        expect(new URLSearchParams(request.body).get('client_id')).toBe(DEMO_APP.clientId);
      }
      expect(new URLSearchParams(result.requests[0]?.body).get('code_verifier')).toEqual(
        expect.any(String),
      );
    } finally {
      await context.close();
    }
  });
});
