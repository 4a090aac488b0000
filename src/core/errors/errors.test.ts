import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  HTTPError,
  isSpotifyError,
  LockTimeoutError,
  NoRefreshTokenError,
  RateLimitError,
  SpotifyError,
  StoreError,
  TimeoutError,
} from './index.js';

describe('isSpotifyError', () => {
  it('recognises this library’s errors, optionally by code, and nothing else', () => {
    const limited = new RateLimitError({ retryAfter: 3 });
    expect(isSpotifyError(limited)).toBe(true);
    expect(isSpotifyError(limited, 'RATE_LIMITED')).toBe(true);
    expect(isSpotifyError(limited, 'HTTP_ERROR')).toBe(false);
    expect(isSpotifyError(new TimeoutError(5), 'TIMEOUT')).toBe(true);
    for (const value of [
      new Error('x'),
      { code: 'RATE_LIMITED' },
      null,
      undefined,
      'RATE_LIMITED',
      Object.assign(new Error('x'), { code: 'TIMEOUT', name: 'TimeoutError' }),
    ]) {
      expect(isSpotifyError(value)).toBe(false);
    }
  });

  it('recognises an error from another copy of the library (no shared class)', () => {
    // What a second installed copy's SpotifyError looks like from here.
    const brand = Symbol.for('spotify-session.SpotifyError');
    class OtherCopyError extends Error {
      readonly code = 'NETWORK_ERROR';
    }
    Object.defineProperty(OtherCopyError.prototype, brand, { value: true });
    const foreign = new OtherCopyError('no answer');
    expect(foreign instanceof SpotifyError).toBe(false);
    expect(isSpotifyError(foreign, 'NETWORK_ERROR')).toBe(true);
  });

  it('narrows to the class of the code', () => {
    const error: unknown = new RateLimitError({ retryAfter: 1 });
    if (isSpotifyError(error, 'RATE_LIMITED')) {
      expectTypeOf(error).toEqualTypeOf<RateLimitError>();
      expect(error.retryAfter).toBe(1);
    }
    if (isSpotifyError(error, 'WEB_API_ERROR')) {
      expectTypeOf(error.code).toEqualTypeOf<'WEB_API_ERROR'>();
    }
  });
});

describe('error shapes', () => {
  it('HTTPError keeps status, headers and body, and hides the response', () => {
    const response = new Response('{"error":{"status":502,"message":"Bad gateway"}}', {
      status: 502,
      headers: { 'x-id': '1' },
    });
    const error = new HTTPError({
      status: 502,
      headers: response.headers,
      body: { error: { status: 502, message: 'Bad gateway' } },
      response,
    });
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 502, name: 'HTTPError' });
    expect(error.message).toBe('Spotify answered HTTP 502: Bad gateway');
    expect(error.response).toBe(response);
    expect(Object.keys(error)).not.toContain('response');
    expect(Object.getOwnPropertyDescriptor(error, 'response')?.enumerable).toBe(false);
  });

  it('RateLimitError is a 429 with headers', () => {
    const headers = new Headers({ 'retry-after': '4' });
    const error = new RateLimitError({ retryAfter: 4, headers });
    expect(error).toMatchObject({ status: 429, retryAfter: 4, code: 'RATE_LIMITED' });
    expect(error.headers).toBe(headers);
    expect(new RateLimitError({ retryAfter: undefined }).headers).toBeInstanceOf(Headers);
  });

  it('store errors carry their operation, key and wait', () => {
    const cause = new Error('EACCES');
    expect(new StoreError('set', 'k', { cause })).toMatchObject({
      code: 'STORE_FAILED',
      operation: 'set',
      key: 'k',
      cause,
    });
    expect(new LockTimeoutError('k', 250)).toMatchObject({ code: 'LOCK_TIMEOUT', wait: 250 });
    expect(new NoRefreshTokenError('custom hint').message).toBe('custom hint');
  });
});
