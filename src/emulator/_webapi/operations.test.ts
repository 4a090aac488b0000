import { expect, test } from 'vitest';
import { ALL_OPERATIONS, matchOperation } from './operations.js';

test('97 operations, each once', () => {
  expect(ALL_OPERATIONS).toHaveLength(97);
  expect(new Set(ALL_OPERATIONS.map((operation) => operation.key)).size).toBe(97);
});

test('matching: path parameters decoded, other methods listed, unknown paths none', () => {
  expect(matchOperation('GET', '/playlists/abc%20d/items')).toMatchObject({
    kind: 'operation',
    operation: { key: 'GET /playlists/{playlist_id}/items' },
    params: { playlist_id: 'abc d' },
  });
  expect(matchOperation('GET', '/me')).toMatchObject({ kind: 'operation' });
  expect(matchOperation('PATCH', '/me/player')).toEqual({
    kind: 'method',
    allowed: ['GET', 'PUT'],
  });
  // One trailing slash is the same operation, as on Spotify; two are not, nor is `/v1/`.
  expect(matchOperation('GET', '/me/')).toMatchObject({ operation: { key: 'GET /me' } });
  expect(matchOperation('GET', '/playlists/abc/items/')).toMatchObject({
    params: { playlist_id: 'abc' },
  });
  expect(matchOperation('GET', '/me//')).toEqual({ kind: 'none' });
  expect(matchOperation('GET', '/')).toEqual({ kind: 'none' });
  expect(matchOperation('GET', '/tracks/a/b')).toEqual({ kind: 'none' });
});
