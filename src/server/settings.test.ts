import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  SETTINGS_TABLE_FILES,
  settingsTable,
  TABLE_END,
  TABLE_START,
} from '../../scripts/settings-table.mjs';
import { Keyring } from './keyring.js';
import { loadTokenServerOptions, type TokenServerFlags } from './load-options.js';
import { serveTokenServer } from './node/index.js';
import {
  checkSetting,
  flagKey,
  resolveSetting,
  SETTING_ROWS,
  SETTINGS,
  type Setting,
  TOKEN_SERVER_SETTINGS,
} from './settings.js';
import { createTokenServer } from './token-server.js';

const KEY = Keyring.generateKeyString();
const ENV = {
  SPOTIFY_CLIENT_ID: 'my-client',
  SPOTIFY_CLIENT_SECRET: 'my-secret',
  SPOTIFY_REDIRECT_URI: 'myapp://callback',
  TOKEN_ENCRYPTION_KEYS: KEY,
};
const OPTIONS = {
  clientId: 'my-client',
  clientSecret: 'my-secret',
  redirectUris: ['myapp://callback'],
  encryptionKeys: KEY,
  logger: false as const,
};

/** Rows whose rule is a whole number from `min` to `max`, with those bounds. */
const WHOLE_NUMBER_ROWS = SETTING_ROWS.flatMap((row) => {
  const match = /^(\d+)–(\d+)$/.exec(row.rule?.values ?? '');
  return match === null ? [] : [{ row, min: Number(match[1]), max: Number(match[2]) }];
});

describe('the settings table', () => {
  it('is the configuration table of README.md and docs/server.md (npm run docs:settings)', () => {
    const table = settingsTable(SETTINGS);
    for (const file of SETTINGS_TABLE_FILES) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      const start = text.indexOf(TABLE_START);
      const end = text.indexOf(TABLE_END);
      expect(start, `${file} has the table's markers`).toBeGreaterThan(0);
      expect(
        text.slice(start + TABLE_START.length, end).trim(),
        `${file}: run \`npm run docs:settings\` and commit the result`,
      ).toBe(table);
    }
  });

  it('has a default every rule accepts, as a value and as the text the docs show', () => {
    for (const row of SETTING_ROWS) {
      if (row.default === undefined || row.rule === undefined) continue;
      expect(checkSetting(row, row.default, row.env, 'value'), row.env).toEqual({
        ok: true,
        value: row.default,
      });
      const shown = SETTINGS.find((setting) => setting.env === row.env)?.default;
      if (shown === undefined || shown === "''") continue;
      expect(checkSetting(row, shown, row.env, 'text'), row.env).toEqual({
        ok: true,
        value: row.default,
      });
    }
  });

  it('names one flag per TokenServerFlags key, and every key is a flag', () => {
    const keys = {
      clientId: true,
      redirectUri: true,
      accountsUrl: true,
      host: true,
      port: true,
      basePath: true,
      redisUrl: true,
      corsOrigins: true,
      trustProxy: true,
      logLevel: true,
      rateLimitIp: true,
      rateLimitToken: true,
      upstreamTimeoutMs: true,
      maxConnections: true,
    } satisfies Record<keyof TokenServerFlags, true>;
    const flags = SETTING_ROWS.flatMap((row) =>
      row.flag === undefined ? [] : [flagKey(row.flag)],
    );
    expect(flags.sort()).toEqual(Object.keys(keys).sort());
  });

  it('has unique variables and options, and no flag for a secret', () => {
    const envs = SETTING_ROWS.map((row) => row.env);
    expect(new Set(envs).size).toBe(envs.length);
    const options = SETTING_ROWS.flatMap((row) => (row.option === undefined ? [] : [row.option]));
    expect(new Set(options).size).toBe(options.length);
    expect(TOKEN_SERVER_SETTINGS.clientSecret.flag).toBeUndefined();
    expect(TOKEN_SERVER_SETTINGS.encryptionKeys.flag).toBeUndefined();
  });
});

describe('one bound per setting, in the environment and in code', () => {
  it.each(WHOLE_NUMBER_ROWS.map(({ row, min, max }) => [row.env, row, min, max] as const))(
    '%s: the same whole-number bounds and message for the variable and the option',
    (env, row, min, max) => {
      const option = row.option as string;
      for (const [value, ok] of [
        [min - 1, false],
        [min, true],
        [max, true],
        [max + 1, false],
        [min + 0.5, false],
      ] as const) {
        const text = checkSetting(row as Setting<number>, String(value), env, 'text');
        const code = checkSetting(row as Setting<number>, value, option, 'value');
        expect([text.ok, code.ok], `${env}=${value}`).toEqual([ok, ok]);
        if (!text.ok && !code.ok) {
          expect(text.problems.map((p) => p.message)).toEqual([
            `${env} must be a whole number from ${min} to ${max}`,
          ]);
          expect(code.problems.map((p) => p.message)).toEqual([
            `${option} must be a whole number from ${min} to ${max}`,
          ]);
        }
      }
    },
  );

  it('the upstream timeout: UPSTREAM_TIMEOUT_MS and createTokenServer refuse 120001 alike', () => {
    const loaded = loadTokenServerOptions({ ...ENV, UPSTREAM_TIMEOUT_MS: '120001' });
    expect(loaded.ok || loaded.problems).toEqual([
      'UPSTREAM_TIMEOUT_MS must be a whole number from 1 to 120000',
    ]);
    expect(() => createTokenServer({ ...OPTIONS, upstreamTimeout: 120_001 })).toThrow(
      expect.objectContaining({
        option: 'upstreamTimeout',
        message: 'upstreamTimeout must be a whole number from 1 to 120000',
      }),
    );
    expect(() => createTokenServer({ ...OPTIONS, upstreamTimeout: 1.5 })).toThrow(
      expect.objectContaining({ option: 'upstreamTimeout' }),
    );
  });

  it('rate limits, trustProxy and refreshTokenMaxAge: the variables’ bounds hold in code', () => {
    for (const [options, option] of [
      [{ rateLimit: { ip: 1_000_001 } }, 'rateLimit.ip'],
      [{ rateLimit: { window: 0 } }, 'rateLimit.window'],
      [{ trustProxy: 100 }, 'trustProxy'],
      [{ refreshTokenMaxAge: 15_552_001 }, 'refreshTokenMaxAge'],
      [{ corsOrigins: ['https://app.example/path'] }, 'corsOrigins[0]'],
      [{ redirectUris: ['myapp://a', 'myapp://a'] }, 'redirectUris[1]'],
    ] as const) {
      expect(() => createTokenServer({ ...OPTIONS, ...options }), option).toThrow(
        expect.objectContaining({ name: 'ConfigurationError', option }),
      );
    }
  });

  it('the Node listener: serveTokenServer refuses what the variables refuse, naming the option', async () => {
    for (const [options, message] of [
      [{ keepAliveTimeout: 600_001 }, 'keepAliveTimeout must be a whole number from 0 to 600000'],
      [{ port: 65_536 }, 'port must be a whole number from 0 to 65535'],
      [{ host: 'not a host' }, /^host must be an IP address/],
      [{ redisUrl: 'http://x' }, /^redisUrl must look like redis:\/\//],
      [
        { redisCommandTimeout: 10_001 },
        'redisCommandTimeout must be a whole number from 1 to 10000',
      ],
    ] as const) {
      await expect(serveTokenServer({ ...OPTIONS, port: 0, ...options })).rejects.toThrow(message);
    }
  });

  it('resolveSetting gives the default for an option not given, and checks a given one', () => {
    expect(resolveSetting(TOKEN_SERVER_SETTINGS.port, undefined, 'port')).toBe(3000);
    expect(resolveSetting(TOKEN_SERVER_SETTINGS.trustProxy, true, 'trustProxy')).toBe(1);
    expect(resolveSetting(TOKEN_SERVER_SETTINGS.basePath, 'v1/', 'basePath')).toBe('/v1');
    expect(resolveSetting(TOKEN_SERVER_SETTINGS.host, '[::1]', 'host')).toBe('::1');
  });
});
