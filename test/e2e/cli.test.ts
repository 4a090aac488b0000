import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = 'dist/cli/bin.js';

/** The compiled CLI's exit code, stdout and stderr (npm test builds before vitest). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('spotify-session (the bin)', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const result = await cli('--version');
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('--help lists every command', async () => {
    const result = await cli('--help');
    expect(result.code).toBe(0);
    for (const command of [
      'serve',
      'emulator',
      'keys',
      'login',
      'token',
      'api',
      'whoami',
      'logout',
    ])
      expect(result.stdout).toContain(command);
  });

  it('an unknown command exits 2 and says what went wrong', async () => {
    const result = await cli('swap-tokens');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'swap-tokens'/);
  });
});
