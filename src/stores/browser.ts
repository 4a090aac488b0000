/**
 * `spotify-session/stores/browser`: tokens shared by every tab of a browser, refreshed once.
 *
 * Web-standard globals only (IndexedDB, Web Locks, BroadcastChannel); importing this module
 * touches none of them, so it loads anywhere — a `BrowserStore` is made in a page.
 */
import {
  AbortedError,
  ConfigurationError,
  InvalidArgumentError,
  type SessionTokens,
  StoreError,
  type StoreOperation,
  type TokenStore,
  type TokenStoreLock,
  type TokenStoreLockOptions,
} from '../core/index.js';
import { abortedError, checkKey, checkLockOptions, lockTimeout, MAX_TIMER_MS } from './_shared.js';

export type { TokenStore, TokenStoreLock, TokenStoreLockOptions } from '../core/index.js';

/** The name a store uses unless given one: its database, key prefix, locks and channel. */
export const DEFAULT_BROWSER_STORE_NAME = 'spotify-session';

/** Options of {@link BrowserStore}. */
export interface BrowserStoreOptions {
  /**
   * Where the tokens live.
   *
   * - `'indexedDB'`: one copy for every tab of this origin, kept across restarts. Reads
   *   under the lock always see the last holder's write (IndexedDB transactions are
   *   consistent across tabs).
   * - a `Storage` such as `sessionStorage`: this tab's own tokens, gone when it closes;
   *   every tab logs in by itself (Spotify remembers the consent, so it is one redirect).
   *   A `Storage` you write yourself must be seen by this tab only, like `sessionStorage`.
   *
   * `localStorage` is refused: Chromium gives each tab its own cached copy of it, so a tab
   * that takes the lock right after another tab's refresh can still read the spent refresh
   * token and send it again (Spotify answers `invalid_grant`: logged out).
   * @default 'indexedDB'
   */
  storage?: 'indexedDB' | Storage | undefined;
  /**
   * Names this store's database (or key prefix in a `Storage`), its locks and its channel:
   * two apps on one origin that must not share tokens use two names.
   * @default 'spotify-session'
   */
  name?: string | undefined;
  /**
   * The Web Locks API. Leave it out in a page; tests and polyfills pass their own.
   * @default navigator.locks
   */
  locks?: LockManager | undefined;
  /**
   * The IndexedDB factory, for `storage: 'indexedDB'`. Leave it out in a page.
   * @default globalThis.indexedDB
   */
  indexedDB?: IDBFactory | undefined;
}

/** A held lock from {@link BrowserStore.lock}. */
export interface BrowserStoreLock extends TokenStoreLock {
  /**
   * `true` while this holder still holds the lock. A Web Lock has no time limit, so `ttl`
   * changes nothing: the lock is lost only if another context steals it
   * (`navigator.locks.request(name, { steal: true }, …)`) — and the browser frees it by
   * itself when the holder's tab closes or crashes.
   */
  extend(ttl: number): Promise<boolean>;
}

/** Called with the key that another tab (or another `BrowserStore` in this one) changed. */
export type BrowserStoreListener = (key: string) => void;

/** How the values are kept: JSON text under a key. */
interface Backend {
  read(key: string): Promise<string | undefined>;
  /** Writes `text`, or deletes the key when `text` is `undefined`; durable once resolved. */
  write(key: string, text: string | undefined): Promise<void>;
  close(): void;
}

const OBJECT_STORE = 'tokens';

/** A failure of the browser's storage, with what to do about it. */
function storageFailure(
  operation: StoreOperation,
  key: string,
  cause: unknown,
  where: string,
): StoreError {
  const name = cause instanceof Error ? cause.name : 'Error';
  const hint =
    name === 'QuotaExceededError'
      ? 'the site has no storage left: free some (site settings) and try again'
      : 'the browser blocks site storage (private window, storage disabled, or a storage error): allow site data for this page, or keep tokens per tab with new BrowserStore({ storage: sessionStorage })';
  return new StoreError(operation, key, {
    cause,
    message: `${where} failed to ${operation} the tokens under "${key}" (${name}): ${hint}`,
  });
}

/** Settles with the request's result once its transaction has committed (or failed). */
function transact<T>(
  db: IDBDatabase,
  mode: IDBTransactionMode,
  run: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    // `strict`: a rotated refresh token is on disk before the new access token is handed out.
    const transaction = db.transaction(
      OBJECT_STORE,
      mode,
      mode === 'readwrite' ? { durability: 'strict' } : undefined,
    );
    const request = run(transaction.objectStore(OBJECT_STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error ?? request.error);
    transaction.onabort = () =>
      reject(transaction.error ?? new DOMException('Transaction aborted', 'AbortError'));
  });
}

class IndexedDbBackend implements Backend {
  readonly #factory: IDBFactory;
  readonly #name: string;
  #db: Promise<IDBDatabase> | undefined;

  constructor(factory: IDBFactory, name: string) {
    this.#factory = factory;
    this.#name = name;
  }

  #open(): Promise<IDBDatabase> {
    const opening = new Promise<IDBDatabase>((resolve, reject) => {
      const request = this.#factory.open(this.#name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(OBJECT_STORE);
      request.onsuccess = () => {
        const db = request.result;
        // Another tab upgrading the database (a newer release) must not wait for this one.
        db.onversionchange = () => this.#forget(opening, db);
        db.onclose = () => this.#forget(opening, db);
        resolve(db);
      };
      request.onerror = () => reject(request.error);
    });
    opening.catch(() => this.#forget(opening));
    this.#db = opening;
    return opening;
  }

  #forget(opening: Promise<IDBDatabase>, db?: IDBDatabase): void {
    db?.close();
    if (this.#db === opening) this.#db = undefined;
  }

  /** Runs `run` on the open database; once more on a fresh connection if the old one died. */
  async #transact<T>(
    mode: IDBTransactionMode,
    run: (store: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> {
    const opening = this.#db ?? this.#open();
    const db = await opening;
    try {
      return await transact(db, mode, run);
    } catch (error) {
      // A connection closed under us (versionchange, Safari's lost IndexedDB server)
      // throws InvalidStateError or UnknownError: reopen once. Anything else is real.
      const name = error instanceof Error ? error.name : '';
      if (name !== 'InvalidStateError' && name !== 'UnknownError') throw error;
      this.#forget(opening, db);
      return transact(await this.#open(), mode, run);
    }
  }

  async read(key: string): Promise<string | undefined> {
    const value = await this.#transact('readonly', (store) => store.get(key));
    return typeof value === 'string' ? value : undefined;
  }

  async write(key: string, text: string | undefined): Promise<void> {
    if (text === undefined) await this.#transact('readwrite', (store) => store.delete(key));
    else await this.#transact('readwrite', (store) => store.put(text, key));
  }

  close(): void {
    const opening = this.#db;
    if (opening === undefined) return;
    this.#db = undefined;
    opening.then((db) => db.close()).catch(() => {});
  }
}

class StorageBackend implements Backend {
  readonly #storage: Storage;
  readonly #prefix: string;

  constructor(storage: Storage, name: string) {
    this.#storage = storage;
    this.#prefix = `${name}:`;
  }

  async read(key: string): Promise<string | undefined> {
    return this.#storage.getItem(this.#prefix + key) ?? undefined;
  }

  async write(key: string, text: string | undefined): Promise<void> {
    if (text === undefined) this.#storage.removeItem(this.#prefix + key);
    else this.#storage.setItem(this.#prefix + key, text);
  }

  close(): void {}
}

/** `globalThis.localStorage`, or `undefined` where reading it is refused (sandboxed frames). */
function pageLocalStorage(): Storage | undefined {
  try {
    return (globalThis as { localStorage?: Storage }).localStorage;
  } catch {
    return undefined;
  }
}

function isStorage(value: unknown): value is Storage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Storage).getItem === 'function' &&
    typeof (value as Storage).setItem === 'function' &&
    typeof (value as Storage).removeItem === 'function'
  );
}

const NO_WEB_LOCKS =
  'BrowserStore needs the Web Locks API (navigator.locks), so that two tabs never refresh a rotating refresh token at once, and BroadcastChannel, to tell the other tabs; this page lacks them. Every current browser has both, Web Locks only in a secure context: serve the page over https://, or from http://127.0.0.1 or http://localhost while developing. Without them, keep the tokens in this tab alone with a MemoryStore (spotify-session/stores).';

/**
 * A {@link TokenStore} for single-page apps: tokens shared by every tab of the origin and
 * refreshed by one tab at a time.
 *
 * - **Storage**: IndexedDB by default (one copy for every tab, kept across restarts), or a
 *   `Storage` such as `sessionStorage` (this tab only). Values are kept as JSON text: `get`
 *   returns a JSON copy of what `set` got.
 * - **Lock**: the Web Locks API. The browser frees a lock when the tab holding it closes or
 *   crashes, so a tab killed mid-refresh blocks no one; `ttl` has no effect.
 * - **Other tabs**: every `set` and `delete` is announced on a `BroadcastChannel` (the key
 *   only, never a token); {@link subscribe} hears them. `syncTabs()` from
 *   `spotify-session/browser` uses it to keep each tab's Session current.
 *
 * @throws {ConfigurationError} from the constructor where the browser lacks what the store
 *   needs (Web Locks outside a secure context, IndexedDB) or for `localStorage`.
 */
export class BrowserStore implements TokenStore {
  /** The store's name: database, key prefix, lock and channel names derive from it. */
  readonly name: string;
  readonly #backend: Backend;
  readonly #locks: LockManager;
  readonly #where: string;
  readonly #listeners = new Set<BrowserStoreListener>();
  #channel: BroadcastChannel | undefined;

  constructor(options: BrowserStoreOptions = {}) {
    const name = options.name ?? DEFAULT_BROWSER_STORE_NAME;
    if (typeof name !== 'string' || name === '' || name.length > 100) {
      throw new ConfigurationError('name', 'BrowserStore name must be 1 to 100 characters');
    }
    this.name = name;
    const locks =
      options.locks ?? (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    if (
      locks === undefined ||
      typeof locks.request !== 'function' ||
      typeof BroadcastChannel !== 'function'
    ) {
      throw new ConfigurationError('locks', NO_WEB_LOCKS);
    }
    this.#locks = locks;
    const storage = options.storage ?? 'indexedDB';
    if (storage === 'indexedDB') {
      const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
      if (factory === undefined) {
        throw new ConfigurationError(
          'indexedDB',
          'BrowserStore keeps tokens in IndexedDB, which this environment lacks: run it in a page, or pass storage: sessionStorage (this tab only)',
        );
      }
      this.#backend = new IndexedDbBackend(factory, name);
      this.#where = `IndexedDB (database "${name}")`;
    } else if (isStorage(storage)) {
      if (storage === pageLocalStorage()) {
        throw new ConfigurationError(
          'storage',
          'localStorage cannot hold tokens that tabs share: Chromium keeps a cached copy of it in each tab, so a tab that takes the lock right after another refreshed can read the spent refresh token and send it again (Spotify answers invalid_grant and the user is logged out). Leave storage out (IndexedDB: shared by every tab, consistent under the lock) or pass sessionStorage (tokens per tab).',
        );
      }
      this.#backend = new StorageBackend(storage, name);
      this.#where = 'The Storage';
    } else {
      throw new ConfigurationError(
        'storage',
        "storage must be 'indexedDB' or a Storage such as sessionStorage",
      );
    }
  }

  async get(key: string): Promise<SessionTokens | undefined> {
    checkKey(key);
    let text: string | undefined;
    try {
      text = await this.#backend.read(key);
    } catch (cause) {
      throw storageFailure('get', key, cause, this.#where);
    }
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as SessionTokens;
    } catch (cause) {
      throw new StoreError('get', key, {
        cause,
        message: `${this.#where} holds something that is not JSON under "${key}": delete it (store.delete("${key}")) and log in again`,
      });
    }
  }

  async set(key: string, tokens: SessionTokens): Promise<void> {
    checkKey(key);
    let text: string | undefined;
    try {
      text = JSON.stringify(tokens);
    } catch {
      // A cycle or a BigInt: fall through to the error below.
    }
    if (text === undefined) {
      throw new InvalidArgumentError(
        'tokens',
        'BrowserStore keeps values as JSON: pass what session.toJSON() returns',
      );
    }
    await this.#write('set', key, text);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.#write('delete', key, undefined);
  }

  async #write(operation: StoreOperation, key: string, text: string | undefined): Promise<void> {
    try {
      await this.#backend.write(key, text);
    } catch (cause) {
      throw storageFailure(operation, key, cause, this.#where);
    }
    // Only the key: tokens never travel through the channel, the other tabs re-read them.
    this.#openChannel().postMessage({ key });
  }

  /**
   * Waits until no other tab (or context of this origin) holds `key`, then holds it until
   * `release()`, or until this tab closes or crashes — the browser frees the lock then, so
   * `options.ttl` has nothing to do.
   * @throws {LockTimeoutError} still held elsewhere after `options.wait` ms (`0`: try once).
   * @throws {AbortedError} `options.signal` aborted first.
   */
  lock(key: string, options: TokenStoreLockOptions): Promise<BrowserStoreLock> {
    try {
      checkKey(key);
      const { wait, signal } = checkLockOptions(options);
      if (signal?.aborted) return Promise.reject(abortedError(signal));
      return this.#request(key, wait, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #request(key: string, wait: number, signal: AbortSignal | undefined): Promise<BrowserStoreLock> {
    return new Promise((resolve, reject) => {
      const giveUp = new AbortController();
      let timedOut = false;
      let granted = false;
      let held = false;
      const onAbort = () => giveUp.abort(signal?.reason);
      // A wait beyond what a timer can count (Infinity) means no time limit; 0 tries once.
      const timer =
        wait <= 0 || wait > MAX_TIMER_MS
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              giveUp.abort();
            }, wait);
      const stopWaiting = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let letGo: () => void = () => {};
      const holding = new Promise<void>((done) => {
        letGo = done;
      });
      const handle: BrowserStoreLock = {
        release: async () => {
          letGo();
          await done.catch(() => {});
        },
        extend: async () => held,
      };
      const done = this.#locks.request(
        `${this.name}:${key}`,
        // The API refuses a signal together with ifAvailable.
        wait <= 0 ? { ifAvailable: true } : { signal: giveUp.signal },
        (lock) => {
          stopWaiting();
          if (lock === null) {
            reject(lockTimeout(key, wait));
            return undefined;
          }
          granted = true;
          held = true;
          resolve(handle);
          return holding;
        },
      );
      done.then(
        () => {
          held = false;
        },
        (error: unknown) => {
          held = false;
          if (granted) return; // stolen: extend() now answers false
          stopWaiting();
          if (timedOut) reject(lockTimeout(key, wait));
          else if (signal?.aborted) reject(new AbortedError({ cause: signal.reason }));
          else reject(storageFailure('lock', key, error, 'The Web Locks API'));
        },
      );
    });
  }

  /**
   * Calls `listener` with the key whenever another tab — or another `BrowserStore` of the
   * same name in this tab — sets or deletes tokens. Changes made through this object are
   * not announced to it. Returns the function that stops listening.
   */
  subscribe(listener: BrowserStoreListener): () => void {
    if (typeof listener !== 'function') {
      throw new InvalidArgumentError('listener', 'subscribe(listener) needs a function');
    }
    this.#openChannel();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stops announcing and hearing changes and closes the database; the store is unusable after. */
  close(): void {
    this.#listeners.clear();
    this.#channel?.close();
    this.#backend.close();
  }

  #openChannel(): BroadcastChannel {
    if (this.#channel !== undefined) return this.#channel;
    const channel = new BroadcastChannel(`spotify-session-store:${this.name}`);
    channel.onmessage = (event: MessageEvent<unknown>) => {
      const key = (event.data as { key?: unknown } | null)?.key;
      if (typeof key !== 'string') return;
      for (const listener of [...this.#listeners]) {
        try {
          listener(key);
        } catch (error) {
          // A listener's bug must not stop the others; the page's error handlers see it.
          (globalThis as { reportError?: (error: unknown) => void }).reportError?.(error);
        }
      }
    };
    this.#channel = channel;
    return channel;
  }
}
