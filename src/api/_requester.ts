/** Options for one Web API request made through a {@link Requester}. */
export interface ApiRequestOptions {
  /**
   * Query parameters; arrays are comma-joined, `undefined` entries are omitted,
   * except `market: undefined`, which sends the client's `market` option when
   * one is set. Generated methods pass that key for exactly the operations
   * whose reference lists an optional `market`.
   */
  query?:
    | Record<string, string | number | boolean | readonly (string | number)[] | undefined>
    | undefined;
  /** Request body: JSON-encoded unless it is a string, `Uint8Array` or `Blob`. */
  body?: unknown;
  /** Extra request headers. */
  headers?: Record<string, string> | undefined;
  /** Aborts the request (and any wait before a retry). */
  signal?: AbortSignal | undefined;
}

/** The one function every generated resource method calls. */
export interface Requester {
  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    /** Already filled, e.g. `/albums/4aawyAB9vmqN3uQ7FjRGTy` (ids `encodeURIComponent`-ed). */
    path: string,
    options?: ApiRequestOptions,
  ): Promise<T>;
}
