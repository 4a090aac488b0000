import { describe, expect, expectTypeOf, it } from 'vitest';
import { type KnownScope, SCOPES, type Scope } from './scopes.js';
import type { AuthorizeUrlOptions } from './session.js';

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
});
