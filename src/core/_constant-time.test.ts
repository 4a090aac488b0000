import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from './_constant-time.js';

describe('constantTimeEqual', () => {
  it('is true exactly for equal strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(a === b);
        expect(constantTimeEqual(a, a)).toBe(true);
      }),
    );
  });

  it('treats a prefix, an extension and an empty string as different', () => {
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('abcd', 'abc')).toBe(false);
    expect(constantTimeEqual('', 'a')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    // Same bytes once padded with zeros must still differ.
    expect(constantTimeEqual('a', 'a\u0000')).toBe(false);
  });

  it('compares UTF-8 bytes, not UTF-16 units', () => {
    expect(constantTimeEqual('é', 'é')).toBe(true);
    expect(constantTimeEqual('é', 'e\u0301')).toBe(false);
  });
});
