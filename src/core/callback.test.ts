import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { constantTimeEqual } from './_constant-time.js';
import { getCodeFromCallback } from './callback.js';
import { AuthorizationError, InvalidArgumentError } from './errors/index.js';

// A spy around the real comparison, to prove the state check goes through it.
vi.mock('./_constant-time.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./_constant-time.js')>();
  return { constantTimeEqual: vi.fn(actual.constantTimeEqual) };
});

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthorizationError);
    return (error as AuthorizationError).reason;
  }
  throw new Error('expected an AuthorizationError');
}

describe('getCodeFromCallback', () => {
  const state = 'expected-state';

  it('reads the code from every accepted input shape', () => {
    const url = 'http://127.0.0.1:8888/callback?code=abc&state=expected-state';
    expect(getCodeFromCallback(url, state)).toBe('abc');
    expect(getCodeFromCallback(new URL(url), state)).toBe('abc');
    expect(getCodeFromCallback('?code=abc&state=expected-state', state)).toBe('abc');
    expect(getCodeFromCallback('code=abc&state=expected-state', state)).toBe('abc');
    expect(getCodeFromCallback('/callback?code=abc&state=expected-state#x', state)).toBe('abc');
    expect(getCodeFromCallback('myapp://callback?code=abc&state=expected-state', state)).toBe(
      'abc',
    );
    expect(getCodeFromCallback(new URLSearchParams({ code: 'abc', state }), state)).toBe('abc');
  });

  it('reads parameters by name and ignores extra ones', () => {
    expect(
      getCodeFromCallback('?iss=x&foo=bar&state=expected-state&utm=1&code=c%2Bd&extra=', state),
    ).toBe('c+d');
  });

  it('refuses a missing, different or unexpected state', () => {
    expect(reasonOf(() => getCodeFromCallback('?code=abc', state))).toBe('state_mismatch');
    expect(reasonOf(() => getCodeFromCallback('?code=abc&state=other', state))).toBe(
      'state_mismatch',
    );
    expect(reasonOf(() => getCodeFromCallback('?code=abc&state=expected-stat', state))).toBe(
      'state_mismatch',
    );
    expect(reasonOf(() => getCodeFromCallback('?code=abc&state=', state))).toBe('state_mismatch');
    expect(reasonOf(() => getCodeFromCallback('?code=abc&state=x', undefined))).toBe(
      'state_mismatch',
    );
    expect(getCodeFromCallback('?code=abc', undefined)).toBe('abc');
  });

  it('checks the state before trusting an error (a forged denial has no valid state)', () => {
    expect(reasonOf(() => getCodeFromCallback('?error=access_denied&state=bad', state))).toBe(
      'state_mismatch',
    );
  });

  it('reports access_denied and other errors with their description', () => {
    expect(reasonOf(() => getCodeFromCallback(`?error=access_denied&state=${state}`, state))).toBe(
      'access_denied',
    );
    expect(() =>
      getCodeFromCallback(
        `?error=invalid_scope&error_description=bad%20scope&state=${state}`,
        state,
      ),
    ).toThrow(expect.objectContaining({ reason: 'invalid_scope', errorDescription: 'bad scope' }));
  });

  it('compares the state with the constant-time comparison', () => {
    vi.mocked(constantTimeEqual).mockClear();
    expect(getCodeFromCallback(`?code=abc&state=${state}`, state)).toBe('abc');
    expect(constantTimeEqual).toHaveBeenCalledWith(state, state);
    expect(reasonOf(() => getCodeFromCallback('?code=abc&state=forged', state))).toBe(
      'state_mismatch',
    );
    expect(constantTimeEqual).toHaveBeenLastCalledWith('forged', state);
    expect(constantTimeEqual).toHaveBeenCalledTimes(2);
  });

  it('reports a missing code, and refuses duplicated parameters', () => {
    expect(reasonOf(() => getCodeFromCallback(`?state=${state}`, state))).toBe('missing_code');
    expect(reasonOf(() => getCodeFromCallback(`?state=${state}&code=`, state))).toBe(
      'missing_code',
    );
    expect(reasonOf(() => getCodeFromCallback(`?state=${state}&code=a&code=b`, state))).toBe(
      'invalid_callback',
    );
    expect(
      reasonOf(() => getCodeFromCallback(`?state=${state}&state=${state}&code=a`, state)),
    ).toBe('invalid_callback');
  });

  it('refuses a malformed expected state or input type', () => {
    expect(() => getCodeFromCallback('?code=a', '')).toThrow(InvalidArgumentError);
    expect(() => getCodeFromCallback(42 as unknown as string, 'x')).toThrow(InvalidArgumentError);
  });

  it('never throws anything but AuthorizationError, and never echoes the code or state', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true })),
        fc.string({ minLength: 1 }),
        (input, expected) => {
          try {
            getCodeFromCallback(input, expected);
          } catch (error) {
            expect(error).toBeInstanceOf(AuthorizationError);
          }
        },
      ),
    );
    for (const input of [
      '?code=SECRETCODE&state=SECRETSTATE',
      '?code=SECRETCODE&state=SECRETSTATE&state=SECRETSTATE',
      '?error=access_denied&state=SECRETSTATE',
    ]) {
      expect(() => getCodeFromCallback(input, 'SECRETOTHER')).toThrow(
        expect.objectContaining({ message: expect.not.stringMatching(/SECRET/) }),
      );
    }
  });
});
