/**
 * Stand-ins for the browser APIs `BrowserStore` and `spotify-session/browser` use, so their
 * unit tests run in Node: a `Storage` on a Map (shared by the "tabs" that get it), and a Web
 * Locks manager whose tabs can crash. The real APIs are exercised in Chromium by
 * test/e2e/browser-*.test.ts.
 */

/** A `Storage` on a Map; `failWith` makes the next writes throw (a full or blocked storage). */
export class FakeStorage {
  readonly #items = new Map<string, string>();
  failWith: Error | undefined;

  get length(): number {
    return this.#items.size;
  }

  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }

  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    if (this.failWith !== undefined) throw this.failWith;
    this.#items.set(key, String(value));
  }

  removeItem(key: string): void {
    if (this.failWith !== undefined) throw this.failWith;
    this.#items.delete(key);
  }

  clear(): void {
    this.#items.clear();
  }

  /** Typed as the DOM's `Storage` for the code under test. */
  asStorage(): Storage {
    return this as unknown as Storage;
  }
}

interface Entry {
  tab: FakeTab;
  granted: boolean;
  /** Runs the callback of a granted request. */
  run(): void;
  /** The holder lost the lock (stolen) or its tab crashed: settle without its callback. */
  drop(reason: unknown): void;
}

/** One tab's `navigator.locks`: a view of a {@link FakeLockManager}. */
export interface FakeTab {
  locks: LockManager;
  /** The tab crashes: its held locks go to the next waiter, its pending requests vanish. */
  crash(): void;
}

/**
 * The Web Locks API as the spec describes it, for exclusive locks: FIFO per name,
 * `ifAvailable`, `signal` (rejects with its reason), `steal` (the holder's request rejects
 * with an AbortError), and a lock freed when its tab crashes.
 */
export class FakeLockManager {
  readonly #queues = new Map<string, Entry[]>();
  /** How many locks were granted, by name. */
  readonly grants = new Map<string, number>();

  tab(): FakeTab {
    const tab: FakeTab = {
      locks: {
        request: ((
          name: string,
          optionsOrCallback: LockOptions | LockGrantedCallback<unknown>,
          maybeCallback?: LockGrantedCallback<unknown>,
        ) =>
          typeof optionsOrCallback === 'function'
            ? this.#request(tab, name, {}, optionsOrCallback)
            : this.#request(
                tab,
                name,
                optionsOrCallback,
                maybeCallback as LockGrantedCallback<unknown>,
              )) as LockManager['request'],
        query: async () => ({
          held: this.#snapshot(true),
          pending: this.#snapshot(false),
        }),
      },
      crash: () => {
        for (const [name, queue] of this.#queues) {
          for (const entry of queue.filter((candidate) => candidate.tab === tab)) {
            this.#remove(name, entry);
          }
        }
      },
    };
    return tab;
  }

  #snapshot(held: boolean): LockInfo[] {
    return [...this.#queues].flatMap(([name, queue]) =>
      queue
        .filter((entry) => entry.granted === held)
        .map(() => ({ name, mode: 'exclusive' as const })),
    );
  }

  #request(
    tab: FakeTab,
    name: string,
    options: LockOptions,
    callback: LockGrantedCallback<unknown>,
  ): Promise<unknown> {
    const { signal } = options;
    if (signal !== undefined && (options.ifAvailable === true || options.steal === true)) {
      return Promise.reject(new DOMException('signal with ifAvailable/steal', 'NotSupportedError'));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const queue = this.#queues.get(name) ?? [];
    this.#queues.set(name, queue);
    if (options.ifAvailable === true && queue.length > 0) {
      return Promise.resolve().then(() => callback(null));
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (run: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        this.#remove(name, entry);
        run();
      };
      const entry: Entry = {
        tab,
        granted: false,
        run: () => {
          Promise.resolve()
            .then(() => callback({ name, mode: 'exclusive' }))
            .then(
              (value) => settle(() => resolve(value)),
              (error: unknown) => settle(() => reject(error)),
            );
        },
        drop: (reason) => settle(() => reject(reason)),
      };
      const onAbort = () => {
        if (!entry.granted) settle(() => reject(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (options.steal === true) {
        const holders = queue.filter((candidate) => candidate.granted);
        queue.unshift(entry);
        for (const holder of holders) {
          holder.drop(new DOMException('The lock was stolen', 'AbortError'));
        }
      } else {
        queue.push(entry);
      }
      this.#grantNext(name);
    });
  }

  #remove(name: string, entry: Entry): void {
    const queue = this.#queues.get(name);
    const index = queue?.indexOf(entry) ?? -1;
    if (queue === undefined || index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.#queues.delete(name);
    this.#grantNext(name);
  }

  #grantNext(name: string): void {
    const next = this.#queues.get(name)?.[0];
    if (next === undefined || next.granted) return;
    next.granted = true;
    this.grants.set(name, (this.grants.get(name) ?? 0) + 1);
    next.run();
  }
}

/**
 * A page's `location`, `history` and `sessionStorage`, for the login functions: navigation
 * only records where the page was sent; `replaceState` changes the address.
 */
export class FakePage {
  url: URL;
  readonly assigned: string[] = [];
  readonly sessionStorage = new FakeStorage();
  historyState: unknown = null;

  constructor(url: string) {
    this.url = new URL(url);
  }

  /** A navigation in this tab: a new address, the same sessionStorage. */
  navigate(url: string): this {
    this.url = new URL(url, this.url);
    this.historyState = null;
    return this;
  }

  /** The globals to stub (`vi.stubGlobal(name, value)` for each). */
  globals(): Record<'location' | 'history' | 'sessionStorage', unknown> {
    const page = this;
    const location = {
      get href() {
        return page.url.href;
      },
      get origin() {
        return page.url.origin;
      },
      get pathname() {
        return page.url.pathname;
      },
      get search() {
        return page.url.search;
      },
      get hash() {
        return page.url.hash;
      },
      assign(url: string) {
        page.assigned.push(String(url));
      },
    };
    const history = {
      get state() {
        return page.historyState;
      },
      replaceState(state: unknown, _unused: string, url?: string | URL | null) {
        page.historyState = state;
        if (url !== undefined && url !== null) page.url = new URL(url, page.url);
      },
    };
    return { location, history, sessionStorage: this.sessionStorage.asStorage() };
  }
}
