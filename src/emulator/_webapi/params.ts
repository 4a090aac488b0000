/** Query parameter checks, answering Spotify's 400 shape. */
import { badRequest } from './errors.js';

/** A Spotify id: 22 base62 characters. */
const BASE62_ID = /^[0-9A-Za-z]{22}$/;
const MARKET = /^[A-Z]{2}$/;

/** A request the route refuses; the router answers `response` (400 unless told). */
export class ParamError extends Error {
  readonly response: Response;
  constructor(message: string, response: Response = badRequest(message)) {
    super(message);
    this.response = response;
  }
}

/** An integer query parameter within `[min, max]`, or its default. */
export function intParam(
  url: URL,
  name: string,
  rule: { min: number; max?: number; default?: number },
): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') {
    if (rule.default === undefined) throw new ParamError(`Missing required parameter: ${name}`);
    return rule.default;
  }
  if (!/^-?\d{1,16}$/.test(raw)) throw new ParamError(`Invalid ${name}`);
  const value = Number(raw);
  if (value < rule.min || (rule.max !== undefined && value > rule.max))
    throw new ParamError(`Invalid ${name}`);
  return value;
}

/** `limit` and `offset` of an offset-paged list. */
export function pageParams(
  url: URL,
  limits: { max: number; default: number; min?: number; maxOffset?: number } = {
    max: 50,
    default: 20,
  },
): { limit: number; offset: number } {
  return {
    limit: intParam(url, 'limit', {
      min: limits.min ?? 1,
      max: limits.max,
      default: limits.default,
    }),
    offset: intParam(url, 'offset', {
      min: 0,
      default: 0,
      ...(limits.maxOffset === undefined ? { max: 100_000 } : { max: limits.maxOffset }),
    }),
  };
}

/** Checks `market` when given (an ISO 3166-1 alpha-2 code or `from_token`). */
export function checkMarket(url: URL): void {
  const market = url.searchParams.get('market');
  if (market !== null && market !== 'from_token' && !MARKET.test(market))
    throw new ParamError('Invalid market code');
}

/** A path id; 400 `Invalid base62 id` when it cannot be a Spotify id. */
export function checkId(id: string): string {
  if (!BASE62_ID.test(id)) throw new ParamError('Invalid base62 id');
  return id;
}

/** Request text quoted in an error message, cut short. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** A parsed `spotify:type:id` URI. */
export interface SpotifyUri {
  type: string;
  id: string;
  uri: string;
}

/** Parses `spotify:type:id` (or `spotify:user:name`); `undefined` when malformed. */
export function parseUri(uri: string): SpotifyUri | undefined {
  const match = /^spotify:([a-z]+):([^:\s]+)$/.exec(uri);
  if (match === null) return undefined;
  const [, type = '', id = ''] = match;
  if (type !== 'user' && !BASE62_ID.test(id)) return undefined;
  return { type, id, uri };
}

/** A comma-separated `uris` list: required, at most `max`, every URI of an allowed type. */
export function uriListParam(
  url: URL,
  name: string,
  types: readonly string[],
  max: number,
): SpotifyUri[] {
  const raw = url.searchParams.get(name);
  if (raw === null || raw.trim() === '')
    throw new ParamError(`Missing required parameter: ${name}`);
  return uriList(raw.split(','), types, max);
}

export function uriList(
  values: readonly unknown[],
  types: readonly string[],
  max: number,
): SpotifyUri[] {
  if (values.length > max) throw new ParamError(`Too many ids requested (maximum ${max})`);
  return values.map((value) => {
    const parsed = typeof value === 'string' ? parseUri(value.trim()) : undefined;
    if (parsed === undefined) throw new ParamError(`Invalid Spotify URI: ${clip(String(value))}`);
    if (!types.includes(parsed.type))
      throw new ParamError(`Unsupported URI type: ${clip(parsed.type)}`);
    return parsed;
  });
}
