import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../core/index.js';
import { eachOf, idOf, parseSpotifyLink, uriOf } from './_spotify-ids.js';

const ID = '4aawyAB9vmqN3uQ7FjRGTy';

describe('parseSpotifyLink', () => {
  it('reads URIs and open.spotify.com links, with locales, embeds, queries and fragments', () => {
    for (const value of [
      `spotify:album:${ID}`,
      `https://open.spotify.com/album/${ID}`,
      `https://open.spotify.com/album/${ID}?si=abc123&nd=1`,
      `http://open.spotify.com/album/${ID}/`,
      `open.spotify.com/intl-de/album/${ID}`,
      `https://open.spotify.com/intl-pt-BR/album/${ID}#tracks`,
      `https://open.spotify.com/embed/album/${ID}?utm_source=generator`,
    ]) {
      expect(parseSpotifyLink(value), value).toEqual({ type: 'album', id: ID });
    }
    expect(parseSpotifyLink('spotify:user:some.one_1')).toEqual({ type: 'user', id: 'some.one_1' });
  });

  it('reads nothing else', () => {
    for (const value of [
      ID,
      'spotify:album',
      `spotify:album:${ID}:extra`,
      `https://example.com/album/${ID}`,
      `https://open.spotify.com.evil.example/album/${ID}`,
      `https://open.spotify.com/album`,
      `https://open.spotify.com/album/${ID}/tracks`,
      '',
    ]) {
      expect(parseSpotifyLink(value), value).toBeUndefined();
    }
  });
});

describe('idOf', () => {
  it('gives the id of a URI or link of the expected type, and leaves a bare id alone', () => {
    expect(idOf(ID, 'album', 'id', 'albums.get')).toBe(ID);
    expect(idOf(`spotify:album:${ID}`, 'album', 'id', 'albums.get')).toBe(ID);
    expect(idOf(`https://open.spotify.com/intl-de/album/${ID}?si=x`, 'album', 'id', 'x')).toBe(ID);
    expect(idOf(42, 'album', 'id', 'albums.get')).toBe(42);
  });

  it('refuses a URI or link of another type, naming both', () => {
    const call = () => idOf(`spotify:album:${ID}`, 'track', 'id', 'tracks.get');
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(
      /tracks\.get\(\) needs a track id for `id`, but "spotify:album:4aaw.*" is an album's: pass a track's \(spotify:track:…\)\.$/,
    );
    expect(() => idOf(`https://open.spotify.com/episode/${ID}`, 'album', 'ids', 'm')).toThrow(
      /needs an album id for `ids`, but .* is an episode's/,
    );
  });

  it('refuses what looks like a URI or link but is none', () => {
    expect(() => idOf('spotify:album:', 'album', 'id', 'albums.get')).toThrow(
      /albums\.get\(\) needs an album id, a spotify:album:… URI or an https:\/\/open\.spotify\.com\/album\/… link for `id`/,
    );
    expect(() => idOf('https://open.spotify.com/', 'album', 'id', 'albums.get')).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('uriOf and eachOf', () => {
  it('turn links into URIs, in arrays and comma-separated strings', () => {
    expect(uriOf(`https://open.spotify.com/track/${ID}?si=1`)).toBe(`spotify:track:${ID}`);
    expect(uriOf(`spotify:track:${ID}`)).toBe(`spotify:track:${ID}`);
    expect(uriOf('not a link')).toBe('not a link');
    expect(eachOf([`open.spotify.com/show/${ID}`, 'x'], uriOf)).toEqual([
      `spotify:show:${ID}`,
      'x',
    ]);
    expect(eachOf(`spotify:album:${ID},${ID}`, (v) => idOf(v, 'album', 'ids', 'm'))).toBe(
      `${ID},${ID}`,
    );
    expect(eachOf(ID, (v) => `<${String(v)}>`)).toBe(`<${ID}>`);
  });
});
