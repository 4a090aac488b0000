import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/server/keyring.js';

/** The built CLI (`npm test` builds before vitest runs). */
const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const childEnv = { ...process.env, ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete childEnv[name];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: childEnv }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('spotify-session keys', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  });

  it('generate prints one key line the server can parse, and the hint on stderr', async () => {
    const { code, stdout, stderr } = await run(['keys', 'generate']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^k\d{8}[0-9a-f]{6}:[A-Za-z0-9_-]{43}\n$/);
    const line = stdout.trim();
    const keyring = await Keyring.parse(line);
    expect(keyring.keyIds).toEqual([line.split(':')[0]]);
    expect(stderr).toContain('TOKEN_ENCRYPTION_KEYS');
    expect(stderr).toMatch(/first/i);
    // The hint never repeats the secret.
    expect(stderr).not.toContain(line.split(':')[1]);
  });

  it('generate gives a different key every time', async () => {
    const [a, b] = await Promise.all([run(['keys', 'generate']), run(['keys', 'generate'])]);
    expect(a.stdout).not.toBe(b.stdout);
    // Prepending the new key to the old one is a valid rotated value.
    const rotated = await Keyring.parse(`${b.stdout.trim()},${a.stdout.trim()}`);
    expect(rotated.activeKeyId).toBe(b.stdout.split(':')[0]);
  });

  it('check accepts a valid TOKEN_ENCRYPTION_KEYS and prints ids, never secrets', async () => {
    const keys = [Keyring.generateKeyString(), Keyring.generateKeyString()];
    const { code, stdout, stderr } = await run(['keys', 'check'], {
      TOKEN_ENCRYPTION_KEYS: keys.join(','),
    });
    expect(code).toBe(0);
    const [activeId, activeSecret] = keys[0]!.split(':');
    const [oldId, oldSecret] = keys[1]!.split(':');
    expect(stdout).toContain(`seals with "${activeId}"`);
    expect(stdout).toContain(`"${oldId}"`);
    for (const secret of [activeSecret!, oldSecret!]) {
      expect(stdout + stderr).not.toContain(secret);
    }
  });

  it('check refuses a bad value with exit code 2, naming the entry but not the secret', async () => {
    const good = Keyring.generateKeyString();
    const shortSecret = 'c2hvcnQtc2VjcmV0LXRoYXQtaXMtbm90LTMy';
    const { code, stdout, stderr } = await run(['keys', 'check'], {
      TOKEN_ENCRYPTION_KEYS: `${good},kold:${shortSecret}`,
    });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('entry 2 (kid "kold")');
    expect(stderr).not.toContain(shortSecret);
    expect(stderr).not.toContain(good.split(':')[1]);
  });

  it('check explains a missing TOKEN_ENCRYPTION_KEYS', async () => {
    const { code, stderr } = await run(['keys', 'check'], { TOKEN_ENCRYPTION_KEYS: undefined });
    expect(code).toBe(2);
    expect(stderr).toContain('TOKEN_ENCRYPTION_KEYS is not set');
  });
});
