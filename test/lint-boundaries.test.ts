/**
 * The boundaries between the parts (docs/architecture.md, "Boundaries") are Biome's
 * `noRestrictedImports` overrides in biome.json. This lints probe files, written into a
 * temporary copy of the layout with the repository's biome.json, and checks that a reach
 * into another part's `_` file and an import against the arrows fail the lint, and that the
 * allowed routes (a part's index.ts or internal.ts, its own `_` files) pass.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../scripts/pack.mjs';

const BIOME = join(REPO_ROOT, 'node_modules/.bin/biome');

/** [file, import specifier, fails?] */
const PROBES: readonly (readonly [file: string, specifier: string, fails: boolean])[] = [
  // Another part's `_` files: never, from any part.
  ['src/api/probe.ts', '../core/_http.js', true],
  ['src/api/errors/probe.ts', '../../core/_http.js', true],
  ['src/server/probe.ts', '../core/_token-request-replay.js', true],
  ['src/cli/probe.ts', '../api/_operations.js', true],
  ['src/cli/probe-generated.ts', '../api/_generated/types.js', true],
  ['src/cli/probe-node-adapter.ts', '../server/node/_upstream.js', true],
  ['src/cli/probe-listen.ts', '../node/_listen.js', true],
  ['src/emulator/probe.ts', '../node/_listen.js', true],
  ['src/server/node/probe.ts', '../../node/_stdio.js', true],
  // Against the arrows.
  ['src/core/probe.ts', '../api/index.js', true],
  ['src/core/probe-stores.ts', '../stores/memory.js', true],
  ['src/api/probe-stores.ts', '../stores/memory.js', true],
  ['src/api/probe-server.ts', '../server/index.js', true],
  ['src/stores/probe.ts', '../api/index.js', true],
  ['src/browser/probe.ts', '../stores/browser.js', true],
  ['src/server/probe-node.ts', '../node/internal.js', true],
  ['src/emulator/probe-core.ts', '../core/index.js', true],
  ['src/emulator/probe-server.ts', '../server/index.js', true],
  ['src/node/probe.ts', '../core/index.js', true],
  // Allowed: entry points, internal.ts, a part's own `_` files, tests wiring parts together.
  ['src/api/probe-internal.ts', '../core/internal.js', false],
  ['src/api/probe-index.ts', '../core/index.js', false],
  ['src/core/probe-own.ts', './_http.js', false],
  ['src/core/errors/probe-own.ts', '../_assert.js', false],
  ['src/server/node/probe-own.ts', '../_body.js', false],
  ['src/server/node/probe-listen.ts', '../../node/internal.js', false],
  ['src/cli/probe-api.ts', '../api/internal.js', false],
  ['src/cli/probe-server.ts', '../server/keyring.js', false],
  ['src/emulator/probe-node.ts', '../node/internal.js', false],
  ['src/emulator/_webapi/probe-own.ts', '../_state.js', false],
  ['src/api/probe.test.ts', '../stores/memory.js', false],
];

interface Diagnostic {
  category: string;
  message: string;
  location: { path: string };
}

let root: string;
let diagnostics: Diagnostic[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'spotify-session-lint-'));
  await copyFile(join(REPO_ROOT, 'biome.json'), join(root, 'biome.json'));
  for (const [file, specifier] of PROBES) {
    await mkdir(join(root, dirname(file)), { recursive: true });
    await writeFile(
      join(root, file),
      `import { probe } from '${specifier}';\n\nexport const value = probe;\n`,
    );
  }
  // Biome exits 1 when it finds errors; the JSON report says which.
  const { stdout } = await promisify(execFile)(
    BIOME,
    ['lint', '--vcs-enabled=false', '--reporter=json', '--max-diagnostics=none', '.'],
    { cwd: root },
  ).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
  diagnostics = (JSON.parse(stdout) as { diagnostics: Diagnostic[] }).diagnostics;
}, 60_000);

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('lint: boundaries between the parts', () => {
  it.each(PROBES)('%s importing %s fails the lint: %s', (file, _specifier, fails) => {
    const found = diagnostics.filter((diagnostic) => diagnostic.location.path === file);
    if (fails) {
      expect(found.map((diagnostic) => diagnostic.category)).toEqual([
        'lint/style/noRestrictedImports',
      ]);
      expect(found[0]?.message).toMatch(/must not import/);
    } else {
      expect(found).toEqual([]);
    }
  });

  it('names the fix: internal.ts for a `_` file, the arrows otherwise', () => {
    const message = (file: string) =>
      diagnostics.find((diagnostic) => diagnostic.location.path === file)?.message;
    expect(message('src/api/probe.ts')).toBe(
      'api must not import another part\'s _-prefixed files: import what that part shares from its index.ts or internal.ts (CONTRIBUTING.md, "Boundaries")',
    );
    expect(message('src/emulator/probe-core.ts')).toBe(
      'emulator must not import core, api, stores, server, browser, cli: dependencies point one way (docs/architecture.md, "Direction of dependencies")',
    );
  });
});
