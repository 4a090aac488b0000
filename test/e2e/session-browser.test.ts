/**
 * The PKCE flow inside headless Chromium, with the real built module
 * (`dist/core/*.js` plus oauth4webapi's browser build, through an import map).
 *
 * The page is served from a tiny static server on 127.0.0.1:0 and talks to the
 * emulator, on another port (another origin), exactly as a single-page app
 * talks to Spotify: `/authorize` is a top-level navigation, and `/api/token`
 * is called cross-origin with `fetch`, which the emulator's CORS allows.
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

/** Serves the page and the built modules; counts any request for an Accounts path (there must be none). */
async function startPageServer(): Promise<{
  url: string;
  server: Server;
  accountsHits: () => number;
}> {
  let accountsHits = 0;
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://page.invalid');
      if (url.pathname === '/authorize' || url.pathname.startsWith('/api/')) accountsHits++;
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
  return { url: `http://127.0.0.1:${port}`, server, accountsHits: () => accountsHits };
}

interface PageResult {
  verifierLength: number;
  challenge: string;
  exchanged: { accessToken: string; refreshToken?: string; scope: string[]; tokenType: string };
  refreshed: { accessToken: string; refreshToken?: string };
  stored: { accessToken?: string; refreshToken?: string; expiresAt?: number; scope?: string[] };
  requests: Array<{ url: string; authorization: string | null; body: string }>;
}

type Lib = typeof import('../../src/core/index.js');

describe.skipIf(skipWithoutChromium())('Session in Chromium (PKCE against the emulator)', () => {
  let emulator: Emulator;
  let accounts: EmulatorServer;
  let page: Awaited<ReturnType<typeof startPageServer>>;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(join(DIST_CORE, 'index.js'))) {
      throw new Error(
        'dist/core/index.js is missing: run `npm run build` first (`npm test` does it before vitest)',
      );
    }
    emulator = createEmulator({ autoApprove: true, rotation: 'pkce' });
    accounts = await emulator.listen({ port: 0, host: '127.0.0.1' });
    page = await startPageServer();
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

  it('runs authorize → callback → code exchange → refresh in the page, cross-origin', async () => {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${page.url}/`);
      await tab.waitForSelector('body[data-ready="true"]');
      const args = { clientId: DEMO_APP.clientId, accountsUrl: accounts.url };
      expect(new URL(args.accountsUrl).origin).not.toBe(new URL(page.url).origin);

      // Step 1, in the page: verifier, challenge, state, authorize URL; then leave for Spotify.
      const authorizeUrl = await tab.evaluate(async ({ clientId, accountsUrl }) => {
        const { Session } = (window as unknown as { spotifySession: Lib }).spotifySession;
        const session = new Session({
          clientId,
          redirectUri: `${location.origin}/callback`,
          accountsUrl,
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
      }, args);
      expect(authorizeUrl.startsWith(`${accounts.url}/authorize?`)).toBe(true);
      expect(new URL(authorizeUrl).searchParams.get('code_challenge_method')).toBe('S256');

      // A top-level navigation to the emulator, which approves at once and redirects back.
      await Promise.all([
        tab.waitForURL((url) => url.pathname === '/callback'),
        tab.goto(authorizeUrl),
      ]);
      await tab.waitForSelector('body[data-ready="true"]');
      expect(new URL(tab.url()).searchParams.get('code')).toEqual(expect.any(String));

      // Step 2, in the page: read the callback, exchange the code, refresh — fetch straight to the emulator.
      const result: PageResult = await tab.evaluate(async ({ clientId, accountsUrl }) => {
        const { Session } = (window as unknown as { spotifySession: Lib }).spotifySession;
        const requests: PageResult['requests'] = [];
        const session = new Session({
          clientId,
          redirectUri: `${location.origin}/callback`,
          accountsUrl,
          fetch: (input, init) => {
            requests.push({
              url: String(input),
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
        sessionStorage.setItem('tokens', JSON.stringify(session));
        history.replaceState(null, '', '/');
        return {
          verifierLength: verifier.length,
          challenge: sessionStorage.getItem('challenge') ?? '',
          exchanged,
          refreshed,
          stored: session.toJSON(),
          requests,
        };
      }, args);

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
      // A public client: no Basic, client_id in the body on both requests, sent to the emulator's origin.
      expect(result.requests).toHaveLength(2);
      for (const request of result.requests) {
        expect(request.url).toBe(`${accounts.url}/api/token`);
        expect(request.authorization).toBeNull();
        expect(new URLSearchParams(request.body).get('client_id')).toBe(DEMO_APP.clientId);
      }
      expect(new URLSearchParams(result.requests[0]?.body).get('code_verifier')).toEqual(
        expect.any(String),
      );

      // Step 3: a rate-limited refresh is readable cross-origin (status and Retry-After),
      // and a request with an Authorization header passes the CORS preflight.
      emulator.setFault({
        endpoint: '/api/token',
        type: 'status',
        status: 429,
        retryAfter: 9,
        count: 1,
      });
      const basic = `Basic ${Buffer.from(`${DEMO_APP.clientId}:${DEMO_APP.clientSecret}`).toString('base64')}`;
      const step3 = await tab.evaluate(
        async ({ clientId, accountsUrl, authorization }) => {
          const { Session } = (window as unknown as { spotifySession: Lib }).spotifySession;
          const session = Session.fromJSON(
            { clientId, accountsUrl },
            sessionStorage.getItem('tokens') ?? '{}',
          );
          const limited = await session.refreshAccessToken().then(
            () => undefined,
            (error: { name: string; retryAfter?: number }) => ({
              name: error.name,
              retryAfter: error.retryAfter,
            }),
          );
          const preflighted = await fetch(`${accountsUrl}/api/token`, {
            method: 'POST',
            headers: {
              authorization,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: 'grant_type=client_credentials',
          });
          return { limited, preflightedStatus: preflighted.status };
        },
        { ...args, authorization: basic },
      );
      expect(step3.limited).toEqual({ name: 'RateLimitError', retryAfter: 9 });
      expect(step3.preflightedStatus).toBe(200);

      const { requests } = emulator.stats();
      expect(requests['POST /api/token']).toBe(4);
      expect(requests['OPTIONS /api/token']).toBe(1);
      expect(page.accountsHits()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
