import { describe, expect, it } from 'vitest';
import { validateAccountsUrl, validateRedirectUri } from './_urls.js';
import { ConfigurationError } from './errors/index.js';

function refusal(value: unknown, validate: (v: unknown) => unknown = validateRedirectUri) {
  try {
    validate(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error(`expected ${String(value)} to be refused`);
}

describe('validateRedirectUri (Spotify’s redirect URI rules)', () => {
  it.each([
    'https://example.com/callback',
    'https://example.com:8443/cb?x=1',
    'http://127.0.0.1:8888/callback',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:1/',
    'http://[::1]:8888/callback',
    'http://[::1]/cb',
    'myapp://callback',
    'com.example.app:/oauth2redirect',
    'spotify-session-demo://callback',
  ])('accepts %s unchanged', (uri) => {
    expect(validateRedirectUri(uri)).toBe(uri);
  });

  it('refuses localhost and suggests the loopback literal with the same port and path', () => {
    const error = refusal('http://localhost:8888/callback?x=1');
    expect(error.option).toBe('redirectUri');
    expect(error.message).toContain('http://127.0.0.1:8888/callback?x=1');
    expect(refusal('http://localhost/cb').message).toContain('http://127.0.0.1/cb');
    expect(refusal('http://LOCALHOST:3000/a/b').message).toContain('http://127.0.0.1:3000/a/b');
    expect(refusal('http://app.localhost:3000/a').message).toContain('http://127.0.0.1:3000/a');
  });

  it('refuses other plain http hosts and says to use https', () => {
    const error = refusal('http://example.com/callback');
    expect(error.message).toContain('https://example.com/callback');
    refusal('http://192.168.1.2:8080/cb');
    refusal('http://10.0.0.1/cb');
  });

  it('refuses loopback spellings Spotify does not know (it compares the text)', () => {
    refusal('http://127.1:8888/callback');
    refusal('http://127.0.0.2:8888/callback');
    refusal('http://0x7f.0.0.1/callback');
  });

  it.each([
    '',
    'callback',
    '/callback',
    '127.0.0.1:8888/callback',
    'https://',
    'https://example.com/cb#frag',
    'https://user:pass@example.com/cb',
    'javascript:alert(1)',
    'data:text/html,hi',
    'file:///etc/passwd',
  ])('refuses %j', (uri) => {
    refusal(uri);
  });

  it('refuses non-strings', () => {
    refusal(42);
    refusal(null);
  });
});

describe('validateAccountsUrl', () => {
  it('accepts https and strips the trailing slash, keeping a path prefix', () => {
    expect(validateAccountsUrl('https://accounts.spotify.com')).toEqual({
      base: 'https://accounts.spotify.com',
      insecure: false,
    });
    expect(validateAccountsUrl('https://proxy.example/spotify/')).toEqual({
      base: 'https://proxy.example/spotify',
      insecure: false,
    });
  });

  it.each(['http://127.0.0.1:1234', 'http://[::1]:1234', 'http://localhost:1234'])(
    'allows plain http to loopback %s',
    (url) => {
      expect(validateAccountsUrl(url).insecure).toBe(true);
    },
  );

  it.each([
    'http://accounts.example.com',
    'ftp://127.0.0.1',
    'not a url',
    'https://a.example/?q=1',
    'https://a.example/#x',
  ])('refuses %s', (url) => {
    const error = refusal(url, validateAccountsUrl);
    expect(error.option).toBe('accountsUrl');
  });
});
