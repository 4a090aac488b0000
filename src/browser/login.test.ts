/**
 * loginWithRedirect / handleRedirectCallback on a stand-in page (location, history,
 * sessionStorage: test/support/fake-browser.ts) against the emulator in process. Chromium
 * runs the same flow through the consent page in test/e2e/browser-login.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakePage } from '../../test/support/fake-browser.js';
import { rejection } from '../../test/support/rejection.js';
import {
  AuthorizationError,
  NetworkError,
  OAuthError,
  Session,
  type SessionTokens,
} from '../core/index.js';
import { createEmulator, DEMO_APP, type Emulator } from '../emulator/index.js';
import { MemoryStore } from '../stores/index.js';
import { handleRedirectCallback, loginWithRedirect, pendingLoginKey } from './index.js';

const ORIGIN = 'http://127.0.0.1:5180';
const REDIRECT_URI = `${ORIGIN}/callback`;
const ACCOUNTS = 'http://127.0.0.1:9';
const KEY = pendingLoginKey(DEMO_APP.clientId);

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A new tab at `url`; `page.navigate()` moves it, keeping its sessionStorage. */
function openPage(url: string): FakePage {
  const page = new FakePage(url);
  for (const [name, value] of Object.entries(page.globals())) vi.stubGlobal(name, value);
  return page;
}

function setup(emulatorOptions: Parameters<typeof createEmulator>[0] = {}) {
  const emulator = createEmulator({ autoApprove: true, rotation: 'pkce', ...emulatorOptions });
  const store = new MemoryStore();
  const requests: string[] = [];
  const session = new Session({
    clientId: DEMO_APP.clientId,
    redirectUri: REDIRECT_URI,
    accountsUrl: ACCOUNTS,
    fetch: (input, init) => {
      requests.push(String(input));
      return emulator.fetch(new Request(input, init));
    },
    store,
    storeKey: 'me',
  });
  return { emulator, store, session, requests };
}

/** Where the emulator sends the browser back after approving `authorizeUrl`. */
async function approve(emulator: Emulator, authorizeUrl: string): Promise<string> {
  const response = await emulator.fetch(new Request(authorizeUrl));
  const location = response.headers.get('location');
  if (location === null) throw new Error(`no redirect: ${response.status}`);
  return location;
}

/** A user already logged in (from an earlier login), in the store. */
async function loggedIn(env: ReturnType<typeof setup>, page: FakePage): Promise<SessionTokens> {
  page.navigate(`${ORIGIN}/`);
  const url = await loginWithRedirect(env.session, { navigate: false });
  page.navigate(await approve(env.emulator, url));
  await handleRedirectCallback(env.session);
  const tokens = (await env.store.get('me')) as SessionTokens;
  expect(tokens.refreshToken).toEqual(expect.any(String));
  return tokens;
}

describe('loginWithRedirect', () => {
  it('keeps a fresh verifier and state for this client id, then goes to Spotify', async () => {
    const page = openPage(`${ORIGIN}/playlists?page=2#top`);
    const { session } = setup();
    const url = await loginWithRedirect(session, { scope: ['playlist-read-private'] });
    expect(page.assigned).toEqual([url]);
    const pending = JSON.parse(page.sessionStorage.getItem(KEY) ?? '{}');
    expect(pending).toEqual({
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      verifier: expect.stringMatching(/^[A-Za-z0-9._~-]{64}$/),
      returnTo: '/playlists?page=2#top',
      createdAt: expect.any(Number),
    });
    const params = new URL(url).searchParams;
    expect(params.get('state')).toBe(pending.state);
    expect(params.get('code_challenge')).toBe(
      await Session.generateCodeChallenge(pending.verifier),
    );
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('scope')).toBe('playlist-read-private');
    expect(params.get('redirect_uri')).toBe(REDIRECT_URI);
    // A second login draws new values.
    await loginWithRedirect(session, { navigate: false, showDialog: true });
    const again = JSON.parse(page.sessionStorage.getItem(KEY) ?? '{}');
    expect(again.state).not.toBe(pending.state);
    expect(again.verifier).not.toBe(pending.verifier);
    expect(page.assigned).toHaveLength(1);
  });

  it('accepts only same-origin paths as returnTo (no open redirect)', async () => {
    const page = openPage(`${ORIGIN}/`);
    const { session } = setup();
    for (const returnTo of [
      'https://evil.example/phish',
      '//evil.example/phish',
      '/\\evil.example/phish',
      'javascript:alert(1)',
      'http://127.0.0.1:5181/other-port',
    ]) {
      await expect(
        loginWithRedirect(session, { returnTo, navigate: false }),
        returnTo,
      ).rejects.toThrow(/returnTo must be a path of this origin/);
    }
    expect(page.sessionStorage.getItem(KEY)).toBeNull();
    await loginWithRedirect(session, { returnTo: `${ORIGIN}/library?x=1`, navigate: false });
    expect(JSON.parse(page.sessionStorage.getItem(KEY) ?? '{}').returnTo).toBe('/library?x=1');
  });

  it('stores nothing when the URL cannot be built (an unknown scope)', async () => {
    const page = openPage(`${ORIGIN}/`);
    const { session } = setup();
    await expect(
      loginWithRedirect(session, { scope: ['playlist-read-privat' as 'playlist-read-private'] }),
    ).rejects.toThrow(/did you mean "playlist-read-private"/);
    expect(page.sessionStorage.getItem(KEY)).toBeNull();
    expect(page.assigned).toEqual([]);
  });
});

describe('handleRedirectCallback', () => {
  it('exchanges the code once, cleans the address bar, and returns returnTo', async () => {
    const page = openPage(`${ORIGIN}/playlists`);
    const env = setup();
    const url = await loginWithRedirect(env.session, { navigate: false });
    const callback = new URL(await approve(env.emulator, url));
    callback.searchParams.set('utm_source', 'kept');
    page.navigate(callback.href);
    page.historyState = { app: 'state' };
    await expect(handleRedirectCallback(env.session)).resolves.toEqual({ returnTo: '/playlists' });
    expect(page.url.href).toBe(`${REDIRECT_URI}?utm_source=kept`);
    expect(page.historyState).toEqual({ app: 'state' });
    expect(page.sessionStorage.getItem(KEY)).toBeNull();
    expect(env.session.getRefreshToken()).toEqual(expect.any(String));
    expect(await env.store.get('me')).toEqual(env.session.toJSON());
    expect(env.emulator.stats().grants.authorization_code).toBe(1);
  });

  it('a second visit to the callback URL: missing_verifier, the code not sent, the login kept', async () => {
    const env = setup();
    const page = openPage(`${ORIGIN}/`);
    const url = await loginWithRedirect(env.session, { navigate: false });
    const callback = await approve(env.emulator, url);
    page.navigate(callback);
    await handleRedirectCallback(env.session);
    const tokens = await env.store.get('me');
    page.navigate(callback); // reopened from history, or reloaded before the clean-up
    const error = await rejection<AuthorizationError>(handleRedirectCallback(env.session));
    expect(error).toBeInstanceOf(AuthorizationError);
    expect(error.reason).toBe('missing_verifier');
    expect(error.message).toMatch(/already used, opened in another tab.*log in again/);
    expect(page.url.search).toBe('');
    expect(env.emulator.stats().grants.authorization_code).toBe(1);
    expect(await env.store.get('me')).toEqual(tokens);
    // The same in another tab, which never started a login.
    openPage(callback);
    expect((await rejection<AuthorizationError>(handleRedirectCallback(env.session))).reason).toBe(
      'missing_verifier',
    );
    expect(env.emulator.stats().grants.authorization_code).toBe(1);
  });

  it('access_denied: says what happened and what to offer; nothing changes', async () => {
    const env = setup();
    const page = openPage(`${ORIGIN}/`);
    const before = await loggedIn(env, page);
    page.navigate(`${ORIGIN}/`);
    await loginWithRedirect(env.session, { navigate: false });
    const { state } = JSON.parse(page.sessionStorage.getItem(KEY) ?? '{}');
    page.navigate(`${REDIRECT_URI}?error=access_denied&state=${state}`);
    const error = await rejection<AuthorizationError>(handleRedirectCallback(env.session));
    expect(error).toBeInstanceOf(AuthorizationError);
    expect(error.reason).toBe('access_denied');
    expect(error.message).toContain('Offer to log in again');
    expect(page.url.search).toBe('');
    expect(await env.store.get('me')).toEqual(before);
    expect(env.session.toJSON()).toEqual(before);
  });

  it('a forged callback (another state): state_mismatch, no exchange, the login kept', async () => {
    const env = setup();
    const page = openPage(`${ORIGIN}/`);
    const before = await loggedIn(env, page);
    page.navigate(`${ORIGIN}/`);
    const url = await loginWithRedirect(env.session, { navigate: false });
    const genuine = new URL(await approve(env.emulator, url));
    const forged = new URL(genuine);
    forged.searchParams.set('state', Session.generateState());
    page.navigate(forged.href);
    const sent = env.requests.length;
    const error = await rejection<AuthorizationError>(handleRedirectCallback(env.session));
    expect(error.reason).toBe('state_mismatch');
    expect(env.requests.length).toBe(sent);
    expect(page.sessionStorage.getItem(KEY)).toBeNull();
    expect(page.url.search).toBe('');
    expect(await env.store.get('me')).toEqual(before);
    // The pending login is gone for the genuine callback too: it cannot be replayed later.
    page.navigate(genuine.href);
    expect((await rejection<AuthorizationError>(handleRedirectCallback(env.session))).reason).toBe(
      'missing_verifier',
    );
    expect(env.requests.length).toBe(sent);
  });

  it('an expired code: code_rejected, cause OAuthError, the login kept', async () => {
    const env = setup();
    const page = openPage(`${ORIGIN}/`);
    const before = await loggedIn(env, page);
    page.navigate(`${ORIGIN}/`);
    const url = await loginWithRedirect(env.session, { navigate: false });
    page.navigate(await approve(env.emulator, url));
    env.emulator.advanceClock(601);
    const error = await rejection<AuthorizationError>(handleRedirectCallback(env.session));
    expect(error.reason).toBe('code_rejected');
    expect(error.cause).toBeInstanceOf(OAuthError);
    expect(error.message).toMatch(/expired or was already used.*log in again/);
    expect(await env.store.get('me')).toEqual(before);
  });

  it('a network failure during the exchange: the error as it is, pending login gone', async () => {
    const env = setup();
    const session = new Session({
      clientId: DEMO_APP.clientId,
      redirectUri: REDIRECT_URI,
      accountsUrl: ACCOUNTS,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    const page = openPage(`${ORIGIN}/`);
    const url = await loginWithRedirect(session, { navigate: false });
    page.navigate(await approve(env.emulator, url));
    await expect(handleRedirectCallback(session)).rejects.toBeInstanceOf(NetworkError);
    expect(page.sessionStorage.getItem(KEY)).toBeNull();
  });

  it('re-checks a stored returnTo; leaves the address bar alone for another URL', async () => {
    const env = setup();
    const page = openPage(`${ORIGIN}/`);
    const url = await loginWithRedirect(env.session, { navigate: false });
    const pending = JSON.parse(page.sessionStorage.getItem(KEY) ?? '{}');
    page.sessionStorage.setItem(KEY, JSON.stringify({ ...pending, returnTo: '//evil.example' }));
    const callback = await approve(env.emulator, url);
    await expect(handleRedirectCallback(env.session, callback)).resolves.toEqual({ returnTo: '/' });
    expect(page.url.href).toBe(`${ORIGIN}/`);
  });
});
