import { AbortedError, InvalidArgumentError, InvalidResponseError } from '../core/index.js';

/**
 * A page of the Web API: offset-based (`offset`, `total`, `previous`) or
 * cursor-based (`cursors.after`); both carry `items` and a `next` link.
 */
export interface PageLike<T> {
  /** Optional in Spotify's schemas; a page without it is refused at run time. */
  items?: readonly T[] | undefined;
  next?: string | null | undefined;
}

/**
 * A page, or an answer holding exactly one page under one key (search with
 * one `type`: `{ tracks: {…} }`; followed artists: `{ artists: {…} }`).
 */
export type PageSource<T> = PageLike<T> | { readonly [key: string]: PageLike<T> | undefined };

/**
 * The item type of a page, or of the pages an answer wraps (search: the union
 * of the types asked for; at run time only the one page present is walked).
 */
export type PageItem<A> =
  A extends PageLike<infer T>
    ? T
    : {
        [K in keyof A]-?: NonNullable<A[K]> extends PageLike<infer T> ? T : never;
      }[keyof A];

/** Options of `SpotifyWebAPI.paginate()`. */
export interface PaginateOptions {
  /**
   * Stop after this many items, even when more pages exist.
   * @default Infinity (every page, to the end)
   */
  max?: number | undefined;
  /** Stops the iteration: the next page request (or wait) rejects with `AbortedError`. @default undefined */
  signal?: AbortSignal | undefined;
}

/** Options of {@link Paginator.collect}. */
export interface CollectOptions {
  /**
   * Stop after this many items (and `paginate()`'s own `max`, if smaller).
   * @default Infinity (every item, to the last page)
   */
  max?: number | undefined;
}

/**
 * What `SpotifyWebAPI.paginate()` returns: the items one by one (`for await … of`), or all
 * of them at once (`collect()`). Either way the pages are fetched as the items are needed, and
 * only once: a paginator is used up by one loop or one `collect()`.
 */
export interface Paginator<T> extends AsyncGenerator<T, void, undefined> {
  /**
   * Every item, in order, in one array: the pages are fetched one after the other until the
   * last one or `max` items.
   * @throws the errors of the page requests (`WebAPIError`, `RateLimitError`, …), and
   *   `AbortedError` when `paginate()`'s `signal` aborts.
   */
  collect(options?: CollectOptions): Promise<T[]>;
}

/** Adds {@link Paginator.collect} to the generator of `paginatePages()`. */
export function toPaginator<T>(items: AsyncGenerator<T, void, undefined>): Paginator<T> {
  return Object.assign(items, {
    async collect(options: CollectOptions = {}): Promise<T[]> {
      const max = resolveMax(options?.max);
      const all: T[] = [];
      if (max === 0) {
        await items.return();
        return all;
      }
      for await (const item of items) {
        all.push(item);
        if (all.length >= max) break;
      }
      return all;
    },
  });
}

function isPage(value: unknown): value is PageLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { items?: unknown }).items)
  );
}

/** The page in an answer: the answer itself, or the one page-shaped value it wraps. */
export function findPage(answer: unknown): PageLike<unknown> {
  if (isPage(answer)) return answer;
  if (typeof answer === 'object' && answer !== null) {
    const pages = Object.values(answer).filter(isPage);
    if (pages.length === 1 && pages[0] !== undefined) return pages[0];
  }
  throw new InvalidResponseError(
    200,
    'paginate(): the answer is not a page (an object with an `items` array, or one such object under one key)',
  );
}

export function resolveMax(max: number | undefined): number {
  if (max === undefined) return Number.POSITIVE_INFINITY;
  if (typeof max !== 'number' || Number.isNaN(max) || max < 0) {
    throw new InvalidArgumentError('max', 'max must be a number ≥ 0 (the most items to yield)');
  }
  return max;
}

/**
 * Yields the items of `first`, then of every page its `next` links lead to.
 * `fetchNext` sends the link through the client (auth, refresh, retries).
 */
export async function* paginatePages<T>(
  first: () => Promise<unknown>,
  fetchNext: (url: string, signal: AbortSignal | undefined) => Promise<unknown>,
  max: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<T, void, undefined> {
  if (max === 0) return;
  const seen = new Set<string>();
  let count = 0;
  let page = findPage(await first());
  for (;;) {
    for (const item of page.items ?? []) {
      yield item as T;
      if (++count >= max) return;
    }
    const next = page.next;
    if (typeof next !== 'string' || next === '') return;
    // A server that links a page to itself would otherwise be followed forever.
    if (seen.has(next)) {
      throw new InvalidResponseError(200, 'paginate(): a `next` link repeats an earlier page');
    }
    seen.add(next);
    if (signal?.aborted === true) throw new AbortedError({ cause: signal.reason });
    page = findPage(await fetchNext(next, signal));
  }
}
