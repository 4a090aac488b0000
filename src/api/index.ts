/**
 * `spotify-session/api`: Spotify's Web API, typed, with automatic token
 * refresh (through a core `Session`) and honest retries. Web-standard globals
 * only, like core.
 * @module
 */
export type * from './_generated/index.js';
export type {
  CollectOptions,
  PageItem,
  PageLike,
  PageSource,
  PaginateOptions,
  Paginator,
} from './_paginate.js';
export type { ApiRequestOptions, Requester } from './_requester.js';
export type { RetryOptions } from './_retry.js';
export {
  type AfterResponseHook,
  type BeforeRequestHook,
  DEFAULT_API_URL,
  DEFAULT_REFRESH_SKEW_SECONDS,
  type HttpMethod,
  SpotifyWebAPI,
  SpotifyWebAPIBase,
  type SpotifyWebAPIHooks,
  type SpotifyWebAPIOptions,
} from './client.js';
export * from './errors/index.js';
