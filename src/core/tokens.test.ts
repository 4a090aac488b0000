import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors/index.js';
import { parseSessionTokens, refreshTokenFingerprint } from './tokens.js';

describe('parseSessionTokens', () => {
  it('accepts what toJSON produces, as an object or as JSON text', () => {
    const tokens = {
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: 1_700_000_000,
      scope: ['x'],
      authorizedAt: 1_690_000_000,
    };
    expect(parseSessionTokens(tokens)).toEqual(tokens);
    expect(parseSessionTokens(JSON.stringify(tokens))).toEqual(tokens);
    expect(parseSessionTokens({})).toEqual({});
  });

  it.each([
    [null, 'plain object'],
    [[], 'plain object'],
    ['not json', 'not JSON'],
    [{ refresh_token: 'r' }, 'tokens.refresh_token is not a known field'],
    [{ accessToken: '' }, 'tokens.accessToken'],
    [{ accessToken: 'a b' }, 'tokens.accessToken'],
    [{ refreshToken: 42 }, 'tokens.refreshToken'],
    [{ expiresAt: '1700000000' }, 'tokens.expiresAt'],
    [{ expiresAt: 1.5 }, 'tokens.expiresAt'],
    [{ expiresAt: -1 }, 'tokens.expiresAt'],
    [{ expiresAt: 1_700_000_000_000 }, 'milliseconds'],
    [{ authorizedAt: '1690000000' }, 'tokens.authorizedAt must be a whole number of Unix seconds'],
    [{ authorizedAt: 1.5 }, 'tokens.authorizedAt'],
    [{ authorizedAt: -1 }, 'tokens.authorizedAt'],
    [{ authorizedAt: 1_690_000_000_000 }, 'tokens.authorizedAt looks like milliseconds'],
    [{ grant: 'client_credentials', authorizedAt: 1_690_000_000 }, 'never comes with'],
    [{ scope: 'user-read-private' }, 'tokens.scope'],
    [{ scope: ['a b'] }, 'tokens.scope'],
    [{ refused: 'AQrefresh' }, 'tokens.refused must be "sha256:"'],
    [{ refused: `sha256:${'A'.repeat(43)}`, accessToken: 'a' }, 'comes alone'],
  ])('refuses %j clearly', (input, text) => {
    expect(() => parseSessionTokens(input)).toThrow(InvalidArgumentError);
    expect(() => parseSessionTokens(input)).toThrow(text);
  });

  it('accepts the refused marker: a SHA-256 fingerprint of the refused token, never the token', async () => {
    const fingerprint = await refreshTokenFingerprint('AQrefresh');
    expect(fingerprint).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(fingerprint).not.toContain('AQrefresh');
    expect(await refreshTokenFingerprint('AQrefresh')).toBe(fingerprint);
    expect(await refreshTokenFingerprint('AQother')).not.toBe(fingerprint);
    expect(parseSessionTokens({ refused: fingerprint })).toEqual({ refused: fingerprint });
  });

  it('never throws anything but InvalidArgumentError, and never echoes values', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          parseSessionTokens(input);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentError);
        }
      }),
    );
    try {
      parseSessionTokens({ accessToken: 'SECRET VALUE' });
    } catch (error) {
      expect((error as Error).message).not.toContain('SECRET');
    }
  });
});
