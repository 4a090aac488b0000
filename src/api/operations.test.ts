// biome-ignore-all lint/correctness/noNodejsModules: a Node-only test reading the Web API description from disk.
// Walks every operation of the Web API description and proves the generated client sends the
// right method, path, query and body. Expectations are derived here from the description itself
// (parameter locations, required flags, body fields) plus the hand-written method names, never
// from the generated table, so a wrong table entry cannot agree with itself.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPERATIONS } from './_generated/resources.js';
import type {
  AlbumObject,
  ArrayOfBooleans,
  CurrentlyPlayingContextObject,
  SearchItems,
} from './_generated/types.js';
import { createResources, operationNamed } from './_operations.js';
import type { ApiRequestOptions, Requester } from './_requester.js';
import { SpotifyWebAPI } from './client.js';

const SPEC = fileURLToPath(new URL('../../../shared/spotify/openapi.yml', import.meta.url));
const CONFIG = fileURLToPath(new URL('../../scripts/api-names.json', import.meta.url));
const hasSpec = existsSync(SPEC);
if (!hasSpec && process.env.CI === 'true') {
  throw new Error(`The Web API description is missing at ${SPEC}; CI must run these tests.`);
}
if (!hasSpec) {
  console.warn(`SKIPPED: ${SPEC} is absent, so the 97-operation walk cannot run.`);
}

type Json = Record<string, unknown>;
interface Param {
  wire: string;
  where: 'path' | 'query' | 'body';
  required: boolean;
  schema: Json;
}
interface Expected {
  method: string;
  path: string;
  query: Json;
  body: unknown;
  headers: Record<string, string> | undefined;
}
interface Case {
  operationId: string;
  deprecated: boolean;
  name: string;
  args: unknown[];
  options: Json;
  full: Expected;
  /** The same call with every option `undefined`: those must not be sent. */
  bare: Expected;
  /** The description offers an optional `market` query parameter: the client's default applies. */
  takesMarket: boolean;
  /** The scopes of the description's security section. */
  scopes: string[];
  /** The method api-names.json names instead of a withdrawn one. */
  replacement: string | undefined;
}

const camel = (wire: string) => wire.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function buildCases(): Case[] {
  const spec = parse(readFileSync(SPEC, 'utf8')) as Json;
  const config = JSON.parse(readFileSync(CONFIG, 'utf8')) as {
    names: Record<string, string>;
    listParams: Record<string, string>;
    replacements: Record<string, [string, string]>;
  };
  const deref = (node: unknown): Json => {
    let at = node as Json;
    while (typeof at.$ref === 'string') {
      at = at.$ref
        .slice(2)
        .split('/')
        .reduce<Json>((o, k) => o[k] as Json, spec);
    }
    return at;
  };
  let counter = 0;
  // Values chosen to exercise encoding: reserved characters in ids, spaces and `&` in strings,
  // `false` next to `true`, zero-free numbers, arrays for list parameters.
  const sample = (p: Param): unknown => {
    counter += 1;
    const s = p.schema;
    if (p.where === 'path') return `${p.wire} é/?#%${counter}`;
    if (Array.isArray(s.enum)) return s.enum[s.enum.length - 1];
    if (s.type === 'array') {
      const items = s.items as Json;
      if (Array.isArray(items.enum)) return items.enum.slice(0, 2);
      if (items.type === 'object') return [{ uri: `spotify:track:${counter}` }];
      return [`${p.wire}-a${counter}`, `${p.wire}-b${counter}`];
    }
    if (p.where === 'query' && config.listParams[p.wire]) return [`a${counter}`, `b${counter}`];
    if (s.type === 'integer') return 10 + counter;
    if (s.type === 'number') return counter + 0.25;
    if (s.type === 'boolean') return counter % 2 === 0;
    if (s.type === 'object') return { position: counter };
    return `${p.wire} ${counter}&x=1`;
  };

  const cases: Case[] = [];
  for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
    for (const [verb, raw] of Object.entries(item)) {
      const op = raw as Json;
      const operationId = op.operationId as string;
      const params: Param[] = ((op.parameters as unknown[]) ?? []).map((ref) => {
        const p = deref(ref);
        return {
          wire: p.name as string,
          where: p.in as 'path' | 'query',
          required: p.in === 'path' || p.required === true,
          schema: p.schema as Json,
        };
      });
      let rawBody: string | undefined;
      if (op.requestBody) {
        const content = deref(op.requestBody).content as Record<string, { schema: Json }>;
        const [type, media] = Object.entries(content)[0] ?? [];
        if (type === 'application/json' && media) {
          const schema = deref(media.schema);
          const required = (schema.required as string[] | undefined) ?? [];
          for (const [wire, prop] of Object.entries(schema.properties as Record<string, Json>)) {
            params.push({ wire, where: 'body', required: required.includes(wire), schema: prop });
          }
        } else {
          rawBody = type;
        }
      }
      // A name accepted both in the query and in the JSON body is sent in the body, required
      // when either place requires it.
      const inBody = (wire: string) => params.some((p) => p.where === 'body' && p.wire === wire);
      const sent = params
        .filter((p) => !(p.where === 'query' && inBody(p.wire)))
        .map((p) =>
          p.where === 'body' &&
          params.some((q) => q.where === 'query' && q.wire === p.wire && q.required)
            ? { ...p, required: true }
            : p,
        );
      const pathNames = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const positional = [
        ...pathNames.map((w) => sent.find((p) => p.where === 'path' && p.wire === w) as Param),
        ...sent.filter((p) => p.where === 'query' && p.required),
        ...sent.filter((p) => p.where === 'body' && p.required),
      ];
      const optional = sent.filter((p) => !p.required);

      const args: unknown[] = [];
      const base: Expected = {
        method: verb.toUpperCase(),
        path,
        query: {},
        body: undefined,
        headers: undefined,
      };
      for (const p of positional) {
        const value = sample(p);
        args.push(value);
        if (p.where === 'path') {
          base.path = base.path.replace(`{${p.wire}}`, encodeURIComponent(value as string));
        } else if (p.where === 'query') base.query[p.wire] = value;
        else base.body = { ...(base.body as Json), [p.wire]: value };
      }
      if (rawBody) {
        const image = `/9j/${counter}+AAQSkZJRg==`;
        args.push(image);
        base.body = image;
        base.headers = { 'Content-Type': rawBody };
      }
      const full: Expected = { ...base, query: { ...base.query } };
      const options: Json = {};
      for (const p of optional) {
        const value = sample(p);
        options[camel(p.wire)] = value;
        if (p.where === 'query') full.query[p.wire] = value;
        else full.body = { ...(full.body as Json), [p.wire]: value };
      }
      cases.push({
        operationId,
        deprecated: op.deprecated === true,
        name: config.names[operationId] as string,
        args,
        options,
        full,
        bare: base,
        takesMarket: optional.some((p) => p.where === 'query' && p.wire === 'market'),
        scopes: ((op.security as Record<string, string[]>[] | undefined) ?? []).flatMap((s) =>
          Object.values(s).flat(),
        ),
        replacement: config.replacements[operationId]?.[0],
      });
    }
  }
  return cases;
}

const cases = hasSpec ? buildCases() : [];

function method(root: unknown, name: string): (...args: unknown[]) => Promise<unknown> {
  const fn = name.split('.').reduce<unknown>((at, key) => (at as Json)[key], root);
  if (typeof fn !== 'function') throw new Error(`api.${name} is not a function`);
  return fn as (...args: unknown[]) => Promise<unknown>;
}

/**
 * What a Requester must receive for an expectation (empty parts left out). An operation that
 * takes a `market` passes the key even when the call names none, left `undefined`: that asks
 * the requester for its default market.
 */
function requesterCall(expected: Expected, takesMarket: boolean, signal?: AbortSignal) {
  const options: ApiRequestOptions = {};
  const query = takesMarket ? { market: undefined, ...expected.query } : expected.query;
  if (Object.keys(query).length) options.query = query as ApiRequestOptions['query'];
  if (expected.body !== undefined) options.body = expected.body;
  if (expected.headers) options.headers = expected.headers;
  if (signal) options.signal = signal;
  return { method: expected.method, path: expected.path, options };
}

describe.skipIf(!hasSpec)('every Web API operation', () => {
  it('has 97 operations, 48 withdrawn, each with a distinct method name', () => {
    expect(cases).toHaveLength(97);
    expect(cases.filter((c) => c.deprecated)).toHaveLength(48);
    expect(new Set(cases.map((c) => c.name)).size).toBe(97);
    expect(cases.filter((c) => !c.name)).toEqual([]);
  });

  it("reads each operation's scopes, withdrawal and replacement from the table, as the description and api-names.json give them", () => {
    expect(Object.keys(OPERATIONS).sort()).toStrictEqual(cases.map((c) => c.name).sort());
    for (const c of cases) {
      const operation = operationNamed(c.name);
      expect(
        {
          scopes: operation?.scopes ?? [],
          deprecated: operation?.deprecated === true,
          replacement: operation?.replacement,
        },
        c.name,
      ).toStrictEqual({ scopes: c.scopes, deprecated: c.deprecated, replacement: c.replacement });
    }
    expect(cases.filter((c) => c.scopes.length).length).toBeGreaterThan(60);
    expect(operationNamed('player.play')?.scopes).toStrictEqual(['user-modify-playback-state']);
    expect(operationNamed('albums.getSeveral')).toMatchObject({
      deprecated: true,
      replacement: 'albums.get',
    });
    for (const name of ['albums', 'albums.nope', 'toString', '__proto__', '']) {
      expect(operationNamed(name), name).toBeUndefined();
    }
  });

  it('maps the seed call and the user group to GET /me', async () => {
    const calls: unknown[] = [];
    const api = createResources({
      request: async (...args) => {
        calls.push(args);
        return undefined as never;
      },
    });
    await api.users.me();
    expect(calls).toStrictEqual([['GET', '/me', {}]]);
  });

  it('types parameters and responses (checked by tsc), and sends what the types describe', async () => {
    const calls: unknown[] = [];
    const api = createResources({
      request: async (...args) => {
        calls.push(args);
        return undefined as never;
      },
    });
    const album: AlbumObject = await api.albums.get('4aawyAB9vmqN3uQ7FjRGTy', { market: 'SE' });
    const state: CurrentlyPlayingContextObject | undefined = await api.player.state();
    const saved: ArrayOfBooleans = await api.library.contains(['spotify:track:1']);
    const found: SearchItems = await api.search('abba', ['album', 'track'], { limit: 5 });
    const paused = await api.player.pause({ deviceId: 'd1' });
    // @ts-expect-error a device id is a string
    await api.player.pause({ deviceId: 1 });
    // @ts-expect-error option names are camelCase
    await api.player.pause({ device_id: 'd1' });
    // @ts-expect-error the repeat state is track, context or off
    await api.player.repeat('all');
    // @ts-expect-error search types come from the description's enum
    await api.search('abba', ['song']);
    expect([album, state, saved, found, paused]).toStrictEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(calls).toStrictEqual([
      ['GET', '/albums/4aawyAB9vmqN3uQ7FjRGTy', { query: { market: 'SE' } }],
      ['GET', '/me/player', { query: { market: undefined } }],
      ['GET', '/me/library/contains', { query: { uris: ['spotify:track:1'] } }],
      [
        'GET',
        '/search',
        { query: { q: 'abba', type: ['album', 'track'], market: undefined, limit: 5 } },
      ],
      ['PUT', '/me/player/pause', { query: { device_id: 'd1' } }],
      ['PUT', '/me/player/pause', { query: { device_id: 1 } }],
      ['PUT', '/me/player/pause', { query: { device_id: 'd1' } }],
      ['PUT', '/me/player/repeat', { query: { state: 'all' } }],
      ['GET', '/search', { query: { q: 'abba', type: ['song'], market: undefined } }],
    ]);
  });

  describe('through a recording Requester', () => {
    it.each(cases.map((c) => [c.name, c] as const))(
      '%s sends the method, path, query and body the description defines',
      async (_, c) => {
        const calls: { method: string; path: string; options: unknown }[] = [];
        const requester: Requester = {
          request: async (m, path, options) => {
            calls.push({ method: m, path, options });
            return undefined as never;
          },
        };
        const api = createResources(requester);
        const signal = new AbortController().signal;
        await method(api, c.name)(...c.args, { ...c.options, signal });
        const undefinedOptions = Object.fromEntries(
          Object.keys(c.options).map((k) => [k, undefined]),
        );
        await method(api, c.name)(...c.args, undefinedOptions);
        await method(api, c.name)(...c.args);
        expect(calls).toStrictEqual([
          requesterCall(c.full, c.takesMarket, signal),
          requesterCall(c.bare, c.takesMarket),
          requesterCall(c.bare, c.takesMarket),
        ]);
      },
    );

    it('rejects a missing or empty required argument by name, before any request', () => {
      const api = createResources({
        request: () => {
          throw new Error('must not be called');
        },
      });
      expect(() => api.albums.get('')).toThrow(/albums\.get\(\) needs `id`/);
      expect(() => api.player.seek(undefined as unknown as number)).toThrow(/`position_ms`/);
      expect(() =>
        api.playlists.items.remove('p1', undefined as unknown as readonly { uri?: string }[]),
      ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', argument: 'items' }));
    });

    it('rejects options that are not an object, and extra arguments, before any request', () => {
      const api = createResources({
        request: () => {
          throw new Error('must not be called');
        },
      });
      // @ts-expect-error the limit belongs in the options object
      expect(() => api.albums.tracks('a1', 10)).toThrow(
        /albums\.tracks\(\) takes 1 argument\(s\), then an optional options object .*got 2 argument\(s\), with a number where the options go/,
      );
      // @ts-expect-error one argument too many
      expect(() => api.player.pause({}, {})).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', argument: 'options' }),
      );
      // @ts-expect-error arrays are not options
      expect(() => api.users.me([])).toThrow(/with an array where the options go/);
    });
  });

  describe('through SpotifyWebAPI and a recording fetch', () => {
    const apiUrl = 'https://api.test/v1';
    const wire = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value));

    it.each(cases.map((c) => [c.name, c] as const))(
      '%s reaches the network as the description defines',
      async (_, c) => {
        const seen: Request[] = [];
        const api = new SpotifyWebAPI({
          apiUrl,
          fetch: async (input, init) => {
            seen.push(new Request(input, init));
            return new Response(null, { status: 204 });
          },
        });
        api.setAccessToken('token-1');
        await method(api, c.name)(...c.args, c.options);
        await method(api, c.name)(...c.args);
        expect(seen).toHaveLength(2);
        for (const [request, expected] of [
          [seen[0], c.full],
          [seen[1], c.bare],
        ] as const) {
          const url = new URL(request!.url);
          expect(request!.method).toBe(expected.method);
          expect(`${url.origin}${url.pathname}`).toBe(`${apiUrl}${expected.path}`);
          expect([...url.searchParams.keys()].sort()).toStrictEqual(
            Object.keys(expected.query).sort(),
          );
          for (const [name, value] of Object.entries(expected.query)) {
            expect(url.searchParams.get(name), name).toBe(wire(value));
          }
          expect(request!.headers.get('authorization')).toBe('Bearer token-1');
          const text = await request!.text();
          if (expected.body === undefined) expect(text).toBe('');
          else if (typeof expected.body === 'string') {
            expect(text).toBe(expected.body);
            expect(request!.headers.get('content-type')).toBe(expected.headers?.['Content-Type']);
          } else {
            expect(JSON.parse(text)).toStrictEqual(expected.body);
            expect(request!.headers.get('content-type')).toMatch(/^application\/json/);
          }
        }
      },
    );
  });

  describe('through SpotifyWebAPI with a default market', () => {
    const marketCases = cases.map(
      (c) => [c.name, c.takesMarket ? 'takes' : 'never gets', c] as const,
    );

    it('marks the 28 operations whose description offers an optional market', () => {
      expect(cases.filter((c) => c.takesMarket).map((c) => c.name)).toHaveLength(28);
      expect(cases.find((c) => c.name === 'player.pause')?.takesMarket).toBe(false);
      expect(cases.find((c) => c.name === 'albums.get')?.takesMarket).toBe(true);
    });

    it.each(marketCases)('%s %s the default market; an explicit one wins', async (_, __, c) => {
      const urls: URL[] = [];
      const api = new SpotifyWebAPI({
        apiUrl: 'https://api.test/v1',
        market: 'SE',
        fetch: async (input, init) => {
          urls.push(new URL(new Request(input, init).url));
          return new Response(null, { status: 204 });
        },
      });
      api.setAccessToken('token-1');
      await method(api, c.name)(...c.args);
      await method(api, c.name)(...c.args, c.options);
      expect(urls[0]?.searchParams.get('market')).toBe(c.takesMarket ? 'SE' : null);
      // With every option given (the sample market among them), the call's own values win.
      expect(urls[1]?.searchParams.get('market')).toBe(
        c.takesMarket ? String(c.full.query.market) : null,
      );
      if (c.takesMarket) expect(c.full.query.market).not.toBe('SE');
    });
  });
});
