/**
 * Turns the generated operation table (`OPERATIONS` in `_generated/resources.ts`) into the
 * resource groups of {@link SpotifyWebAPI}: `api.albums.get(id, options)` becomes one
 * {@link Requester.request} call with the operation's method, filled path, query and body.
 * Only `SpotifyWebAPI` reaches this file, so `SpotifyWebAPIBase` bundles leave the table out.
 */
import { InvalidArgumentError, type KnownScope } from '../core/index.js';
import type { CallOptions } from './_generated/params.js';
import { OPERATIONS, type Resources } from './_generated/resources.js';
import type { ApiRequestOptions, Requester } from './_requester.js';

/**
 * How one Web API operation is called: the value of its entry in `OPERATIONS`, keyed by its
 * method name (`albums.get`, `playlists.items.add`). Generated from Spotify's OpenAPI
 * description by `scripts/generate-api.mjs`; absent lists are empty.
 */
export interface Operation {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Below the API's base URL. `{name}` marks a path argument: the first arguments, in order. */
  readonly path: string;
  /** Wire names of the required parameters taken as the arguments after the path ones, in order. */
  readonly args?: readonly string[];
  /** A raw (not JSON) body taken as the last argument: its content type and the argument's name. */
  readonly rawBody?: readonly [contentType: string, argument: string];
  /**
   * Wire names of the parameters that travel in the JSON body, among `args` and the options
   * (given camelCase, `positionMs` for `position_ms`). Every other parameter goes in the query,
   * list values comma-joined (see {@link ApiRequestOptions.query}).
   */
  readonly body?: readonly string[];
  /**
   * The operation takes an optional `market` query parameter: the client's default `market`
   * is sent when the call names none. No other operation ever gets one.
   */
  readonly market?: true;
  /** Scopes the reference lists for the operation: without them Spotify answers 403. */
  readonly scopes?: readonly KnownScope[];
  /** Spotify withdrew the endpoint (for new apps, or for apps in Development Mode). */
  readonly deprecated?: true;
  /** For a withdrawn endpoint: the method to call instead, when Spotify offers one. */
  readonly replacement?: string;
}

/** The table's entry for a method name (`albums.get`), or `undefined` for an unknown name. */
export function operationNamed(name: string): Operation | undefined {
  return Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
}

type Method = (...args: unknown[]) => Promise<unknown>;
interface Group {
  [name: string]: Group | Method;
}

/** Builds the resource groups (`albums`, `player`, …) on top of one {@link Requester}. */
export function createResources(requester: Requester): Resources {
  const root: Group = {};
  for (const [name, operation] of Object.entries(OPERATIONS)) {
    const parts = name.split('.');
    const method = parts.pop() as string;
    let group = root;
    for (const part of parts) {
      group[part] ??= {};
      group = group[part] as Group;
    }
    group[method] = (...args) => call(requester, name, operation, args);
  }
  // Every member of Resources is one table entry (src/api/operations.test.ts walks them all).
  return root as unknown as Resources;
}

const NONE: readonly string[] = [];

function call(
  requester: Requester,
  name: string,
  operation: Operation,
  args: readonly unknown[],
): Promise<unknown> {
  let index = 0;
  const next = (argument: string): unknown => {
    const value = args[index++];
    if (value === undefined || value === null || value === '') {
      throw new InvalidArgumentError(
        argument,
        `${name}() needs \`${argument}\` (argument ${index}); it was ${value === '' ? 'empty' : String(value)}.`,
      );
    }
    return value;
  };
  const path = operation.path.replace(/\{(\w+)\}/g, (_, argument: string) =>
    encodeURIComponent(String(next(argument))),
  );
  const inBody = operation.body ?? NONE;
  // Values as the caller gave them (typed by Resources); the requester encodes them.
  const query: Record<string, unknown> = {};
  let json: Record<string, unknown> | undefined;
  const send = (wire: string, value: unknown) => {
    if (inBody.includes(wire)) {
      json ??= {};
      json[wire] = value;
    } else query[wire] = value;
  };
  for (const wire of operation.args ?? NONE) send(wire, next(wire));
  let raw: string | undefined;
  let headers: Record<string, string> | undefined;
  if (operation.rawBody) {
    const [contentType, argument] = operation.rawBody;
    raw = next(argument) as string;
    headers = { 'Content-Type': contentType };
  }
  // A `market` key left undefined asks the requester for its default market; an option overrides it.
  if (operation.market) query.market = undefined;

  const last = args[index] ?? {};
  if (typeof last !== 'object' || Array.isArray(last) || args.length > index + 1) {
    throw new InvalidArgumentError(
      'options',
      `${name}() takes ${index} argument(s), then an optional options object ({ signal, … }); got ${args.length} argument(s), with ${Array.isArray(last) ? 'an array' : `a ${typeof last}`} where the options go.`,
    );
  }
  const { signal, ...options } = last as CallOptions & Record<string, unknown>;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    send(
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      value,
    );
  }
  const body = raw ?? json;
  return requester.request(operation.method, path, {
    ...(Object.keys(query).length ? { query: query as ApiRequestOptions['query'] } : {}),
    ...(body === undefined ? {} : { body }),
    ...(headers ? { headers } : {}),
    ...(signal ? { signal } : {}),
  });
}
