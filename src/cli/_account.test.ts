import { describe, expect, it } from 'vitest';
import { documentedScopes, scopeAdvice } from './_account.js';

describe('documentedScopes', () => {
  it('finds the template of a concrete path, by method', () => {
    expect(documentedScopes('GET /me/player')).toEqual([
      'GET /me/player',
      ['user-read-playback-state'],
    ]);
    expect(documentedScopes('PUT /me/player')?.[1]).toEqual(['user-modify-playback-state']);
    expect(documentedScopes('POST /playlists/3cEYpjA9oz9GiPac4AsH4n/items')).toEqual([
      'POST /playlists/{playlist_id}/items',
      ['playlist-modify-public', 'playlist-modify-private'],
    ]);
  });

  it('knows nothing of paths the reference lists no scope for, or does not have', () => {
    expect(documentedScopes('GET /albums/4aawyAB9vmqN3uQ7FjRGTy')).toBeUndefined();
    expect(documentedScopes('GET /nonexistent')).toBeUndefined();
    expect(documentedScopes('GET /playlists//items')).toBeUndefined();
  });
});

describe('scopeAdvice', () => {
  it('names the missing scope and a login that keeps the scopes the login has', () => {
    expect(scopeAdvice('GET /me/player', ['user-read-private'], 'default')).toBe(
      "Spotify's reference lists user-read-playback-state for GET /me/player; this login has user-read-private. " +
        'Log in again adding user-read-playback-state: spotify-session login --scope user-read-private user-read-playback-state',
    );
    expect(scopeAdvice('GET /me/top/tracks', [], 'work')).toMatch(
      /this login has no scope\. .*: spotify-session login --profile work --scope user-top-read$/,
    );
  });

  it('does not guess where the reference lists no missing scope', () => {
    const none = scopeAdvice('GET /albums/x', ['user-read-private'], 'default');
    expect(none).toContain("Spotify's reference lists no scope for GET /albums/x");
    expect(none).toMatch(/spotify-session login --scope user-read-private <scope>$/);
    const all = scopeAdvice('GET /me/player', ['user-read-playback-state'], 'default');
    expect(all).toContain('already has every scope');
  });
});
