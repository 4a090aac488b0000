import { describe, expect, it } from 'vitest';
import { loadServeConfig } from './_config.js';
import { Keyring } from './keyring.js';

const KEY = Keyring.generateKeyString();
const SECRET = 'super-secret-client-secret';
const VALID = {
  SPOTIFY_CLIENT_ID: 'my-client',
  SPOTIFY_CLIENT_SECRET: SECRET,
  SPOTIFY_REDIRECT_URI: 'myapp://callback, https://app.example.com/cb',
  TOKEN_ENCRYPTION_KEYS: KEY,
};

async function problems(env: Record<string, string>, flags = {}) {
  const result = await loadServeConfig(env, flags);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('loadServeConfig', () => {
  it('reads a complete configuration with the documented defaults', async () => {
    const result = await loadServeConfig(VALID);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { keyring, ...rest } = result.config;
    expect(keyring).toBeInstanceOf(Keyring);
    expect(rest).toEqual({
      mode: 'spotify',
      clientId: 'my-client',
      clientSecret: SECRET,
      redirectUris: ['myapp://callback', 'https://app.example.com/cb'],
      accountsUrl: 'https://accounts.spotify.com',
      host: '127.0.0.1',
      port: 3000,
      basePath: '',
      redisUrl: undefined,
      corsOrigins: [],
      trustProxy: 0,
      logLevel: 'info',
      rateLimit: { ip: 120, token: 10, window: 60 },
      upstreamTimeout: 10_000,
      refreshTokenMaxAge: 15_552_000,
      shutdownGracePeriod: 10_000,
    });
  });

  it('lets flags win over the environment', async () => {
    const result = await loadServeConfig(
      { ...VALID, PORT: '4000', BASE_PATH: '/v2', TRUST_PROXY: 'true' },
      { port: '5000', basePath: 'v1/', trustProxy: '2', redisUrl: 'redis://127.0.0.1:6380' },
    );
    expect(result.ok && result.config).toMatchObject({
      port: 5000,
      basePath: '/v1',
      trustProxy: 2,
      redisUrl: 'redis://127.0.0.1:6380',
    });
  });

  it('runs embedded (emulator, throw-away key) with no credentials outside production', async () => {
    const result = await loadServeConfig({});
    expect(result.ok && result.config.mode).toBe('embedded');
    expect(result.ok && result.config.keyring).toBeUndefined();
  });

  it('refuses to start in production without settings, one message per missing variable', async () => {
    const found = await problems({ NODE_ENV: 'production' });
    expect(found).toHaveLength(4);
    expect(found[0]).toMatch(/^SPOTIFY_CLIENT_ID is required/);
    expect(found[1]).toMatch(/^SPOTIFY_CLIENT_SECRET is required/);
    expect(found[2]).toMatch(/^SPOTIFY_REDIRECT_URI is required/);
    expect(found[3]).toMatch(/^TOKEN_ENCRYPTION_KEYS is required/);
  });

  it('a half-given configuration is an error even outside production', async () => {
    const found = await problems({ SPOTIFY_CLIENT_ID: 'x' });
    expect(found.map((p) => p.split(' ')[0])).toEqual([
      'SPOTIFY_CLIENT_SECRET',
      'SPOTIFY_REDIRECT_URI',
      'TOKEN_ENCRYPTION_KEYS',
    ]);
  });

  it.each([
    [{ PORT: '70000' }, 'PORT must be a whole number from 0 to 65535'],
    [{ PORT: 'http' }, 'PORT must be a whole number from 0 to 65535'],
    [{ BASE_PATH: '/v1/../x y' }, /^BASE_PATH must be a path/],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL must look like redis:\/\//],
    [{ CORS_ORIGINS: 'https://ok.example, https://bad.example/path' }, /^CORS_ORIGINS entry 2/],
    [{ CORS_ORIGINS: '*' }, /^CORS_ORIGINS entry 1/],
    [{ TRUST_PROXY: 'maybe' }, /^TRUST_PROXY must be false, true/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ RATE_LIMIT_IP: '-1' }, /^RATE_LIMIT_IP must be a whole number/],
    [{ RATE_LIMIT_TOKEN: '1.5' }, /^RATE_LIMIT_TOKEN must be a whole number/],
    [{ UPSTREAM_TIMEOUT_MS: '0' }, /^UPSTREAM_TIMEOUT_MS must be a whole number/],
    [
      { SPOTIFY_REDIRECT_URI: 'http://localhost:8888/callback' },
      /^SPOTIFY_REDIRECT_URI entry 1: .*localhost/,
    ],
    [{ SPOTIFY_REDIRECT_URI: 'myapp://cb,myapp://cb' }, /^SPOTIFY_REDIRECT_URI entry 2 repeats/],
    [{ SPOTIFY_ACCOUNTS_URL: 'http://accounts.example.com' }, /^SPOTIFY_ACCOUNTS_URL: .*https/],
    [{ TOKEN_ENCRYPTION_KEYS: 'k1:not-a-key' }, /^TOKEN_ENCRYPTION_KEYS entry 1/],
  ])('gives exactly one clear message for %o', async (override, message) => {
    const found = await problems({ ...VALID, ...override });
    expect(found).toHaveLength(1);
    expect(found[0]).toEqual(
      typeof message === 'string' ? message : expect.stringMatching(message),
    );
  });

  it('never repeats a secret in a message', async () => {
    const found = await problems({
      ...VALID,
      SPOTIFY_CLIENT_SECRET: SECRET,
      TOKEN_ENCRYPTION_KEYS: `${KEY},${KEY}`,
      PORT: 'x',
    });
    expect(found).toHaveLength(2);
    for (const problem of found) {
      expect(problem).not.toContain(SECRET);
      expect(problem).not.toContain(KEY.split(':')[1]);
    }
  });
});
