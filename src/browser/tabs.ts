import type { Session, SessionTokens } from '../core/index.js';

/** What {@link syncTabs} listens to: a store that announces changes made in other tabs (`BrowserStore`). */
export interface TabChangeSource {
  /** Calls `listener` with each key another tab changed; returns the function that stops it. */
  subscribe(listener: (key: string) => void): () => void;
}

/** Why {@link SyncTabsOptions.onTokens} was called. */
export interface TabTokensEvent {
  /** Always `true`: another tab changed the tokens (refresh, login, logout), not a request of this tab. */
  otherTab: true;
  /** `true` when the other tab logged out (or Spotify revoked the login): this Session now holds no tokens. */
  loggedOut: boolean;
}

/** Options of {@link syncTabs}. */
export interface SyncTabsOptions {
  /**
   * Called after the Session took tokens another tab stored, with what it now holds — the
   * counterpart, in every other tab, of the Session's own `onTokens`. Pass the same function
   * to both to hear every change in every tab.
   * @default undefined
   */
  onTokens?: ((tokens: SessionTokens, event: TabTokensEvent) => unknown) | undefined;
  /**
   * Called when re-reading the store (or `onTokens`) fails.
   * @default globalThis.reportError (the page's error handlers and console)
   */
  onError?: ((error: unknown) => void) | undefined;
}

interface PageEvents {
  addEventListener?(type: 'pageshow', listener: (event: { persisted?: boolean }) => void): void;
  removeEventListener?(type: 'pageshow', listener: (event: { persisted?: boolean }) => void): void;
  reportError?(error: unknown): void;
}

const page = globalThis as PageEvents;

function holdsNothing(tokens: SessionTokens): boolean {
  return tokens.accessToken === undefined && tokens.refreshToken === undefined;
}

/**
 * Keeps `session` current with what the other tabs store: whenever another tab refreshes,
 * logs in or logs out, the Session re-reads the store (`session.load()`), so its next call
 * uses the new access token — no refresh of its own, no stale refresh token — and then
 * `onTokens` runs. Also re-reads when the page comes back from the back/forward cache.
 *
 * @example
 * ```ts
 * import { Session } from 'spotify-session';
 * import { syncTabs } from 'spotify-session/browser';
 * import { BrowserStore } from 'spotify-session/stores/browser';
 *
 * declare const clientId: string;
 * declare function render(): void;
 *
 * const store = new BrowserStore();
 * const session = new Session({ clientId, store, storeKey: 'me', onTokens: render });
 * syncTabs(session, store, { onTokens: render });
 * ```
 *
 * @param store - the Session's store (`BrowserStore`), which announces other tabs' changes.
 * @returns the function that stops syncing.
 */
export function syncTabs(
  session: Session,
  store: TabChangeSource,
  options: SyncTabsOptions = {},
): () => void {
  const report = options.onError ?? ((error: unknown) => page.reportError?.(error));
  // Changed by this read, or since the last one: a tab that waited for the lock took the
  // new tokens silently (no onTokens of its own) before the announcement arrived.
  let seen = JSON.stringify(session.toJSON());
  const reload = async () => {
    const before = JSON.stringify(session.toJSON());
    await session.load();
    const tokens = session.toJSON();
    const text = JSON.stringify(tokens);
    const unchanged = text === before && text === seen;
    seen = text;
    if (unchanged) return;
    await options.onTokens?.(tokens, { otherTab: true, loggedOut: holdsNothing(tokens) });
  };
  // One re-read at a time; changes that arrive meanwhile cause one more, not one each.
  let running = false;
  let again = false;
  const sync = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await reload().catch(report);
      } while (again);
    } finally {
      running = false;
    }
  };
  const unsubscribe = store.subscribe(() => void sync());
  const onPageShow = (event: { persisted?: boolean }) => {
    // A page restored from the back/forward cache heard nothing while it slept.
    if (event.persisted === true) void sync();
  };
  page.addEventListener?.('pageshow', onPageShow);
  return () => {
    unsubscribe();
    page.removeEventListener?.('pageshow', onPageShow);
  };
}

/**
 * Logs out in every tab: deletes the Session's tokens from its store while holding the
 * store's lock (so a refresh under way in another tab finishes first instead of writing them
 * back afterwards), then empties `session` — `session.logout()`. The other tabs'
 * `syncTabs()` hear the deletion, and a tab that was waiting for the lock to refresh finds
 * the login gone and refreshes nothing.
 *
 * Spotify has no endpoint to revoke a token: the refresh token stays valid at Spotify until
 * the user removes the app from their account (spotify.com/account/apps).
 *
 * @throws {LockTimeoutError} another tab held the lock for longer than the Session's `lockWait` (35 s by default).
 * @throws {StoreError} the store failed.
 */
export function logout(session: Session): Promise<void> {
  return session.logout();
}
