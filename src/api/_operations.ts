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
import { eachOf, idOf, uriOf } from './_spotify-ids.js';

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
  /** Scopes the reference lists for the operation. */
  readonly scopes?: readonly KnownScope[];
  /**
   * What the client requires before sending (`SpotifyWebAPIOptions.checkScopes`): each entry a
   * scope the login must have, or a list of scopes one of which is enough. Absent: every one of
   * `scopes`. Empty: none (the listed ones unlock fields of the answer, or a private playlist).
   */
  readonly requires?: readonly (KnownScope | readonly KnownScope[])[];
  /** Spotify withdrew the endpoint (for new apps, or for apps in Development Mode). */
  readonly deprecated?: true;
  /** For a withdrawn endpoint: the method to call instead, when Spotify offers one. */
  readonly replacement?: string;
}

/** The table's entry for a method name (`albums.get`), or `undefined` for an unknown name. */
export function operationNamed(name: string): Operation | undefined {
  return Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
}

/** Each operation's method name, entry and path segments, split once. */
let templates: [name: string, operation: Operation, parts: string[]][] | undefined;

/**
 * The operation a request is for: `GET /albums/4aaw…` is `albums.get`. `path` is below the
 * API's base URL, without the query; one trailing slash is the same path, as on Spotify. A
 * `{parameter}` matches any non-empty segment; when two templates match, the one with more
 * fixed segments wins. `undefined` for a path no operation has.
 */
export function operationAt(
  method: string,
  path: string,
): [name: string, operation: Operation] | undefined {
  templates ??= Object.entries(OPERATIONS).map(([name, op]) => [name, op, op.path.split('/')]);
  const segments = path.replace(/(.)\/$/, '$1').split('/');
  let best: [string, Operation] | undefined;
  let bestLiterals = -1;
  for (const [name, operation, parts] of templates) {
    if (operation.method !== method || parts.length !== segments.length) continue;
    let literals = 0;
    const matches = parts.every((part, index) => {
      if (part.startsWith('{')) return segments[index] !== '';
      literals++;
      return part === segments[index];
    });
    if (matches && literals > bestLiterals) {
      best = [name, operation];
      bestLiterals = literals;
    }
  }
  return best;
}

/** The kind of Spotify object a path segment names (`albums` → `album`); audio features and analysis are a track's. */
function resourceNamed(segment: string | undefined): string | undefined {
  if (segment === 'audio-features' || segment === 'audio-analysis') return 'track';
  return /^(album|artist|track|show|episode|audiobook|chapter|playlist|user)s$/.exec(
    segment ?? '',
  )?.[1];
}

/**
 * The kind of object an operation's `ids` name: the last fixed segment of its path that names
 * one and is not followed by a path parameter (`/me/albums/contains` → album; in
 * `/playlists/{playlist_id}/followers/contains` the ids are users', not playlists'), else its
 * `type` argument (`/me/following?type=artist`).
 */
function idsResource(parts: readonly string[], typeArgument: unknown): string | undefined {
  for (let index = parts.length - 1; index > 0; index--) {
    const resource = resourceNamed(parts[index]);
    if (resource !== undefined && !parts[index + 1]?.startsWith('{')) return resource;
  }
  return typeof typeArgument === 'string' ? typeArgument : undefined;
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
  const parts = operation.path.split('/');
  // An id may be given as a URI or an open.spotify.com link of the path's kind of object.
  const path = parts
    .map((part, at) => {
      if (!part.startsWith('{')) return part;
      const argument = part.slice(1, -1);
      const resource = resourceNamed(parts[at - 1]);
      const value = next(argument);
      return encodeURIComponent(
        String(resource === undefined ? value : idOf(value, resource, argument, name)),
      );
    })
    .join('/');
  const inBody = operation.body ?? NONE;
  // Values as the caller gave them (typed by Resources); the requester encodes them. Ids and
  // URIs may be given as URIs or open.spotify.com links: they are sent as Spotify expects.
  const query: Record<string, unknown> = {};
  let json: Record<string, unknown> | undefined;
  const send = (wire: string, given: unknown) => {
    let value = given;
    if (wire === 'ids') {
      const resource = idsResource(parts, query.type);
      if (resource !== undefined) value = eachOf(given, (id) => idOf(id, resource, wire, name));
    } else if (wire === 'uris') value = eachOf(given, uriOf);
    else if (wire === 'uri' || wire === 'context_uri') value = uriOf(given);
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
