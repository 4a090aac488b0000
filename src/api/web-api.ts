/**
 * `SpotifyWebAPI`: the base client with every operation of the Web API as a method of a
 * resource group, the operation table's checks (`_guard.ts`) and `paginate()`. Apart from
 * `client.ts` so that the base client alone (`SpotifyWebAPIBase`: `request()` and `me()`)
 * loads without the generated operation table, as the CLI's `api` and `whoami` do.
 */

import { assertSignal } from '../core/_http.js';
import type { Session } from '../core/index.js';
import type { Resources } from './_generated/resources.js';
import { createGuard, explainWithdrawn } from './_guard.js';
import { createResources } from './_operations.js';
import {
  type PageItem,
  type PageSource,
  type PaginateOptions,
  type Paginator,
  paginatePages,
  resolveMax,
  toPaginator,
} from './_paginate.js';
import type { ApiRequestOptions } from './_requester.js';
import {
  DEFAULT_API_URL,
  guards,
  type HttpMethod,
  resolveApiUrl,
  SpotifyWebAPIBase,
  type SpotifyWebAPIOptions,
} from './client.js';

// The resource groups (`api.albums`, `api.player`, …) are attached in the
// constructor from the generated table; this merge gives them their types.
export interface SpotifyWebAPI extends Resources {}

/**
 * Spotify's Web API, typed, with automatic token refresh and honest retries.
 *
 * Hand it a {@link Session} (it refreshes the Session's tokens as needed) or
 * a bare access token (`setAccessToken`). Every operation of the Web API is a
 * method of a resource group (`api.albums`, `api.playlists`, `api.player`, …);
 * `request()` reaches anything else, `paginate()` walks pages.
 *
 * @example
 * ```ts
 * import { Session } from 'spotify-session';
 * import { SpotifyWebAPI } from 'spotify-session/api';
 *
 * declare const clientId: string, clientSecret: string, refreshToken: string;
 * const session = new Session({ clientId, clientSecret });
 * session.setRefreshToken(refreshToken);
 * const api = new SpotifyWebAPI({ autoRefresh: true }, session);
 * const me = await api.me();
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor assigns every member of Resources
export class SpotifyWebAPI extends SpotifyWebAPIBase {
  readonly #apiUrl: string;

  /**
   * @param options - see {@link SpotifyWebAPIOptions}; `{}` for the defaults.
   * @param session - the Session whose access token authorizes the calls.
   * @throws {ConfigurationError} an option cannot work (the message says why).
   */
  constructor(options: SpotifyWebAPIOptions = {}, session?: Session) {
    super(options, session);
    // Checked by super() already; kept here to rebase `next` links.
    this.#apiUrl = resolveApiUrl(options.apiUrl ?? DEFAULT_API_URL);
    guards.set(this, createGuard(options.checkScopes !== false));
    Object.assign(this, createResources(this));
  }

  /**
   * Sends one Web API request like {@link SpotifyWebAPIBase.request}, with the checks of the
   * operation at that path: a scope the login lacks refuses it before sending
   * (`checkScopes`), a wait Spotify asked this app for is shared with every client on the
   * Session's store, and a withdrawn endpoint's 403 or 404 becomes `kind: 'withdrawn'`
   * naming its replacement.
   *
   * @throws {WebAPIError} an error status (see `kind`), or a missing scope before sending.
   * @throws {RateLimitError} 429 with no retry left, a `Retry-After` over the cap, or a wait
   *   recorded by another client that lasts longer than the cap (nothing sent).
   */
  override async request<T = unknown>(
    method: HttpMethod,
    path: string,
    options: ApiRequestOptions = {},
  ): Promise<T> {
    try {
      return await super.request<T>(method, path, options);
    } catch (error) {
      throw explainWithdrawn(error);
    }
  }

  /**
   * Every item of a paged answer, page after page, following `next` links
   * (offset and cursor pages alike).
   *
   * @param first - a path to GET (`/me/tracks`), with `options.query`; name
   *   the item type yourself (`paginate<SavedTrackObject>(…)`).
   * @example
   * ```ts
   * import { SpotifyWebAPI } from 'spotify-session/api';
   * declare const api: SpotifyWebAPI;
   * let count = 0;
   * for await (const _item of api.paginate('/me/tracks', { query: { limit: 50 }, max: 500 })) {
   *   count++;
   * }
   * ```
   */
  paginate<T = unknown>(
    first: string,
    options?: PaginateOptions & Pick<ApiRequestOptions, 'query'>,
  ): Paginator<T>;
  /**
   * Every item of a paged answer, page after page, following `next` links
   * (offset and cursor pages alike).
   *
   * @param first - the first page or its promise (e.g.
   *   `api.playlists.items.list(id, { limit: 50 })`), or an answer holding
   *   one page under one key (a search for one type); items are typed from it.
   * @example
   * ```ts
   * import { SpotifyWebAPI } from 'spotify-session/api';
   * declare const api: SpotifyWebAPI, playlistId: string;
   * const first = api.playlists.items.list(playlistId, { limit: 50 });
   * const names: string[] = [];
   * for await (const entry of api.paginate(first, { max: 500 })) {
   *   names.push(entry.item?.name ?? '(unavailable)');
   * }
   * ```
   */
  paginate<A extends object>(
    first: A | Promise<A>,
    options?: PaginateOptions,
  ): Paginator<PageItem<A>>;
  paginate<T = unknown>(
    first: string | PageSource<T> | Promise<PageSource<T>>,
    options: PaginateOptions & Pick<ApiRequestOptions, 'query'> = {},
  ): Paginator<T> {
    assertSignal(options.signal);
    const { signal, query } = options;
    const max = resolveMax(options.max);
    let load: () => Promise<unknown>;
    if (typeof first === 'string') {
      load = () => this.request('GET', first, { query, signal });
    } else {
      const page = Promise.resolve(first);
      // Reported when iterated; not an unhandled rejection if the loop never starts.
      page.catch(() => {});
      load = () => page;
    }
    return toPaginator(
      paginatePages<T>(
        load,
        (next, nextSignal) =>
          this.request('GET', rebaseLink(this.#apiUrl, next), { signal: nextSignal }),
        max,
        signal,
      ),
    );
  }
}

/** A `next` link from api.spotify.com, rebased onto `apiUrl` (a proxy, the emulator). */
function rebaseLink(base: string, link: string): string {
  if (link.startsWith(`${base}/`) || link.startsWith(`${base}?`)) return link;
  if (link.startsWith(`${DEFAULT_API_URL}/`)) return `${base}${link.slice(DEFAULT_API_URL.length)}`;
  return link; // #prepare refuses it: the token never goes to another host
}
