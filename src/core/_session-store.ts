/**
 * What a `TokenStore` adds to a Session (internal to core): loading before first use,
 * write-before-hand-out, refresh under the store's lock with a re-read first (another
 * process may have refreshed, or logged out), the answer written by compare-and-set, the
 * refused marker, logout under the lock.
 *
 * A Session loads this module with a dynamic `import()` the first time it needs its store,
 * so a Session without one — a browser's PKCE login — carries none of it, nor the lock lease
 * (`_store-lease.ts`). Web-standard globals only.
 */
import { StoreLease } from './_store-lease.js';
import type { NoRefreshTokenError, SpotifyError, StoreError } from './errors/index.js';
import type { TokenResponse } from './session.js';
import type { TokenStore } from './store.js';
import type { SessionTokens } from './tokens.js';

/**
 * What this module uses of the rest of core, handed over by the Session instead of
 * imported: a bundler splitting this module into a chunk of its own would otherwise move
 * everything both use (errors, token parsing, the HTTP helpers) into a third chunk that
 * every page loads, and a bundler that does not split would wrap each of those modules in
 * a lazy initialiser. Imported this way, the chunk is this module and the lease alone.
 */
export interface StoreKit {
  readonly parseSessionTokens: (value: unknown) => SessionTokens;
  readonly refreshTokenFingerprint: (refreshToken: string) => Promise<string>;
  readonly SpotifyError: typeof SpotifyError;
  readonly StoreError: typeof StoreError;
}

/** A Session's store options, checked. */
export interface StoreSettings {
  store: TokenStore;
  key: string;
  lockTtl: number;
  lockWait: number;
}

/** The login a refresh replaces, for the compare-and-set of its answer. */
export interface Replaces {
  /** The refresh token the request spent. */
  used: string;
  /** The refresh token stored (without a store: held) when it was sent. */
  refreshToken: string | undefined;
  /** The refused marker stored when it was sent. */
  refused: string | undefined;
}

/** A refresh's answer was not kept: a newer login, or a logout, came first. */
export interface Superseded {
  /** What the store (without one: the Session) holds instead. */
  stored: SessionTokens | undefined;
}

/** Stored tokens a Session takes over: the answer to give, or the refresh token to use. */
export interface Adopted {
  response: TokenResponse | undefined;
  refreshToken: string;
}

/** Where a refresh settles its outcome, when the Session has a store. */
export interface RefreshTarget {
  /** Spotify refused `used`: the stored tokens to continue with, or `undefined`. */
  refused(used: string): Promise<SessionTokens | undefined>;
  /** Writes the answer, unless a newer login or a logout superseded it. */
  save(tokens: SessionTokens, replaces: Replaces): Promise<Superseded | undefined>;
}

/** Why a Session has no refresh token to use, for its error message. */
export type NoRefreshTokenSituation = 'refresh' | 'expired' | 'app-only' | 'removed' | 'logged-out';

/** What this module reaches of its Session. */
export interface SessionHost extends StoreKit {
  /** Bumped on every change of the held tokens: `0` until the first (load or set). */
  version(): number;
  /** Takes `tokens` as the held tokens (no write, no callback). */
  replace(tokens: SessionTokens): void;
  /** Takes stored tokens another process changed; `undefined` when they are no news. */
  adopt(stored: SessionTokens | undefined, usedRefreshToken: string): Adopted | undefined;
  /** Sends the refresh and settles its outcome through `target`. */
  exchange(replaces: Replaces, target: RefreshTarget, onSent: () => void): Promise<TokenResponse>;
  noRefreshToken(situation: NoRefreshTokenSituation): NoRefreshTokenError;
}

/** Whether `current` still holds the login a refresh's answer replaces (see {@link StoreSync.write}). */
async function stillReplaces(
  kit: StoreKit,
  current: SessionTokens | undefined,
  replaces: Replaces,
): Promise<boolean> {
  const refreshToken = current?.refreshToken;
  const refused = current?.refused;
  if (refreshToken !== undefined) {
    return refreshToken === replaces.used || refreshToken === replaces.refreshToken;
  }
  if (refused !== undefined) {
    return (
      refused === replaces.refused || refused === (await kit.refreshTokenFingerprint(replaces.used))
    );
  }
  return replaces.refreshToken === undefined && replaces.refused === undefined;
}

/** A Session's store: the tokens under its key, and the lock on it. */
export class StoreSync {
  readonly #settings: StoreSettings;
  readonly #host: SessionHost;
  #loading: Promise<void> | undefined;
  /** Tokens whose store write failed; written before anything is handed out. */
  unsaved: { tokens: SessionTokens; replaces: Replaces | undefined } | undefined;
  /**
   * The refresh token the store held when this Session last read or wrote it: a held
   * refresh token equal to it came from the store, and a store found empty since means
   * a logout elsewhere.
   */
  #seen: string | undefined;

  constructor(settings: StoreSettings, host: SessionHost) {
    this.#settings = settings;
    this.#host = host;
  }

  /** Runs a store operation, wrapping what it throws as `StoreError` (a `SpotifyError` passes). */
  async #call<T>(operation: StoreError['operation'], run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (cause) {
      if (cause instanceof this.#host.SpotifyError) throw cause;
      throw new this.#host.StoreError(operation, this.#settings.key, { cause });
    }
  }

  /** Loads once (unless tokens were set or obtained first), then writes tokens a failed write left. */
  async ready(): Promise<void> {
    if (this.#host.version() === 0) await (this.#loading ?? this.load(0));
    const unsaved = this.unsaved;
    if (unsaved === undefined) return;
    const lease = unsaved.replaces === undefined ? undefined : await this.#lease();
    try {
      const superseded = await this.write(unsaved.tokens, unsaved.replaces, lease);
      if (superseded !== undefined) this.#host.replace(superseded.stored ?? {});
    } finally {
      await lease?.release();
    }
  }

  /** Reads the store into the Session, unless its tokens changed since `versionAtStart`. */
  load(versionAtStart: number): Promise<void> {
    const loading = this.#read().then((stored) => {
      // Tokens obtained while the read was under way are newer: keep them.
      if (this.#host.version() === versionAtStart) this.#host.replace(stored ?? {});
    });
    this.#loading = loading;
    const done = () => {
      if (this.#loading === loading) this.#loading = undefined;
    };
    loading.then(done, done);
    return loading;
  }

  /** Writes `tokens` as they are (`session.save()`). */
  async save(tokens: SessionTokens): Promise<void> {
    const { store, key } = this.#settings;
    await this.#call('set', () => store.set(key, tokens));
    this.#seen = tokens.refreshToken;
    this.unsaved = undefined;
  }

  /** Deletes the stored tokens under the lock, so a refresh under way elsewhere finishes first. */
  async logout(): Promise<void> {
    const { store, key } = this.#settings;
    const lease = await this.#lease();
    try {
      await this.#call('delete', () => store.delete(key));
      this.#seen = undefined;
      this.unsaved = undefined;
    } finally {
      await lease?.release();
    }
  }

  /**
   * One refresh under the store's lock (renewed while the request runs): the store is read
   * first — another process may have refreshed, or logged out, meanwhile — and the answer is
   * written only over the login it replaces. `adoptable`: the token is the one held, so
   * stored tokens another process wrote since supersede it; a refresh token the caller
   * passed explicitly is used as given.
   */
  async refresh(
    refreshToken: string,
    adoptable: boolean,
    onSent: () => void,
  ): Promise<TokenResponse> {
    const lease = await this.#lease();
    try {
      const seen = this.#seen;
      const stored = await this.#read();
      if (adoptable && refreshToken === seen && (await this.#loggedOut(stored, refreshToken))) {
        this.#host.replace(stored ?? {});
        throw this.#host.noRefreshToken('logged-out');
      }
      const adopted = adoptable ? this.#host.adopt(stored, refreshToken) : undefined;
      if (adopted?.response !== undefined) return adopted.response;
      const used = adopted?.refreshToken ?? refreshToken;
      const replaces = { used, refreshToken: stored?.refreshToken, refused: stored?.refused };
      return await this.#host.exchange(
        replaces,
        {
          refused: (spent) => this.#afterRefusal(spent, lease),
          save: (tokens, spent) => this.write(tokens, spent, lease),
        },
        onSent,
      );
    } finally {
      await lease?.release();
    }
  }

  /**
   * Writes new tokens. A refresh's answer (`replaces` given) only while the store still
   * holds the login it replaces — the refresh token it spent or the one stored when it was
   * sent, or the refused marker of the spent one — read and written under the lock.
   * Resolves `undefined` once written, or `{ stored }` when a newer login, or a logout,
   * superseded the answer: it is not written.
   *
   * A failed write (or lock, or read) rejects with `StoreError`; the new tokens are held and
   * written again on the next call, since after a rotation they are the only valid ones.
   */
  async write(
    tokens: SessionTokens,
    replaces?: Replaces,
    lease?: StoreLease,
  ): Promise<Superseded | undefined> {
    const { store, key } = this.#settings;
    try {
      if (replaces !== undefined) {
        await lease?.confirm();
        const stored = await this.#read();
        if (!(await stillReplaces(this.#host, stored, replaces))) {
          this.unsaved = undefined;
          return { stored };
        }
      }
      await store.set(key, tokens);
      this.#seen = tokens.refreshToken;
      this.unsaved = undefined;
      return undefined;
    } catch (cause) {
      this.#host.replace(tokens);
      this.unsaved = { tokens, replaces };
      throw cause instanceof this.#host.SpotifyError
        ? cause
        : new this.#host.StoreError('set', key, {
            cause,
            message: `The token store failed to save the new tokens under "${key}"; the Session holds them and writes them again on its next call`,
          });
    }
  }

  /**
   * Spotify refused `refreshToken` (`invalid_grant`). The store decides, read again under
   * the lock: its tokens are returned when they hold another refresh token (another process
   * rotated it, or the user logged in again), to continue with. When it still holds the
   * refused token, it is replaced by the refused marker — not deleted, so that the answer of
   * a process that spent this very token and stalled before storing it is still written
   * when it comes (see {@link write}). When the store cannot be read now, nothing is written.
   */
  async #afterRefusal(
    refreshToken: string,
    lease: StoreLease | undefined,
  ): Promise<SessionTokens | undefined> {
    const { store, key } = this.#settings;
    try {
      await lease?.confirm();
      const stored = await this.#read();
      if (stored?.refreshToken === refreshToken) {
        await store.set(key, { refused: await this.#host.refreshTokenFingerprint(refreshToken) });
        this.#seen = undefined;
        return undefined;
      }
      return stored;
    } catch {
      // The RefreshTokenRevokedError is what the caller must act on; the store stays as it is.
      return undefined;
    }
  }

  /**
   * Whether the store shows the login of `refreshToken` gone: nothing stored (a logout), or
   * the refused marker of another refresh token. The refused marker of this very token is
   * not a logout: a late answer for it may still be stored (see {@link write}).
   */
  async #loggedOut(stored: SessionTokens | undefined, refreshToken: string): Promise<boolean> {
    if (stored === undefined) return true;
    const { refused } = stored;
    return (
      refused !== undefined && refused !== (await this.#host.refreshTokenFingerprint(refreshToken))
    );
  }

  /** The tokens in the store, checked; `undefined` when there are none. */
  async #read(): Promise<SessionTokens | undefined> {
    const { store, key } = this.#settings;
    const value = await this.#call('get', () => store.get(key));
    let stored: SessionTokens | undefined;
    if (value !== undefined && value !== null) {
      try {
        stored = this.#host.parseSessionTokens(value);
      } catch (cause) {
        throw new this.#host.StoreError('get', key, {
          cause,
          message: `The token store holds something under "${key}" that is not SessionTokens`,
        });
      }
    }
    this.#seen = stored?.refreshToken;
    return stored;
  }

  /** The store's lock on the key, renewed while held; `undefined` when the store cannot lock. */
  async #lease(): Promise<StoreLease | undefined> {
    const { store, key, lockTtl: ttl, lockWait: wait } = this.#settings;
    const lock = store.lock;
    if (lock === undefined) return undefined;
    return StoreLease.take(ttl, () =>
      this.#call('lock', () => lock.call(store, key, { ttl, wait })),
    );
  }
}
