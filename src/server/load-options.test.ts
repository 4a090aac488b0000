import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Keyring } from './keyring.js';
import { loadTokenServerOptions, type TokenServerFlags } from './load-options.js';
import { SETTINGS } from './settings.js';
import { createTokenServer } from './token-server.js';

const KEY = Keyring.generateKeyString();
const SECRET = 'super-secret-client-secret';
const VALID = {
  SPOTIFY_CLIENT_ID: 'my-client',
  SPOTIFY_CLIENT_SECRET: SECRET,
  SPOTIFY_REDIRECT_URI: 'myapp://callback, https://app.example.com/cb',
  TOKEN_ENCRYPTION_KEYS: KEY,
};

function load(env: Record<string, string>, flags: TokenServerFlags = {}) {
  return loadTokenServerOptions(env, flags, { embedded: true });
}

function problems(env: Record<string, string>, flags: TokenServerFlags = {}) {
  const result = load(env, flags);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('loadTokenServerOptions', () => {
  it('reads a complete configuration with the documented defaults', () => {
    const result = load(VALID);
    expect(result).toEqual({
      ok: true,
      mode: 'spotify',
      options: {
        clientId: 'my-client',
        clientSecret: SECRET,
        redirectUris: ['myapp://callback', 'https://app.example.com/cb'],
        encryptionKeys: KEY,
        basePath: '',
        corsOrigins: [],
        trustProxy: 0,
        rateLimit: { ip: 120, token: 10, window: 60 },
        upstreamTimeout: 10_000,
        refreshTokenMaxAge: 15_552_000,
        logger: { level: 'info' },
      },
      serve: {
        host: '127.0.0.1',
        port: 3000,
        redisUrl: undefined,
        redisCommandTimeout: 50,
        drainDelay: 0,
        shutdownGracePeriod: 10_000,
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        keepAliveTimeout: 5_000,
        maxRequestsPerSocket: 1_000,
        maxConnections: 1_000,
      },
      warnings: [],
    });
  });

  it('produces options createTokenServer accepts as they are', () => {
    const result = loadTokenServerOptions(VALID);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const server = createTokenServer({ ...result.options, logger: false });
    expect(typeof server.fetch).toBe('function');
  });

  it('reads every listener setting', () => {
    const result = load({
      ...VALID,
      DRAIN_DELAY_MS: '5000',
      SHUTDOWN_GRACE_MS: '20000',
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: '4000',
      KEEP_ALIVE_TIMEOUT_MS: '65000',
      MAX_REQUESTS_PER_SOCKET: '0',
      MAX_CONNECTIONS: '50',
    });
    expect(result.ok && result.serve).toMatchObject({
      drainDelay: 5000,
      shutdownGracePeriod: 20_000,
      headersTimeout: 2000,
      requestTimeout: 4000,
      keepAliveTimeout: 65_000,
      maxRequestsPerSocket: 0,
      maxConnections: 50,
    });
    expect(load({ ...VALID, MAX_CONNECTIONS: '50' }, { maxConnections: '7' })).toMatchObject({
      serve: { maxConnections: 7 },
    });
  });

  it('lets flags win over the environment', () => {
    const result = load(
      { ...VALID, PORT: '4000', BASE_PATH: '/v2', TRUST_PROXY: 'true' },
      { port: '5000', basePath: 'v1/', trustProxy: '2', redisUrl: 'redis://127.0.0.1:6380' },
    );
    expect(result.ok && result.serve).toMatchObject({
      port: 5000,
      redisUrl: 'redis://127.0.0.1:6380',
    });
    expect(result.ok && result.options).toMatchObject({ basePath: '/v1', trustProxy: 2 });
  });

  it('takes --redirect-uri repeated and comma-separated alike, dropping none', () => {
    const result = load(
      { ...VALID },
      { redirectUri: ['myapp://one,myapp://two', 'https://app.example.com/three'] },
    );
    expect(result.ok && result.mode === 'spotify' && result.options.redirectUris).toEqual([
      'myapp://one',
      'myapp://two',
      'https://app.example.com/three',
    ]);
    expect(problems(VALID, { redirectUri: ['myapp://a', 'myapp://a'] })).toEqual([
      '--redirect-uri entry 2 repeats an earlier entry',
    ]);
  });

  it('runs embedded (emulator, throw-away key) with no credentials outside production', () => {
    for (const NODE_ENV of [undefined, 'development', 'test', '']) {
      const result = load(NODE_ENV === undefined ? {} : { NODE_ENV });
      expect(result.ok && result.mode).toBe('embedded');
      expect(result.ok && 'encryptionKeys' in result.options).toBe(false);
    }
  });

  it('never runs embedded unless the caller allows it (the Worker does not)', () => {
    const result = loadTokenServerOptions({});
    expect(result.ok).toBe(false);
  });

  it.each(['prod', 'PRODUCTION', 'Production', 'staging'])(
    'a NODE_ENV of %s without credentials is refused, not taken for development',
    (NODE_ENV) => {
      const found = problems({ NODE_ENV });
      expect(found[0]).toMatch(new RegExp(`^NODE_ENV is "${NODE_ENV}": set NODE_ENV=production`));
      expect(found.map((p) => p.split(' ')[0])).toContain('SPOTIFY_CLIENT_ID');
    },
  );

  it('lists every setting it reads in SETTINGS (what serve --help prints)', () => {
    const names = SETTINGS.map((setting) => setting.env);
    for (const name of [
      'SPOTIFY_CLIENT_SECRET',
      'TOKEN_ENCRYPTION_KEYS',
      'RATE_LIMIT_WINDOW_S',
      'SHUTDOWN_GRACE_MS',
      'DRAIN_DELAY_MS',
      'MAX_CONNECTIONS',
      'NODE_ENV',
    ]) {
      expect(names).toContain(name);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('refuses to start in production without settings, one message per missing variable', () => {
    const found = problems({ NODE_ENV: 'production' });
    expect(found).toHaveLength(4);
    expect(found[0]).toMatch(/^SPOTIFY_CLIENT_ID is required/);
    expect(found[1]).toMatch(/^SPOTIFY_CLIENT_SECRET is required/);
    expect(found[2]).toMatch(/^SPOTIFY_REDIRECT_URI is required/);
    expect(found[3]).toMatch(/^TOKEN_ENCRYPTION_KEYS is required/);
  });

  it('a half-given configuration is an error even outside production', () => {
    const found = problems({ SPOTIFY_CLIENT_ID: 'x' });
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
    [{ BASE_PATH: '/v1/..' }, /^BASE_PATH must be a path.*no "\." or "\.\." segments/],
    [{ BASE_PATH: './v1' }, /^BASE_PATH must be a path/],
    [{ HOST: 'not a host' }, /^HOST must be an IP address/],
    [{ HOST: '1.2.3.4.5.6' }, /^HOST must be an IP address/],
    [{ HOST: '256.1.1.1' }, /^HOST must be an IP address/],
    [{ HOST: 'http://0.0.0.0' }, /^HOST must be an IP address/],
    [
      { SPOTIFY_REDIRECT_URI: 'myapp://cb,,myapp://other' },
      /^SPOTIFY_REDIRECT_URI entry 2 is empty/,
    ],
    [{ SPOTIFY_REDIRECT_URI: 'myapp://cb,' }, /^SPOTIFY_REDIRECT_URI entry 2 is empty/],
    [{ CORS_ORIGINS: 'https://a.example,' }, /^CORS_ORIGINS entry 2 is empty/],
    [{ MAX_CONNECTIONS: '0' }, /^MAX_CONNECTIONS must be a whole number from 1/],
    [{ DRAIN_DELAY_MS: 'soon' }, /^DRAIN_DELAY_MS must be a whole number/],
    [
      { HEADERS_TIMEOUT_MS: '9000', REQUEST_TIMEOUT_MS: '1000' },
      /^HEADERS_TIMEOUT_MS must not exceed/,
    ],
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
  ])('gives exactly one clear message for %o', (override, message) => {
    const found = problems({ ...VALID, ...override });
    expect(found).toHaveLength(1);
    expect(found[0]).toEqual(
      typeof message === 'string' ? message : expect.stringMatching(message),
    );
  });

  it('warns of a variable that is almost a setting, and refuses it in production', () => {
    const env = { ...VALID, TOKEN_ENCRYPTION_KEY: 'k1:not-shown', SPOTIFY_CLIENTID: 'x' };
    const development = load(env);
    expect(development.ok && development.warnings).toEqual([
      'TOKEN_ENCRYPTION_KEY is set but not read: did you mean TOKEN_ENCRYPTION_KEYS?',
      'SPOTIFY_CLIENTID is set but not read: did you mean SPOTIFY_CLIENT_ID?',
    ]);
    const embedded = load({ SPOTIFY_CLIENTID: 'x' });
    expect(embedded.ok && embedded.mode === 'embedded' && embedded.warnings).toEqual([
      'SPOTIFY_CLIENTID is set but not read: did you mean SPOTIFY_CLIENT_ID?',
    ]);
    expect(problems({ ...env, NODE_ENV: 'production' })).toEqual(
      development.ok ? development.warnings : [],
    );
    // With other problems, the near miss is likely their cause: it is listed with them.
    const missing = problems({ SPOTIFY_CLIENT_SECRET: SECRET, SPOTIFY_CLIENTID: 'x' });
    expect(missing[0]).toMatch(/^SPOTIFY_CLIENT_ID is required/);
    expect(missing.at(-1)).toBe(
      'SPOTIFY_CLIENTID is set but not read: did you mean SPOTIFY_CLIENT_ID?',
    );
    expect(missing.join('\n')).not.toContain('not-shown');
  });

  it('accepts host names and addresses for HOST', () => {
    for (const HOST of ['0.0.0.0', '::', '[::1]', 'localhost', 'tokens.internal', '10.0.0.7']) {
      const result = load({ ...VALID, HOST });
      expect(result.ok, HOST).toBe(true);
    }
    expect(load({ ...VALID, HOST: '[::1]' })).toMatchObject({ serve: { host: '::1' } });
  });

  it('names the flag when the flag gave the value', () => {
    expect(problems(VALID, { port: '99999' })).toEqual([
      '--port must be a whole number from 0 to 65535',
    ]);
    expect(problems(VALID, { basePath: '/a/./b' })[0]).toMatch(/^--base-path must be a path/);
  });

  it('never repeats a secret in a message', () => {
    const found = problems({
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

describe('the option resolvers share one check (ConfigurationError naming the option given)', () => {
  const base = {
    clientId: 'c',
    clientSecret: 's',
    redirectUris: ['myapp://cb'],
    logger: false as const,
  };
  it.each([
    [{ encryptionKeys: 'k1:short' }, 'encryptionKeys', /^encryptionKeys entry 1/],
    [{ encryptionKeys: `${KEY},` }, 'encryptionKeys', /^encryptionKeys entry 2 is empty/],
    [{ encryptionKeys: KEY, basePath: '/v1/..' }, 'basePath', /^basePath must be a path/],
    [{ encryptionKeys: KEY, trustProxy: -1 }, 'trustProxy', /trustProxy must be/],
    [{ encryptionKeys: KEY, clientId: ' ' }, 'clientId', /^clientId is required/],
  ])('createTokenServer(%o) throws for %s', (override, option, message) => {
    let thrown: unknown;
    try {
      createTokenServer({ ...base, ...override });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'ConfigurationError', option });
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('the documented configuration tables', () => {
  it.each(['README.md', 'docs/server.md'])(
    '%s has a row for every setting, with its flag',
    (file) => {
      const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      for (const setting of SETTINGS) {
        const row = text.split('\n').find((line) => line.startsWith(`| \`${setting.env}\` |`));
        expect(row, `${file}: ${setting.env}`).toBeDefined();
        if (setting.flag !== undefined) expect(row).toContain(`\`${setting.flag}\``);
        if (setting.default !== undefined && !setting.default.startsWith('https:')) {
          expect(row, `${file}: ${setting.env} default`).toContain(`\`${setting.default}\``);
        }
      }
    },
  );
});
