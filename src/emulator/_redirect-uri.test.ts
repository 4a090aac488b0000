import { describe, expect, test } from 'vitest';
import { isAllowedRedirectUri, matchesRegisteredRedirectUri, redirectTo } from './_redirect-uri.js';

describe('isAllowedRedirectUri', () => {
  test.each([
    ['https://app.example.com/callback', 'ok'],
    ['http://127.0.0.1:8888/callback', 'ok'],
    ['http://[::1]:8888/callback', 'ok'],
    ['myapp://callback', 'ok'],
    ['com.example.app:/oauth', 'ok'],
    ['http://localhost:8888/callback', 'insecure'],
    ['http://LOCALHOST/callback', 'insecure'],
    ['http://example.com/callback', 'insecure'],
    ['http://127.0.0.2/callback', 'insecure'],
    ['http://192.168.1.2/callback', 'insecure'],
    ['https://app.example.com/callback#frag', 'invalid'],
    ['javascript:alert(1)', 'invalid'],
    ['data:text/html,hi', 'invalid'],
    ['not a uri', 'invalid'],
    ['', 'invalid'],
  ])('%s → %s', (uri, verdict) => {
    expect(isAllowedRedirectUri(uri)).toBe(verdict);
  });
});

describe('matchesRegisteredRedirectUri', () => {
  const registered = ['http://127.0.0.1:8888/callback', 'http://[::1]/cb', 'https://a.example/cb'];

  test('exact matches', () => {
    for (const uri of registered) expect(matchesRegisteredRedirectUri(uri, registered)).toBe(true);
  });

  test('loopback literals match on any port, nothing else differs', () => {
    expect(matchesRegisteredRedirectUri('http://127.0.0.1:1/callback', registered)).toBe(true);
    expect(matchesRegisteredRedirectUri('http://127.0.0.1/callback', registered)).toBe(true);
    expect(matchesRegisteredRedirectUri('http://[::1]:4000/cb', registered)).toBe(true);
    expect(matchesRegisteredRedirectUri('http://127.0.0.1:1/other', registered)).toBe(false);
    expect(matchesRegisteredRedirectUri('http://127.0.0.1:1/callback?x=1', registered)).toBe(false);
    expect(matchesRegisteredRedirectUri('http://[::1]:4000/callback', registered)).toBe(false);
    expect(matchesRegisteredRedirectUri('http://u:p@127.0.0.1:1/callback', registered)).toBe(false);
  });

  test('https must match exactly, port included', () => {
    expect(matchesRegisteredRedirectUri('https://a.example:444/cb', registered)).toBe(false);
    expect(matchesRegisteredRedirectUri('https://A.example/cb', registered)).toBe(false);
  });
});

test('redirectTo keeps an existing query and skips undefined values', () => {
  expect(redirectTo('https://a.example/cb?x=1', { code: 'c', state: undefined })).toBe(
    'https://a.example/cb?x=1&code=c',
  );
  expect(redirectTo('myapp://callback', { error: 'access_denied', state: 'a b' })).toBe(
    'myapp://callback?error=access_denied&state=a+b',
  );
});
