import { describe, expect, it } from 'vitest';
import { nearMissMessage, nearMissNames } from './_env-near-miss.js';

const KNOWN = [
  'SPOTIFY_CLIENT_ID',
  'SPOTIFY_REDIRECT_URI',
  'TOKEN_ENCRYPTION_KEYS',
  'HOST',
  'PORT',
  'LOG_LEVEL',
  'NODE_ENV',
];

describe('nearMissNames', () => {
  it.each([
    ['SPOTIFY_CLIENTID', 'SPOTIFY_CLIENT_ID'],
    ['spotify_client_id', 'SPOTIFY_CLIENT_ID'],
    ['SPOTIFY__CLIENT_ID', 'SPOTIFY_CLIENT_ID'],
    ['SPOTIFY_CLEINT_ID', 'SPOTIFY_CLIENT_ID'],
    ['SPOTIFY_CLIENT_IDS', 'SPOTIFY_CLIENT_ID'],
    ['TOKEN_ENCRYPTION_KEY', 'TOKEN_ENCRYPTION_KEYS'],
    ['SPOTIFY_REDIRECT_URL', 'SPOTIFY_REDIRECT_URI'],
    ['SPOTIFY_REDIRECT_URIS', 'SPOTIFY_REDIRECT_URI'],
    ['LOGLEVEL', 'LOG_LEVEL'],
    ['port', 'PORT'],
    ['PORTS', 'PORT'],
  ])('%s → %s', (given, meant) => {
    expect(nearMissNames({ [given]: 'x' }, KNOWN)).toEqual([{ given, meant }]);
  });

  it('leaves exact names, blank values, unrelated and short near names alone', () => {
    expect(
      nearMissNames(
        {
          SPOTIFY_CLIENT_ID: 'x',
          SPOTIFY_CLIENTID: ' ',
          HOSTNAME: 'vm',
          POST: 'x',
          PWD: '/',
          TERM: 'xterm',
          NODE_OPTIONS: '--x',
          KUBERNETES_PORT: 'tcp://10.0.0.1:443',
          SPOTIFY_CLIENT_SECRET: 'x',
        },
        KNOWN,
      ),
    ).toEqual([]);
  });

  it('says it without the value', () => {
    const [miss] = nearMissNames({ TOKEN_ENCRYPTION_KEY: 'k1:secret-value' }, KNOWN);
    expect(miss && nearMissMessage(miss)).toBe(
      'TOKEN_ENCRYPTION_KEY is set but not read: did you mean TOKEN_ENCRYPTION_KEYS?',
    );
  });
});
