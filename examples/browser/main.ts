/**
 * A single-page app on spotify-session: Log in (PKCE), the user's name, their playlists
 * page by page, Log out — with tokens shared by every tab and refreshed by one of them.
 * `npm run example:browser` bundles this file with esbuild and serves it beside the
 * emulator (serve.mjs).
 */
import { isSpotifyError, Session, type SessionTokens } from 'spotify-session';
import { SpotifyWebAPI } from 'spotify-session/api';
import {
  handleRedirectCallback,
  loginWithRedirect,
  logout,
  syncTabs,
} from 'spotify-session/browser';
import { BrowserStore } from 'spotify-session/stores/browser';

/**
 * Set by serve.mjs at build time: the emulator's addresses and its demo app. Against
 * Spotify, leave `accountsUrl` and `apiUrl` out and use your app's client id.
 */
declare const EXAMPLE_CONFIG: { clientId: string; accountsUrl: string; apiUrl: string };

const STORE_KEY = 'me';
const PAGE_SIZE = 2;

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

const ui = {
  status: element('status'),
  error: element('error'),
  signedOut: element('signed-out'),
  signedIn: element('signed-in'),
  login: element<HTMLButtonElement>('login'),
  logout: element<HTMLButtonElement>('logout'),
  userName: element('user-name'),
  playlists: element<HTMLUListElement>('playlists'),
  more: element<HTMLButtonElement>('more'),
};

/** Every onTokens call in this tab, its own and the other tabs' (the tests read it). */
const events: { source: string; accessToken: string | undefined; loggedIn: boolean }[] = [];

const store = new BrowserStore();
const session = new Session({
  clientId: EXAMPLE_CONFIG.clientId,
  redirectUri: `${location.origin}/callback`,
  accountsUrl: EXAMPLE_CONFIG.accountsUrl,
  store,
  storeKey: STORE_KEY,
  onTokens: (tokens, event) => tokensChanged(tokens, event.grant),
});
const api = new SpotifyWebAPI({ apiUrl: EXAMPLE_CONFIG.apiUrl }, session);
syncTabs(session, store, { onTokens: (tokens) => tokensChanged(tokens, 'other tab') });

function tokensChanged(tokens: SessionTokens, source: string): void {
  const loggedIn = tokens.refreshToken !== undefined;
  events.push({ source, accessToken: tokens.accessToken, loggedIn });
  if (!loggedIn)
    showSignedOut(); // a logout here or in another tab, or a revoked login
  else if (source === 'other tab' && ui.signedIn.hidden) showSignedIn().catch(showError);
}

function showError(error: unknown): void {
  ui.error.hidden = false;
  ui.error.textContent = error instanceof Error ? error.message : String(error);
  ui.error.dataset.reason = isSpotifyError(error, 'AUTHORIZATION_ERROR')
    ? error.reason
    : isSpotifyError(error)
      ? error.code
      : 'unexpected';
  // A dead or missing refresh token: the user must log in again.
  if (isSpotifyError(error, 'REFRESH_TOKEN_REVOKED') || isSpotifyError(error, 'NO_REFRESH_TOKEN')) {
    showSignedOut();
  }
}

function showSignedOut(): void {
  ui.signedIn.hidden = true;
  ui.signedOut.hidden = false;
  ui.status.textContent = 'Not logged in.';
  ui.playlists.replaceChildren();
}

let nextOffset = 0;

async function showSignedIn(): Promise<void> {
  ui.signedOut.hidden = true;
  ui.signedIn.hidden = false;
  ui.status.textContent = '';
  const me = await api.me();
  ui.userName.textContent = me.display_name ?? me.id ?? null;
  ui.playlists.replaceChildren();
  nextOffset = 0;
  await loadMorePlaylists();
}

async function loadMorePlaylists(): Promise<void> {
  const page = await api.playlists.mine({ limit: PAGE_SIZE, offset: nextOffset });
  for (const playlist of page.items) {
    const item = document.createElement('li');
    item.textContent = `${playlist.name ?? 'Untitled'} (${playlist.items?.total ?? 0} items)`;
    ui.playlists.append(item);
  }
  nextOffset += page.items.length;
  ui.more.hidden = page.next === null;
}

/** Hooks for the end-to-end tests (test/e2e/browser-*.test.ts); an app has none. */
const testHooks = {
  session,
  events,
  /** `count` concurrent `GET /me`, from the moment `at` (epoch ms) on, so tabs call together. */
  async callMe(count: number, at = Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
    const results = await Promise.allSettled(Array.from({ length: count }, () => api.me()));
    return {
      ok: results.filter((result) => result.status === 'fulfilled').length,
      errors: results.flatMap((result) =>
        result.status === 'rejected' ? [String(result.reason)] : [],
      ),
      accessToken: session.getAccessToken(),
      refreshToken: session.getRefreshToken(),
    };
  },
  /** Marks the stored access token expired, for every tab (they hear the write). */
  async expire() {
    await store.set(STORE_KEY, { ...session.toJSON(), expiresAt: Math.floor(Date.now() / 1000) });
    await session.load();
  },
};
Object.assign(window, { __app: testHooks });

async function start(): Promise<void> {
  ui.login.addEventListener('click', () => {
    loginWithRedirect(session, { scope: ['user-read-private', 'playlist-read-private'] }).catch(
      showError,
    );
  });
  ui.logout.addEventListener('click', () => {
    logout(session).then(showSignedOut, showError);
  });
  ui.more.addEventListener('click', () => {
    loadMorePlaylists().catch(showError);
  });
  if (location.pathname === '/callback') {
    const params = new URLSearchParams(location.search);
    try {
      if (params.has('code') || params.has('error') || params.has('state')) {
        const { returnTo } = await handleRedirectCallback(session);
        history.replaceState(null, '', returnTo);
      }
    } catch (error) {
      showError(error); // the tokens held before (if any) are untouched
    }
    if (location.pathname === '/callback') history.replaceState(null, '', '/');
  }
  await session.load();
  if (session.getRefreshToken() === undefined) showSignedOut();
  else await showSignedIn();
}

start()
  .catch(showError)
  .finally(() => {
    document.body.dataset.ready = 'true';
  });
