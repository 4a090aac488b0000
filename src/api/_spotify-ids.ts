/**
 * The one reader of what people paste where an id goes: a bare id, a Spotify URI
 * (`spotify:track:…`) or an `open.spotify.com` link (`https://open.spotify.com/intl-de/track/…?si=…`),
 * as Spotify documents them (https://developer.spotify.com/documentation/web-api/concepts/spotify-uris-ids).
 * Only `SpotifyWebAPI`'s generated methods use it.
 */
import { InvalidArgumentError } from '../core/index.js';

/** A `spotify:<type>:<id>` URI. Ids are base62, user ids may hold more (`.`, `_`, `-`). */
const URI = /^spotify:([a-z]+):([^\s:/?#]+)$/;
/**
 * An `open.spotify.com` link, with or without its scheme, with a locale (`intl-de`,
 * `intl-pt-BR`) or `embed` before the type, and anything after the id (`?si=…`, `#…`).
 */
const LINK =
  /^(?:https?:\/\/)?open\.spotify\.com\/(?:(?:intl-[A-Za-z-]+|embed)\/)?([a-z]+)\/([^\s/?#]+)\/?(?:[?#].*)?$/;

/** The type and id in a Spotify URI or `open.spotify.com` link; `undefined` for anything else. */
export function parseSpotifyLink(value: string): { type: string; id: string } | undefined {
  const match = URI.exec(value) ?? LINK.exec(value);
  return match === null ? undefined : { type: match[1] as string, id: match[2] as string };
}

const article = (type: string) =>
  /^(album|artist|audiobook|episode)$/.test(type) ? `an ${type}` : `a ${type}`;

/**
 * `value` as the bare id of a `type` (`track`, `album`, …): an id stays as it is, a URI or
 * link gives its id.
 *
 * @throws {InvalidArgumentError} a URI or link of another type, or text starting with
 *   `spotify:` or naming `open.spotify.com` that is not one; the message names both types.
 */
export function idOf(value: unknown, type: string, argument: string, method: string): unknown {
  if (typeof value !== 'string') return value;
  const link = parseSpotifyLink(value);
  if (link === undefined) {
    if (/^spotify:|open\.spotify\.com/i.test(value)) {
      throw new InvalidArgumentError(
        argument,
        `${method}() needs ${article(type)} id, a spotify:${type}:… URI or an https://open.spotify.com/${type}/… link for \`${argument}\`; ${JSON.stringify(value.slice(0, 100))} is none of them.`,
      );
    }
    return value;
  }
  if (link.type !== type) {
    throw new InvalidArgumentError(
      argument,
      `${method}() needs ${article(type)} id for \`${argument}\`, but ${JSON.stringify(value.slice(0, 100))} is ${article(link.type)}'s: pass ${article(type)}'s (spotify:${type}:…).`,
    );
  }
  return link.id;
}

/** `value` as a Spotify URI: an `open.spotify.com` link becomes `spotify:<type>:<id>`. */
export function uriOf(value: unknown): unknown {
  if (typeof value !== 'string' || value.startsWith('spotify:')) return value;
  const link = parseSpotifyLink(value);
  return link === undefined ? value : `spotify:${link.type}:${link.id}`;
}

/** Applies `convert` to a list given as an array or as one comma-separated string. */
export function eachOf(value: unknown, convert: (item: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map(convert);
  if (typeof value === 'string' && value.includes(',')) {
    return value.split(',').map(convert).join(',');
  }
  return convert(value);
}
