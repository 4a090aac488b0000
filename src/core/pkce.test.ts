import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  CODE_VERIFIER_PATTERN,
  MAX_CODE_VERIFIER_LENGTH,
  MIN_CODE_VERIFIER_LENGTH,
} from './_assert.js';
import { InvalidArgumentError } from './errors/index.js';
import {
  generateCodeChallenge,
  generateCodeVerifier,
  generateState,
  isCodeChallenge,
  isCodeVerifier,
} from './pkce.js';

describe('PKCE', () => {
  it('takes one rule for the length: the pattern accepts exactly MIN to MAX characters', () => {
    const of = (length: number) => CODE_VERIFIER_PATTERN.test('a'.repeat(length));
    expect(of(MIN_CODE_VERIFIER_LENGTH - 1)).toBe(false);
    expect(of(MIN_CODE_VERIFIER_LENGTH)).toBe(true);
    expect(of(MAX_CODE_VERIFIER_LENGTH)).toBe(true);
    expect(of(MAX_CODE_VERIFIER_LENGTH + 1)).toBe(false);
  });

  it('computes the RFC 7636 appendix B challenge', async () => {
    await expect(
      generateCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
    ).resolves.toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes 64-character verifiers by default', () => {
    const verifier = generateCodeVerifier();
    expect(verifier).toHaveLength(64);
    expect(verifier).toMatch(/^[A-Za-z0-9._~-]+$/);
  });

  it('always makes verifiers of the asked length from the unreserved set', () => {
    fc.assert(
      fc.property(fc.integer({ min: 43, max: 128 }), (length) => {
        const verifier = generateCodeVerifier(length);
        expect(verifier).toHaveLength(length);
        expect(isCodeVerifier(verifier)).toBe(true);
      }),
    );
  });

  it('uses every one of the 66 unreserved characters, all of them about as often', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      for (const char of generateCodeVerifier(128)) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    expect(counts.size).toBe(66);
    // 25,600 draws over 66 symbols: ~388 each; a biased modulo would skew the first 58 by ~30%.
    for (const count of counts.values()) expect(count).toBeGreaterThan(250);
    for (const count of counts.values()) expect(count).toBeLessThan(530);
  });

  it('refuses lengths outside 43–128', () => {
    for (const length of [0, 42, 129, 64.5, Number.NaN]) {
      expect(() => generateCodeVerifier(length)).toThrow(InvalidArgumentError);
    }
  });

  it('challenges are 43 base64url characters and refuse bad verifiers', async () => {
    const challenge = await generateCodeChallenge(generateCodeVerifier());
    expect(isCodeChallenge(challenge)).toBe(true);
    await expect(generateCodeChallenge('short')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(generateCodeChallenge(`${'a'.repeat(42)}!`)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('states are 43 base64url characters and differ', () => {
    const a = generateState();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateState()).not.toBe(a);
  });

  it('draws its randomness from crypto.getRandomValues, never Math.random', () => {
    const mathRandom = vi.spyOn(Math, 'random');
    const csprng = vi.spyOn(crypto, 'getRandomValues').mockImplementation((array) => {
      (array as Uint8Array).fill(0);
      return array;
    });
    try {
      expect(generateState()).toBe('A'.repeat(43));
      expect(generateCodeVerifier(43)).toBe('A'.repeat(43));
      expect(csprng).toHaveBeenCalledTimes(2);
      expect(mathRandom).not.toHaveBeenCalled();
    } finally {
      csprng.mockRestore();
      mathRandom.mockRestore();
    }
  });
});
