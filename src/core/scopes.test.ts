import { describe, expect, expectTypeOf, it } from 'vitest';
import { InvalidArgumentError } from './errors/index.js';
import { closestKnownScope, isKnownScope, type KnownScope, SCOPES, type Scope } from './scopes.js';
import { type AuthorizeUrlOptions, Session } from './session.js';

describe('scopes', () => {
  it('lists the 19 standard scopes and the Open Access ones (current and older names), once each', () => {
    expect(SCOPES).toHaveLength(19 + 5 + 3);
    expect(new Set(SCOPES).size).toBe(SCOPES.length);
    expect(SCOPES).toContain('playlist-read-private');
    expect(SCOPES).toContain('soa-manage-entitlements');
    expect(SCOPES).toContain('user-manage-entitlements');
  });

  it('types the known scopes as a union, with any string still accepted (checked by tsc)', () => {
    expectTypeOf<KnownScope>().toEqualTypeOf<(typeof SCOPES)[number]>();
    expectTypeOf<'user-read-private'>().toExtend<KnownScope>();
    expectTypeOf<'not-a-spotify-scope'>().not.toExtend<KnownScope>();
    // The escape hatch: a scope Spotify adds later type-checks without a release.
    expectTypeOf<'not-a-spotify-scope'>().toExtend<Scope>();
    expectTypeOf<AuthorizeUrlOptions['scope']>().toEqualTypeOf<
      readonly Scope[] | string | undefined
    >();
  });

  it('refuses unknown scopes in the authorize URL, suggesting the closest, unless allowed', () => {
    const session = new Session({
      clientId: 'id',
      clientSecret: 'secret',
      redirectUri: 'https://example.com/callback',
    });
    const attempt = () =>
      session.getAuthorizeUrl({ scope: ['user-read-private', 'user-read-emial', 'x-y'] });
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(/"user-read-emial" \(did you mean "user-read-email"\?\), "x-y"/);
    expect(attempt).toThrow(/allowUnknownScopes/);
    expect(() => session.getAuthorizeUrl({ scope: 'playlist-read-privat' })).toThrow(
      /playlist-read-private/,
    );
    const allowed = new URL(
      session.getAuthorizeUrl({ scope: ['brand-new-scope'], allowUnknownScopes: true }),
    );
    expect(allowed.searchParams.get('scope')).toBe('brand-new-scope');
  });

  it('knows every listed scope and finds near misses only', () => {
    for (const scope of SCOPES) expect(isKnownScope(scope)).toBe(true);
    expect(isKnownScope('User-Read-Private')).toBe(false);
    expect(closestKnownScope('User-Read-Private')).toBe('user-read-private');
    expect(closestKnownScope('streamin')).toBe('streaming');
    expect(closestKnownScope('completely-unrelated-words')).toBeUndefined();
  });
});
